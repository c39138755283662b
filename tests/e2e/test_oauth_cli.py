"""End to end: ``smtpcheck probe --oauth microsoft`` as a real process, configured only by
the environment, against an https fake identity provider and an XOAUTH2 aiosmtpd server.

No test-only switch here: the identity provider is https (trusted through SSL_CERT_FILE,
as a private CA would be), so this is the production configuration path.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from tests.support.oauth import MS_CLIENT_ID, USER_CODE, identity_provider, leaked, xoauth2_server
from tests.support.smtp_server import USER, Certs, make_certs

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("e2e-oauth-certs"))


async def run_smtpcheck(env: dict[str, str], *argv: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        *argv,
        env=env,
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def environment(certs: Certs, authority: str, port: int) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO),
        "SSL_CERT_FILE": str(certs.ca_file),
        "SMTPCHECK_MS_CLIENT_ID": MS_CLIENT_ID,
        "SMTPCHECK_MS_AUTHORITY": authority,
        "SMTPCHECK_ALLOW_NETWORKS": "127.0.0.0/8",
        "SMTPCHECK_ALLOWED_PORTS": str(port),
        "SMTPCHECK_CA_FILE": str(certs.ca_file),
        "LOG_LEVEL": "DEBUG",
    }


async def test_device_code_sign_in_from_the_environment(certs: Certs) -> None:
    """Exit 0; the code on stderr; one XOAUTH2 AUTH; no secret in stdout or DEBUG stderr."""
    async with (
        identity_provider(certs.good, polls=["authorization_pending", "token"]) as idp,
        xoauth2_server(certs.good) as smtp,
    ):
        assert idp.base_url.startswith("https://")
        env = environment(certs, idp.base_url, smtp.port)
        argv = ("probe", "127.0.0.1", "--port", str(smtp.port), "--user", USER)
        code, out, err = await run_smtpcheck(env, *argv, "--oauth", "microsoft")
    assert code == 0, out + err
    assert USER_CODE in err and "Verdict: AUTHENTICATED" in out
    assert smtp.handler.accepted == 1
    assert leaked(out + err) == []


async def test_http_identity_provider_is_refused_at_start(certs: Certs) -> None:
    """SMTPCHECK_MS_AUTHORITY=http://127.0.0.1:... stops with one configuration line, exit 2."""
    async with identity_provider() as idp:
        env = environment(certs, idp.base_url, 587)
        code, _, err = await run_smtpcheck(
            env, "probe", "127.0.0.1", "--user", USER, "--oauth", "microsoft"
        )
    assert code == 2
    assert "SMTPCHECK_MS_AUTHORITY: must be an https:// URL" in err
    assert idp.polled == []
