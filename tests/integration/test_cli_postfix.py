"""``python -m bot.cli probe`` against the real Postfix + Dovecot server: exit codes, JSON,
and the password never in its output."""

from __future__ import annotations

import asyncio
import json
import secrets
import sys
from typing import Any

import pytest

from tests.integration.server import LogWatch, MailServer

pytestmark = pytest.mark.integration

TIMEOUT = 60.0  # whole CLI run, interpreter start included; the probe's own deadline is 30 s


async def run_cli(
    server: MailServer, *, port: int, user: str, password: str, security: str
) -> tuple[int, str, str]:
    """Run the CLI with the password on stdin; return (exit code, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "probe", server.host,
        "--port", str(port), "--security", security, "--user", user,
        "--password-stdin", "--ca-file", str(server.ca_file), "--json",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**server.environ(), "LOG_LEVEL": "DEBUG"},  # the most talkative must leak nothing
    )  # fmt: skip
    out, err = await asyncio.wait_for(
        process.communicate(f"{password}\n".encode()), timeout=TIMEOUT
    )
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def parse(stdout: str) -> dict[str, Any]:
    data = json.loads(stdout)
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("service", ["submission", "smtps"])
async def test_cli_right_password_exits_0(
    mail_server: MailServer, auth_log: LogWatch, service: str
) -> None:
    """The right password: exit 0 and JSON outcome "authenticated" after one AUTH."""
    port, security = mail_server.service(service)
    user = mail_server.new_user()
    code, out, err = await run_cli(
        mail_server, port=port, user=user, password=mail_server.password, security=security
    )
    assert code == 0, err
    report = parse(out)
    assert report["outcome"] == "authenticated"
    assert report["steps"][-1]["stage"] == "auth"  # QUIT follows after the verdict
    assert mail_server.password not in out + err
    assert await auth_log.count(mail_server.auth_mark_for(user), expected=1) == 1


async def test_cli_wrong_password_exits_1_without_echoing_it(
    mail_server: MailServer, auth_log: LogWatch
) -> None:
    """A wrong canary password: exit 1, JSON auth_rejected with the 535, canary not in output."""
    user, password = mail_server.new_user(), f"canary-{secrets.token_hex(8)}"
    code, out, err = await run_cli(
        mail_server, port=mail_server.submission_port, user=user, password=password, security="auto"
    )
    assert code == 1, err
    report = parse(out)
    assert report["outcome"] == "auth_rejected"
    auth = next(step for step in report["steps"] if step["stage"] == "auth")
    assert auth["reply"]["code"] == 535
    assert "diagnosis" in report and report["diagnosis"]["summary"]
    assert password not in out
    assert password not in err  # LOG_LEVEL=DEBUG included
    assert await auth_log.count(mail_server.auth_mark_for(user), expected=1) == 1
