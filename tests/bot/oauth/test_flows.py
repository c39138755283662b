"""Sign-ins end to end: fake identity provider over HTTP, then one XOAUTH2 AUTH on aiosmtpd."""

from __future__ import annotations

import ipaddress
import json
import logging
from pathlib import Path

import aiohttp
import pytest

from bot.config import Settings
from bot.logs import install_redaction
from bot.oauth.client import IdentityProvider
from bot.oauth.device import DeviceAuthorization
from bot.oauth.errors import Problem, SignInFailed
from bot.oauth.flows import CodeSignIn, device_sign_in
from bot.oauth.loopback import LoopbackRedirect
from bot.probe import Collaborators, Finding, Outcome, ProbeReport, build_request, run_probe
from bot.secret import Secret
from tests.support.oauth import (
    TOKEN,
    USER_CODE,
    FakeIdentityProvider,
    identity_provider,
    leaked,
    xoauth2_server,
)
from tests.support.smtp_server import USER, Certs, make_certs


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


class Clock:
    """A clock that moves only when the flow sleeps: the schedule, without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


async def sign_in_with_device(idp: FakeIdentityProvider, clock: Clock) -> Secret:
    shown: list[DeviceAuthorization] = []

    async def show(authorization: DeviceAuthorization) -> None:
        shown.append(authorization)

    async with aiohttp.ClientSession() as session:
        client = IdentityProvider(idp.settings(), session)
        try:
            return await device_sign_in(client, show=show, sleep=clock.sleep, clock=clock)
        finally:
            assert [a.user_code for a in shown] in ([], [USER_CODE])  # shown once, if at all


async def probe_with(token: Secret, port: int, ca_file: Path) -> ProbeReport:
    settings = Settings(
        allow_networks=(ipaddress.ip_network("127.0.0.0/8"),),
        allowed_ports=frozenset({port}),
    )
    request = build_request(
        host="127.0.0.1",
        port=port,
        mechanism="xoauth2",
        username=USER,
        password=token,
        allowed_ports=settings.allowed_ports,
    )
    collaborators = Collaborators.from_settings(settings, ca_files=[ca_file])
    return await run_probe(request, collaborators=collaborators, deadline=10.0)


async def test_device_sign_in_then_one_xoauth2_auth(
    certs: Certs, caplog: pytest.LogCaptureFixture
) -> None:
    """Pending, then a token: one XOAUTH2 AUTH is accepted; no secret in report or logs."""
    install_redaction()
    caplog.set_level(logging.DEBUG)
    async with (
        identity_provider(polls=["authorization_pending", "token"], interval=5) as idp,
        xoauth2_server(certs.good) as smtp,
    ):
        clock = Clock()
        token = await sign_in_with_device(idp, clock)
        report = await probe_with(token, smtp.port, certs.ca_file)
    assert clock.waits == [5.0, 5.0]
    assert idp.polled == ["authorization_pending", "token"]
    assert report.outcome is Outcome.AUTHENTICATED
    assert (smtp.handler.attempts, smtp.handler.accepted) == (1, 1)
    text = "\n".join([json.dumps(report.as_dict()), *report.transcript, caplog.text])
    assert "AUTH XOAUTH2 [credentials removed]" in "\n".join(report.transcript)
    assert leaked(text) == []


async def test_slow_down_stretches_the_interval() -> None:
    """Each slow_down adds 5 s to every later wait."""
    polls = ["authorization_pending", "slow_down", "authorization_pending", "slow_down", "token"]
    async with identity_provider(polls=polls, interval=2) as idp:
        clock = Clock()
        token = await sign_in_with_device(idp, clock)
    assert token.reveal() == TOKEN
    assert clock.waits == [2.0, 2.0, 7.0, 7.0, 12.0]


async def test_expired_code_stops_polling() -> None:
    """Never signed in: polling stops before expires_in runs out, as expired."""
    async with identity_provider(polls=["authorization_pending"], interval=5, expires_in=60) as idp:
        clock = Clock()
        with pytest.raises(SignInFailed) as caught:
            await sign_in_with_device(idp, clock)
    assert caught.value.problem is Problem.EXPIRED
    assert sum(clock.waits) < 60 and len(idp.polled) == len(clock.waits) == 11


async def test_expired_token_answer() -> None:
    """The provider's own expired_token ends the sign-in as expired."""
    async with identity_provider(polls=["expired_token"]) as idp:
        with pytest.raises(SignInFailed) as caught:
            await sign_in_with_device(idp, Clock())
    assert caught.value.problem is Problem.EXPIRED


