"""A canary password never leaves the probe, in any outcome; no probe leaks a socket."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

import pytest

from bot.logs import install_redaction
from bot.probe import DEFAULT_LIMITS, Finding, Limits, Outcome
from tests.bot.probe.conftest import Probe
from tests.support.smtp_server import USER, Certs, Script, fault_server, smtp_server

CANARY = "Canary-7f3a9c2e-Pw!"
QUICK = Limits(connect=2.0, banner=0.3, command=2.0, tls=2.0, quit=1.0, sniff=0.3)
CANARY_FORMS = (
    CANARY,
    base64.b64encode(CANARY.encode()).decode(),
    base64.b64encode(f"\0{USER}\0{CANARY}".encode()).decode(),
    CANARY.encode().hex(),
    # the password's part of the blob's base64 one byte out of step (the echoing server's
    # form): after the 20 bytes of "?", NUL, the username and NUL, from character 27 on
    base64.b64encode(f"?\0{USER}\0{CANARY}".encode()).decode()[28:48],
)


def _servers(certs: Certs) -> dict[str, Callable[[], AbstractAsyncContextManager[object]]]:
    return {
        "accepted": lambda: smtp_server(context=certs.good, users={USER: CANARY}),
        "rejected": lambda: smtp_server(context=certs.good),
        "login-rejected": lambda: smtp_server(context=certs.good, mechanisms=("LOGIN",)),
        "cram-rejected": lambda: smtp_server(context=certs.good, mechanisms=("CRAM-MD5",)),
        "no-starttls": lambda: smtp_server(tls="none", auth_in_clear=True),
        "bad-cert": lambda: smtp_server(context=certs.untrusted),
        "echoing": lambda: fault_server(Script(tls=certs.good, echo_auth=True)),
        "echoing-login": lambda: fault_server(
            Script(
                tls=certs.good,
                echo_auth=True,
                ehlo_after_tls=b"250-fault.test\r\n250 AUTH LOGIN\r\n",
            )
        ),
        "dropping": lambda: fault_server(Script(tls=certs.good, drop_on_auth=True)),
        "silent": lambda: fault_server(Script(banner=None)),
        # the failure paths of issue 13: an unanswered AUTH, wrong TLS modes, auto
        # switching mode, a mechanism that is not offered, no password mechanism at all
        "unanswered-auth": lambda: fault_server(Script(tls=certs.good, answer_auth=False)),
        "starttls-to-implicit": lambda: smtp_server(tls="implicit", context=certs.good),
        "tls-to-plain-only": lambda: smtp_server(tls="none", auth_in_clear=True),
        "auto-switch-to-tls": lambda: smtp_server(
            tls="implicit", context=certs.good, users={USER: CANARY}
        ),
        "unoffered-mechanism": lambda: smtp_server(context=certs.good, mechanisms=("PLAIN",)),
        "only-xoauth2": lambda: fault_server(
            Script(tls=certs.good, ehlo_after_tls=b"250-fault.test\r\n250 AUTH XOAUTH2\r\n")
        ),
    }


# Request fields a case needs besides the credentials (the default is security auto).
_FIELDS: dict[str, dict[str, str]] = {
    "starttls-to-implicit": {"security": "starttls"},
    "tls-to-plain-only": {"security": "tls"},
    "auto-switch-to-tls": {},
    "unoffered-mechanism": {"mechanism": "cram-md5"},
}
# What each of those cases must have reached, so the test proves it took that path.
_EXPECTED: dict[str, Finding | Outcome] = {
    "accepted": Outcome.AUTHENTICATED,
    "unanswered-auth": Finding.AUTH_NO_REPLY,
    "starttls-to-implicit": Finding.STARTTLS_ON_TLS_PORT,
    "tls-to-plain-only": Finding.TLS_ON_PLAIN_PORT,
    "auto-switch-to-tls": Outcome.AUTHENTICATED,  # after switching to implicit TLS
    "unoffered-mechanism": Finding.MECHANISM_NOT_OFFERED,
    "only-xoauth2": Finding.NO_USABLE_MECHANISM,
}


def _assert_clean(text: str) -> None:
    for form in CANARY_FORMS:
        assert form not in text


@pytest.mark.parametrize(
    "case",
    [
        "accepted",
        "rejected",
        "login-rejected",
        "cram-rejected",
        "no-starttls",
        "bad-cert",
        "echoing",
        "echoing-login",
        "dropping",
        "silent",
        "unanswered-auth",
        "starttls-to-implicit",
        "tls-to-plain-only",
        "auto-switch-to-tls",
        "unoffered-mechanism",
        "only-xoauth2",
    ],
)
async def test_canary_never_appears(
    probe: Probe, certs: Certs, caplog: pytest.LogCaptureFixture, case: str
) -> None:
    """Report, JSON, transcript, step details and DEBUG logs hold no form of the password."""
    install_redaction()
    caplog.set_level(logging.DEBUG)
    async with _servers(certs)[case]() as server:
        report = await probe(
            port=server.port,  # type: ignore[attr-defined]
            username=USER,
            password=CANARY,
            limits=DEFAULT_LIMITS if case == "auto-switch-to-tls" else QUICK,
            **_FIELDS.get(case, {}),
        )
    expected = _EXPECTED.get(case)
    if expected is not None:
        assert expected in (report.outcome, report.finding), report.steps
    _assert_clean(json.dumps(report.as_dict()))
    _assert_clean(repr(report))
    _assert_clean("\n".join(report.transcript))
    _assert_clean(caplog.text)


async def test_hostile_echo_is_scrubbed_from_the_reply(probe: Probe, certs: Certs) -> None:
    """A server echoing the AUTH blob back in its 535 still leaves no credential in the report."""
    async with fault_server(Script(tls=certs.good, echo_auth=True)) as server:
        report = await probe(port=server.port, username=USER, password=CANARY)
    assert report.auth_reply is not None
    assert "[removed]" in report.auth_reply.text


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def _settled_fds(baseline: int) -> int:
    for _ in range(40):  # server-side halves close a moment after the client's
        count = _open_fds()
        if count <= baseline:
            return count
        await asyncio.sleep(0.05)
    return _open_fds()


async def test_no_socket_leaks_across_outcomes(probe: Probe, certs: Certs) -> None:
    """After probes ending every which way, the process holds no more file descriptors."""
    async with (
        smtp_server(context=certs.good) as good,
        smtp_server(context=certs.expired) as expired,
        smtp_server(tls="implicit", context=certs.good) as implicit,
        fault_server(Script(banner=None)) as silent,
        fault_server(Script(tls=certs.good, drop_on_auth=True)) as dropping,
        fault_server(Script(banner=b"\x00garbage\r\n")) as garbage,
    ):
        await probe(port=good.port)  # warm up caches (SSL context, resolver)
        baseline = _open_fds()
        outcomes = set()
        for _ in range(3):
            for port, fields in (
                (good.port, {"username": USER, "password": "wrong"}),
                (good.port, {"security": "tls"}),
                (expired.port, {}),
                (implicit.port, {}),
                (implicit.port, {"security": "starttls"}),
                (silent.port, {}),
                (dropping.port, {"username": USER, "password": "x"}),
                (garbage.port, {}),
            ):
                report = await probe(port=port, limits=QUICK, **fields)
                outcomes.add(report.outcome)
        assert len(outcomes) >= 4
        assert await _settled_fds(baseline) <= baseline


async def test_cancelled_probe_closes_its_socket(probe: Probe) -> None:
    """Cancelling a probe mid-banner still closes the connection."""
    async with fault_server(Script(banner=None)) as silent:
        baseline = _open_fds()
        task = asyncio.create_task(probe(port=silent.port))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await _settled_fds(baseline) <= baseline
