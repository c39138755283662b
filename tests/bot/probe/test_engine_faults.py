"""run_probe against misbehaving servers: silence, drips, garbage, refusals, drops, slowness."""

from __future__ import annotations

import time

from bot.probe import Finding, Limits, Outcome, Stage
from tests.bot.probe.conftest import FAST, Probe
from tests.support.smtp_server import PASSWORD, USER, Certs, Script, fault_server, long_reply


async def test_greeting_never_comes(probe: Probe) -> None:
    """A server that accepts and stays silent: TIMEOUT with BANNER_TIMEOUT at the banner stage."""
    async with fault_server(Script(banner=None)) as server:
        report = await probe(port=server.port)
    assert report.outcome is Outcome.TIMEOUT
    assert report.finding is Finding.BANNER_TIMEOUT
    assert report.failed_step is not None and report.failed_step.stage is Stage.BANNER


async def test_a_silent_greeting_waits_the_banner_limit_in_all(probe: Probe) -> None:
    """auto: the greeting window and the TLS race count against the banner limit, so "no
    greeting within 2s" is true; only the ClientHello test after it (sniff) comes on top."""
    limits = Limits(banner=2.0, greeting_window=0.5, sniff=0.5, tls=2.0, quit=1.0)
    async with fault_server(Script(banner=None)) as server:
        started = time.monotonic()
        report = await probe(port=server.port, limits=limits)
        elapsed = time.monotonic() - started
    assert report.finding is Finding.BANNER_TIMEOUT
    assert report.failed_step is not None and "2s" in report.failed_step.detail
    assert elapsed < limits.banner + limits.sniff + 0.6, elapsed  # was banner + window + race


async def test_dripped_reply_is_reassembled(probe: Probe) -> None:
    """Replies sent one byte at a time still parse (within the stage limits)."""
    async with fault_server(
        Script(drip=0.002, ehlo=b"250-fault.test\r\n250 AUTH PLAIN\r\n")
    ) as server:
        report = await probe(port=server.port, security="none")
    assert report.outcome is Outcome.REACHABLE
    assert report.auth_mechanisms == ("PLAIN",)


async def test_garbage_is_a_protocol_error(probe: Probe) -> None:
    """Bytes that are not SMTP give PROTOCOL_ERROR / MALFORMED_REPLY, shown cleaned."""
    async with fault_server(
        Script(banner=b"\x00\xffHTTP/1.1 400 Bad Request\x1b[31m\r\n")
    ) as server:
        report = await probe(port=server.port)
    assert report.outcome is Outcome.PROTOCOL_ERROR
    assert report.finding is Finding.MALFORMED_REPLY
    shown = [line for line in report.transcript if "[not SMTP]" in line]
    assert shown and "\x1b" not in shown[0] and "\x00" not in shown[0]


async def test_421_greeting(probe: Probe) -> None:
    """A 421 greeting is BANNER_REJECTED with the reply kept."""
    banner = b"421 4.3.2 Service not available, closing transmission channel\r\n"
    async with fault_server(Script(banner=banner, close_after_banner=True)) as server:
        report = await probe(port=server.port)
    assert report.outcome is Outcome.PROTOCOL_ERROR
    assert report.finding is Finding.BANNER_REJECTED
    step = report.failed_step
    assert step is not None and step.reply is not None
    assert (step.reply.code, step.reply.enhanced) == (421, "4.3.2")


async def test_drop_mid_auth(probe: Probe, certs: Certs) -> None:
    """The server hangs up on AUTH: CONNECTION_LOST at the auth stage after exactly one AUTH."""
    async with fault_server(Script(tls=certs.good, drop_on_auth=True)) as server:
        report = await probe(port=server.port, username=USER, password=PASSWORD)
    assert report.outcome is Outcome.PROTOCOL_ERROR
    assert report.finding is Finding.CONNECTION_LOST
    assert report.failed_step is not None and report.failed_step.stage is Stage.AUTH
    assert server.auth_commands == 1
    assert report.possible_failed_attempt  # the server had the credentials, then hung up


async def test_over_long_reply(probe: Probe) -> None:
    """An EHLO reply over 32 KiB is refused as MALFORMED_REPLY, not buffered without bound."""
    async with fault_server(Script(ehlo=long_reply())) as server:
        report = await probe(port=server.port)
    assert report.finding is Finding.MALFORMED_REPLY
    assert "too long" in report.steps[-1].detail
    assert len("".join(report.transcript)) < 20_000


async def test_temporary_auth_failure(probe: Probe, certs: Certs) -> None:
    """A 454 to AUTH is AUTH_REJECTED with the AUTH_TEMPORARY finding."""
    script = Script(
        tls=certs.good, auth=b"454 4.7.0 Too many login attempts, please try again later\r\n"
    )
    async with fault_server(script) as server:
        report = await probe(port=server.port, username=USER, password=PASSWORD)
    assert report.outcome is Outcome.AUTH_REJECTED
    assert report.finding is Finding.AUTH_TEMPORARY


async def test_slow_stages_are_cut_by_the_deadline(probe: Probe, certs: Certs) -> None:
    """Each reply just inside its stage limit: the overall deadline still ends the probe on time."""
    limits = Limits(connect=2.0, banner=1.0, command=1.0, tls=1.0, quit=1.0)
    deadline = 2.0
    async with fault_server(Script(tls=certs.good, delay=0.6)) as server:
        started = time.monotonic()
        report = await probe(
            port=server.port, username=USER, password=PASSWORD, deadline=deadline, limits=limits
        )
        elapsed = time.monotonic() - started
    assert report.outcome is Outcome.TIMEOUT
    assert report.finding is Finding.DEADLINE_EXCEEDED
    assert elapsed < deadline + 0.5
    assert "deadline of 2s" in report.steps[-1].detail


async def test_stage_timeout_names_the_stage(probe: Probe) -> None:
    """A reply slower than its own limit (with deadline to spare) is STAGE_TIMEOUT naming it."""
    limits = Limits(banner=2.0, command=0.3)
    async with fault_server(Script(delay=0.0, ehlo=b"")) as server:
        report = await probe(port=server.port, limits=limits)
    assert report.outcome is Outcome.TIMEOUT
    assert report.finding is Finding.STAGE_TIMEOUT
    assert report.failed_step is not None and report.failed_step.stage is Stage.EHLO
    assert "during ehlo" in report.failed_step.detail


async def test_unanswered_implicit_tls_handshake_ends_at_the_tls_limit(probe: Probe) -> None:
    """security tls on a port that never answers the ClientHello: the tls stage ends at its
    own limit, named as such, not at the overall deadline (the handshake used to have no
    limit of its own: the whole deadline went by, reported as "the overall deadline ran
    out" and a slow network)."""
    limits = Limits(tls=1.0)
    async with fault_server(Script(banner=None)) as server:
        started = time.monotonic()
        report = await probe(port=server.port, security="tls", limits=limits, deadline=8.0)
        elapsed = time.monotonic() - started
    assert report.outcome is Outcome.TIMEOUT
    assert report.finding is Finding.STAGE_TIMEOUT
    assert report.failed_step is not None and report.failed_step.stage is Stage.TLS
    assert "during tls" in report.failed_step.detail and "1s" in report.failed_step.detail
    assert elapsed < 4.0


async def test_no_quit_after_a_broken_dialogue(probe: Probe) -> None:
    """After garbage the probe does not try QUIT (the dialogue is out of step); it just closes."""
    async with fault_server(Script(ehlo=b"\x16\x03\x01garbage\r\n")) as server:
        report = await probe(port=server.port, limits=FAST)
    assert report.steps[-1].stage is Stage.EHLO
