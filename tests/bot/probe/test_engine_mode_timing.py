"""The TLS mode is found in about a second with the limits the CLI and the bot really use.

test_engine_evidence proves the findings with limits chosen to expose a wait for the
banner timeout; here the same wrong-mode cases run with ``DEFAULT_LIMITS`` (10 s banner
timeout, 1 s greeting window, 2 s sniff) and must be diagnosed, naming the right mode and
the port, in under 2 s, and ``auto`` must reach the right mode on a non-standard port as fast.
"""

from __future__ import annotations

import pytest

from bot.probe import DEFAULT_LIMITS, Finding, Outcome, ProbeReport, Security
from tests.bot.probe.conftest import Probe
from tests.support.smtp_server import PASSWORD, USER, Certs, smtp_server

WITHIN_MS = 2000.0


def _failed_detail(report: ProbeReport) -> str:
    failed = report.failed_step
    assert failed is not None, report.steps
    return failed.detail


async def test_starttls_spoken_to_implicit_tls_names_tls_within_2_s(
    probe: Probe, certs: Certs
) -> None:
    async with smtp_server(tls="implicit", context=certs.good) as server:
        report = await probe(port=server.port, security="starttls", limits=DEFAULT_LIMITS)
    assert report.finding is Finding.STARTTLS_ON_TLS_PORT
    assert f"(security tls) on port {server.port}" in _failed_detail(report)
    assert report.elapsed_ms < WITHIN_MS


async def test_tls_spoken_to_a_starttls_port_names_starttls_within_2_s(
    probe: Probe, certs: Certs
) -> None:
    async with smtp_server(context=certs.good) as server:
        report = await probe(port=server.port, security="tls", limits=DEFAULT_LIMITS)
    assert report.finding is Finding.TLS_ON_STARTTLS_PORT
    assert f"use security starttls on port {server.port}" in _failed_detail(report)
    assert report.elapsed_ms < WITHIN_MS


async def test_tls_spoken_to_a_plaintext_only_port_says_what_it_offers_within_2_s(
    probe: Probe,
) -> None:
    async with smtp_server(tls="none", auth_in_clear=True) as server:
        report = await probe(port=server.port, security="tls", limits=DEFAULT_LIMITS)
    assert report.finding is Finding.TLS_ON_PLAIN_PORT
    detail = _failed_detail(report)
    assert f"port {server.port} speaks plain SMTP" in detail and "no STARTTLS" in detail
    assert "AUTH " in detail  # what the port does offer
    assert report.elapsed_ms < WITHIN_MS


@pytest.mark.parametrize(
    ("tls", "found"), [("implicit", Security.TLS), ("starttls", Security.STARTTLS)]
)
async def test_auto_finds_the_mode_on_a_nonstandard_port_within_2_s(
    probe: Probe, certs: Certs, tls: str, found: Security
) -> None:
    """auto on a port that is neither 465 nor 587: the right mode, signed in, in under 2 s."""
    async with smtp_server(tls=tls, context=certs.good) as server:
        report = await probe(
            port=server.port, username=USER, password=PASSWORD, limits=DEFAULT_LIMITS
        )
    assert report.outcome is Outcome.AUTHENTICATED
    assert report.security is found
    assert server.recorder.commands == ["PLAIN"]
    assert report.elapsed_ms < WITHIN_MS
