"""``smtpcheck probe ... --oauth microsoft|google``: sign in, one XOAUTH2 AUTH, no secret shown.

Runs the probe command's coroutine in the test's loop, next to the fake identity
provider and the XOAUTH2 server (settings are built here: the loopback identity
provider is reachable only through the test-only ``insecure_loopback``).
"""

from __future__ import annotations

import asyncio
import io
import ipaddress
import json
import logging
import re
import sys

import aiohttp
import pytest

from bot.cli import build_parser
from bot.cli import probe as cli_probe
from bot.config import Settings
from bot.logs import install_redaction
from tests.support.oauth import USER_CODE, identity_provider, leaked, xoauth2_server
from tests.support.smtp_server import USER, Certs, make_certs


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("cli-oauth-certs"))


def settings_for(port: int, certs: Certs, oauth: object) -> Settings:
    return Settings(
        allow_networks=(ipaddress.ip_network("127.0.0.0/8"),),
        allowed_ports=frozenset({587, port}),
        ca_file=certs.ca_file,
        oauth=oauth,  # type: ignore[arg-type]
    )


async def run_cli(settings: Settings, *argv: str) -> int:
    args = build_parser().parse_args(["probe", *argv])
    return await cli_probe.run(args, settings)


class Browser(io.StringIO):
    """stderr that opens the Google sign-in link it is shown, as a user would."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        super().__init__()
        self._session = session
        self.visits: list[asyncio.Task[int]] = []

    def write(self, text: str) -> int:
        for url in re.findall(r"http://127\.0\.0\.1:\d+/google/auth\?\S+", text):
            self.visits.append(asyncio.get_running_loop().create_task(self._visit(url)))
        return super().write(text)

    async def _visit(self, url: str) -> int:
        async with self._session.get(url) as response:
            return response.status


async def test_microsoft_device_code_then_authenticated(
    certs: Certs, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """The code and link go to stderr, the report to stdout; exit 0; no secret anywhere."""
    install_redaction()
    caplog.set_level(logging.DEBUG)
    async with identity_provider() as idp, xoauth2_server(certs.good) as smtp:
        settings = settings_for(smtp.port, certs, idp.settings())
        code = await run_cli(
            settings, "127.0.0.1", "--port", str(smtp.port), "--user", USER, "--oauth", "microsoft"
        )
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert USER_CODE in err and "https://microsoft.com/devicelogin" in err
    assert "Verdict: AUTHENTICATED" in out and "XOAUTH2 accepted" in out
    assert smtp.handler.attempts == 1
    assert leaked(out + err + caplog.text) == []


async def test_google_loopback_then_authenticated_json(
    certs: Certs, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The browser follows the printed link back to 127.0.0.1; JSON output says authenticated."""
    async with (
        identity_provider() as idp,
        xoauth2_server(certs.good) as smtp,
        aiohttp.ClientSession() as session,
    ):
        browser = Browser(session)
        monkeypatch.setattr(sys, "stderr", browser)
        settings = settings_for(smtp.port, certs, idp.settings())
        argv = ("127.0.0.1", "--port", str(smtp.port), "--user", USER, "--oauth", "google")
        code = await run_cli(settings, *argv, "--json")
        assert [await visit for visit in browser.visits] == [200]
    out = capsys.readouterr().out
    assert code == 0
    assert json.loads(out)["outcome"] == "authenticated"
    assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A" in browser.getvalue()
    assert leaked(out + browser.getvalue()) == []


async def test_denied_sign_in_exit_1_with_explanation(
    certs: Certs, capsys: pytest.CaptureFixture[str]
) -> None:
    """access_denied: no probe at all, exit 1, JSON names the problem and articles."""
    async with (
        identity_provider(polls=["access_denied"]) as idp,
        xoauth2_server(certs.good) as smtp,
    ):
        settings = settings_for(smtp.port, certs, idp.settings())
        argv = ("127.0.0.1", "--port", str(smtp.port), "--user", USER, "--oauth", "microsoft")
        code = await run_cli(settings, *argv, "--json")
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    assert out["outcome"] == "sign_in_failed" and out["sign_in"]["problem"] == "denied"
    assert out["diagnosis"]["articles"] == ["oauth-modern-auth"]
    assert smtp.handler.attempts == 0


async def test_conditional_access_is_explained(
    certs: Certs, capsys: pytest.CaptureFixture[str]
) -> None:
    """AADSTS53003 in the provider's answer: the human output names Conditional Access."""
    async with identity_provider(
        polls=["invalid_grant"], description="AADSTS53003: Access has been blocked."
    ) as idp:
        settings = settings_for(587, certs, idp.settings())
        code = await run_cli(settings, "127.0.0.1", "--user", USER, "--oauth", "microsoft")
    out = capsys.readouterr().out
    assert code == 1
    assert "AADSTS53003" in out and "Conditional Access" in out
    assert "oauth-conditional-access" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ((), "needs --user"),
        (("--user", USER, "--password-stdin"), "takes no password"),
        (("--user", USER, "--mechanism", "plain"), "always uses --mechanism xoauth2"),
        (("--user", USER, "--port", "99999"), "port"),
    ],
)
async def test_bad_oauth_input_exit_2_before_any_sign_in(
    certs: Certs, capsys: pytest.CaptureFixture[str], extra: tuple[str, ...], message: str
) -> None:
    """Bad combinations are refused with one line, before the identity provider is asked."""
    async with identity_provider() as idp:
        settings = settings_for(587, certs, idp.settings())
        code = await run_cli(settings, "127.0.0.1", "--oauth", "microsoft", *extra)
        assert idp.polled == []
    assert code == 2
    assert message in capsys.readouterr().err


async def test_without_client_settings_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """No SMTPCHECK_MS_CLIENT_ID: a clear line pointing at the README, exit 2."""
    code = await run_cli(Settings(), "smtp.office365.com", "--user", USER, "--oauth", "microsoft")
    assert code == 2
    assert "SMTPCHECK_MS_CLIENT_ID" in capsys.readouterr().err