async def test_denied_consent() -> None:
    """access_denied (the user declined) ends the sign-in: no token, no probe."""
    async with identity_provider(polls=["authorization_pending", "access_denied"]) as idp:
        with pytest.raises(SignInFailed) as caught:
            await sign_in_with_device(idp, Clock())
    assert caught.value.problem is Problem.DENIED


async def test_admin_consent_needed() -> None:
    """invalid_grant with AADSTS90094: explained as admin consent, with its article."""
    async with identity_provider(
        polls=["invalid_grant"], description="AADSTS90094: Admin consent required."
    ) as idp:
        with pytest.raises(SignInFailed) as caught:
            await sign_in_with_device(idp, Clock())
    assert caught.value.problem is Problem.ADMIN_CONSENT
    assert caught.value.articles[0] == "oauth-admin-consent"


async def test_unreachable_identity_provider() -> None:
    """Nothing listening: unreachable, and the URL is not in the message."""
    idp = FakeIdentityProvider(base_url="http://127.0.0.1:1")
    with pytest.raises(SignInFailed) as caught:
        await sign_in_with_device(idp, Clock())
    assert caught.value.problem is Problem.UNREACHABLE
    assert "127.0.0.1" not in str(caught.value)


async def test_wrong_token_is_explained_from_the_334_challenge(certs: Certs) -> None:
    """A token the server does not accept: 334 JSON error decoded into the finding."""
    async with xoauth2_server(certs.good) as smtp:
        report = await probe_with(Secret("ya29.not-the-right-one"), smtp.port, certs.ca_file)
    assert report.outcome is Outcome.AUTH_REJECTED
    assert report.finding is Finding.XOAUTH2_REFUSED
    auth = next(step for step in report.steps if step.stage.value == "auth")
    assert "status 400" in auth.detail and "https://mail.google.com/" in auth.detail
    assert any("XOAUTH2 error challenge" in line for line in report.transcript)
    assert "not-the-right-one" not in "\n".join(report.transcript)
    assert smtp.handler.attempts == 1


async def test_google_code_flow_with_pkce_and_loopback(certs: Certs) -> None:
    """Browser -> fake Google -> loopback redirect -> code redeemed with the verifier -> AUTH."""
    async with (
        identity_provider() as idp,
        xoauth2_server(certs.good) as smtp,
        aiohttp.ClientSession() as session,
    ):
        client = IdentityProvider(idp.settings(), session)
        first = CodeSignIn.start(client, redirect_uri="", login_hint=USER)
        async with LoopbackRedirect(first.state) as redirect:
            assert redirect.redirect_uri.startswith("http://127.0.0.1:")
            started = CodeSignIn.start(
                client, redirect_uri=redirect.redirect_uri, login_hint=USER, state=first.state
            )
            async with session.get(started.url) as browser:  # follows the redirect
                assert browser.status == 200
            code = await redirect.code(within=5)
        token = await started.finish(client, code)
        report = await probe_with(token, smtp.port, certs.ca_file)
    assert idp.redeemed == 1
    assert report.outcome is Outcome.AUTHENTICATED


async def test_google_loopback_ignores_foreign_state_and_reports_denial() -> None:
    """A callback with another state changes nothing; access_denied ends the wait."""
    async with (
        identity_provider(google_deny=True) as idp,
        aiohttp.ClientSession() as session,
        LoopbackRedirect("expected-state") as redirect,
    ):
        async with session.get(f"{redirect.redirect_uri}?state=other&code=x") as forged:
            assert forged.status == 400
        client = IdentityProvider(idp.settings(), session)
        started = CodeSignIn.start(
            client, redirect_uri=redirect.redirect_uri, login_hint=None, state="expected-state"
        )
        async with session.get(started.url):
            pass
        with pytest.raises(SignInFailed) as caught:
            await redirect.code(within=5)
    assert caught.value.problem is Problem.DENIED
