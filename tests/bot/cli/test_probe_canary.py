"""The real ``smtpcheck probe`` process on each failure path of issue 13, with a canary
password on stdin and DEBUG logs on: the canary (or its base64 forms) is in neither the
human output, the ``--json`` document (with its transcript), nor stderr and the logs."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

from tests.support.smtp_server import USER, Certs, Script, fault_server, make_certs, smtp_server

REPO = Path(__file__).resolve().parents[3]
CANARY = "Canary-cli-i13-5e77b2-Pw"
FORMS = (
    CANARY,
    base64.b64encode(CANARY.encode()).decode(),
    base64.b64encode(f"\0{USER}\0{CANARY}".encode()).decode(),
)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("canary-certs"))


def _servers(certs: Certs) -> dict[str, Callable[[], AbstractAsyncContextManager[Any]]]:
    return {
        "unanswered-auth": lambda: fault_server(Script(tls=certs.good, answer_auth=False)),
        "starttls-to-implicit": lambda: smtp_server(tls="implicit", context=certs.good),
        "tls-to-plain-only": lambda: smtp_server(tls="none", auth_in_clear=True),
        "unoffered-mechanism": lambda: smtp_server(context=certs.good, mechanisms=("PLAIN",)),
        "rejected": lambda: smtp_server(context=certs.good),
    }


# (extra arguments, exit code, what the JSON outcome must be)
CASES: dict[str, tuple[list[str], int, str]] = {
    "unanswered-auth": ([], 3, "timeout"),
    "starttls-to-implicit": (["--security", "starttls"], 3, "tls_error"),
    "tls-to-plain-only": (["--security", "tls"], 3, "tls_error"),
    "unoffered-mechanism": (["--mechanism", "cram-md5"], 3, "protocol_error"),
    "rejected": ([], 1, "auth_rejected"),
}


async def _run(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args, env=env, cwd=REPO,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate((CANARY + "\n").encode()), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def _env(certs: Certs, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMTPCHECK_", "LOG_"))}
    env.update(
        PYTHONPATH=str(REPO),
        SMTPCHECK_ALLOW_NETWORKS="127.0.0.0/8",
        SMTPCHECK_ALLOWED_PORTS=str(port),
        SMTPCHECK_CA_FILE=str(certs.ca_file),
        LOG_LEVEL="DEBUG",
        PYTHONIOENCODING="utf-8",
    )
    return env


def _assert_clean(*texts: str) -> None:
    for text in texts:
        for form in FORMS:
            assert form not in text


@pytest.mark.parametrize("as_json", [False, True])
@pytest.mark.parametrize("case", list(CASES))
async def test_canary_absent_on_each_failure_path(certs: Certs, case: str, as_json: bool) -> None:
    extra, exit_code, outcome = CASES[case]
    async with _servers(certs)[case]() as server:
        args = ["probe", "127.0.0.1", "--port", str(server.port), "--user", USER,
                "--password-stdin", "--timeout", "3", *extra]  # fmt: skip
        args += ["--json"] if as_json else []
        code, out, err = await _run(args, _env(certs, server.port))
    assert code == exit_code, err
    _assert_clean(out, err)
    if as_json:
        data = json.loads(out)
        assert data["outcome"] == outcome
        assert data["transcript"]  # the transcript is there, and clean
        # what a script needs to back off: the server may have counted this login
        assert data["possible_failed_attempt"] is (case in ("unanswered-auth", "rejected"))
    else:
        assert "Verdict:" in out


async def test_canary_absent_from_a_policy_refusal_and_a_bad_ca_file(
    certs: Certs, tmp_path: Path
) -> None:
    """The two exit-2 paths with a password waiting on stdin: nothing of it is printed."""
    env = _env(certs, 587)
    del env["SMTPCHECK_ALLOW_NETWORKS"]
    code, out, err = await _run(
        ["probe", "10.1.2.3", "--user", USER, "--password-stdin", "--json"], env
    )
    assert code == 2 and json.loads(out)["outcome"] == "policy_refused"
    assert "SMTPCHECK_ALLOW_NETWORKS=10.1.2.3/32" in err
    _assert_clean(out, err)
    bad = tmp_path / "bad.pem"
    bad.write_bytes(b"not a certificate")
    code, out, err = await _run(
        ["probe", "127.0.0.1", "--port", "587", "--user", USER, "--password-stdin",
         "--ca-file", str(bad), "--json"], env,
    )  # fmt: skip
    assert code == 2 and json.loads(out)["error"]["field"] == "ca-file"
    _assert_clean(out, err)
