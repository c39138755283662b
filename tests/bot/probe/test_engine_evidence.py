"""run_probe diagnoses that follow the evidence: partial DNS answers, wrong TLS modes,
an unanswered AUTH, unoffered mechanisms. Real aiosmtpd servers and a local DNS server."""

from __future__ import annotations

import socket

import pytest

from bot.checks.advice import diagnose
from bot.config import Settings
from bot.probe import (
    Collaborators,
    Finding,
    Limits,
    Outcome,
    Security,
    Stage,
    Status,
    build_request,
    farewell,
    model,
    run_probe,
)
from knowledge import KnowledgeBase, get_knowledge
from tests.bot.probe.conftest import ALL_PORTS, FAST, Probe
from tests.support.dns_server import dns_server
from tests.support.smtp_server import (
    PASSWORD,
    SERVER_NAME,
    USER,
    Certs,
    Script,
    fault_server,
    smtp_server,
)


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return get_knowledge()


def _named(settings: Settings, dns_host: str, dns_port: int) -> Settings:
    return Settings(
        allow_networks=settings.allow_networks,
        allowed_ports=settings.allowed_ports,
        dns_servers=((dns_host, dns_port),),
    )


@pytest.mark.parametrize("rcode", ["REFUSED", "SERVFAIL"])
async def test_probe_uses_the_a_answer_when_aaaa_errors(
    probe: Probe, certs: Certs, settings: Settings, rcode: str
) -> None:
    """AAAA answered REFUSED/SERVFAIL: the A answer is probed and the failed lookup noted."""
    zone = {(f"{SERVER_NAME}.", "A"): ["127.0.0.1"]}
    with dns_server(zone, rcodes={(f"{SERVER_NAME}.", "AAAA"): rcode}) as dns:
        async with smtp_server(context=certs.good) as server:
            report = await probe(
                SERVER_NAME, server.port, probe_settings=_named(settings, dns.host, dns.port)
            )
    assert report.outcome is Outcome.REACHABLE
    assert report.address == "127.0.0.1"
    assert f"the AAAA lookup failed ({rcode.lower()})" in report.steps[0].detail


@pytest.mark.parametrize("rcode", ["REFUSED", "SERVFAIL"])
async def test_forbidden_a_answer_is_a_policy_refusal_when_aaaa_errors(
    probe: Probe, settings: Settings, rcode: str
) -> None:
    """A private A answer next to a broken AAAA lookup is refused by policy (exit 2)."""
    zone = {("inside.test.", "A"): ["10.1.2.3"]}
    with dns_server(zone, rcodes={("inside.test.", "AAAA"): rcode}) as dns:
        named = Settings(allowed_ports=settings.allowed_ports, dns_servers=((dns.host, dns.port),))
        report = await probe("inside.test", 587, probe_settings=named)
    assert report.outcome is Outcome.POLICY_REFUSED
    assert report.outcome.exit_code == 2
    assert [step.stage for step in report.steps] == [Stage.RESOLVE]


async def test_unreachable_dns_server_is_reported_as_such(probe: Probe, settings: Settings) -> None:
    """A DNS server port with nothing listening gives a DNS error saying it cannot be reached."""
    hole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    hole.bind(("127.0.0.1", 0))
    port = hole.getsockname()[1]
    hole.close()
    named = Settings(allowed_ports=settings.allowed_ports, dns_servers=(("127.0.0.1", port),))
    report = await probe("mail.example.com", 587, probe_settings=named)
    assert report.outcome is Outcome.DNS_ERROR
    assert report.finding is Finding.DNS_FAILURE
    assert "cannot be reached" in report.steps[0].detail


async def test_report_does_not_wait_for_quit(settings: Settings, certs: Certs) -> None:
    """The report comes back while QUIT is still unanswered; the goodbye then ends bounded."""
    script = Script(answer_quit=False, ehlo=b"250-fault.test\r\n250 AUTH PLAIN\r\n")
    async with fault_server(script) as server:
        request = build_request(
            host="127.0.0.1", port=server.port, security="none", allowed_ports=ALL_PORTS
        )
        collaborators = Collaborators.from_settings(settings, ca_files=[certs.ca_file])
        report = await run_probe(request, collaborators=collaborators, limits=FAST)
        assert report.outcome is Outcome.REACHABLE
        assert [step.stage for step in report.steps][-1] is Stage.AUTH
        assert farewell.pending() == 1  # QUIT is still out there, the verdict is not
        await farewell.settle(5.0)
        assert farewell.pending() == 0  # ended by the QUIT limit, not by the server
        assert server.quits == 1


# --- TLS mode -------------------------------------------------------------------------

# A banner limit far past the deadline: a probe that waited for the greeting to time out
# would end DEADLINE_EXCEEDED; only the early race can produce the mode finding.
PATIENT = Limits(dns=2.0, connect=2.0, banner=60.0, command=2.0, tls=2.0, quit=1.0, sniff=2.0)


async def test_starttls_to_an_implicit_tls_port_is_diagnosed_without_the_banner_timeout(
    probe: Probe, certs: Certs
) -> None:
    """Explicit STARTTLS to an implicit-TLS port names security tls and the port, early."""
    async with smtp_server(tls="implicit", context=certs.good) as server:
        report = await probe(port=server.port, security="starttls", deadline=8, limits=PATIENT)
    assert report.outcome is Outcome.TLS_ERROR
    assert report.finding is Finding.STARTTLS_ON_TLS_PORT
    failed = report.failed_step
    assert failed is not None and failed.stage is Stage.BANNER
    assert f"security tls) on port {server.port}" in failed.detail


async def test_auto_finds_implicit_tls_on_a_nonstandard_port(probe: Probe, certs: Certs) -> None:
    """security auto on a non-465 implicit-TLS port switches to TLS and says why."""
    async with smtp_server(tls="implicit", context=certs.good) as server:
        report = await probe(
            port=server.port, username=USER, password=PASSWORD, deadline=8, limits=PATIENT
        )
    assert report.outcome is Outcome.AUTHENTICATED
    assert report.security is Security.TLS
    assert server.recorder.commands == ["PLAIN"]
    why = report.steps[2]
    assert (why.stage, why.status) == (Stage.BANNER, Status.OK)
    assert "answers a TLS handshake: using implicit TLS (security auto)" in why.detail
    assert [step.stage for step in report.steps[3:]] == [
        Stage.CONNECT, Stage.TLS, Stage.BANNER, Stage.EHLO, Stage.AUTH
    ]  # fmt: skip


async def test_auto_finds_starttls_where_implicit_tls_was_guessed(
    probe: Probe, certs: Certs, monkeypatch: pytest.MonkeyPatch
) -> None:
    """security auto guessing implicit TLS (as on 465) falls back to STARTTLS when the port
    greets in plain SMTP, and says so."""
    async with smtp_server(context=certs.good) as server:
        monkeypatch.setattr(model, "IMPLICIT_TLS_PORTS", frozenset({server.port}))
        report = await probe(port=server.port, username=USER, password=PASSWORD)
    assert report.outcome is Outcome.AUTHENTICATED
    assert report.security is Security.STARTTLS
    why = report.steps[2]
    assert (why.stage, why.status) == (Stage.TLS, Status.OK)
    assert "answered in plain SMTP, not TLS: using STARTTLS (security auto)" in why.detail
    assert server.recorder.commands == ["PLAIN"]


async def test_tls_to_a_starttls_port_names_starttls_because_it_is_offered(
    probe: Probe, certs: Certs
) -> None:
    """Explicit TLS to a STARTTLS port: the port was looked at and offers STARTTLS."""
    async with smtp_server(context=certs.good) as server:
        report = await probe(port=server.port, security="tls")
    assert report.finding is Finding.TLS_ON_STARTTLS_PORT
    assert report.failed_step is not None
    assert "offers STARTTLS" in report.failed_step.detail
    assert f"use security starttls on port {server.port}" in report.failed_step.detail


async def test_tls_to_a_plaintext_only_port_does_not_suggest_starttls(
    probe: Probe, kb: KnowledgeBase
) -> None:
    """Explicit TLS to a port with no TLS at all: says so, and never 'use STARTTLS' here."""
    async with smtp_server(tls="none", auth_in_clear=True) as server:
        report = await probe(port=server.port, security="tls")
    assert report.outcome is Outcome.TLS_ERROR
    assert report.finding is Finding.TLS_ON_PLAIN_PORT
    failed = report.failed_step
    assert failed is not None
    assert "no implicit TLS, no STARTTLS" in failed.detail
    assert "AUTH " in failed.detail  # what it does offer
    advice = diagnose(report, kb)
    assert "STARTTLS for port" not in advice.summary + " ".join(advice.next_steps)
    assert "neither SSL/TLS nor STARTTLS" in advice.summary


async def test_missing_starttls_names_what_the_server_offers(probe: Probe) -> None:
    """STARTTLS asked for but not in EHLO: the detail lists the extensions it did offer."""
    async with smtp_server(tls="none", auth_in_clear=True) as server:
        report = await probe(port=server.port, security="starttls")
    assert report.finding is Finding.STARTTLS_MISSING
    assert report.failed_step is not None
    assert "(it offers: " in report.failed_step.detail
    assert "AUTH " in report.failed_step.detail


# --- AUTH ------------------------------------------------------------------------------


async def test_unanswered_auth_is_a_server_side_delay_and_a_possible_failed_attempt(
    probe: Probe, certs: Certs, kb: KnowledgeBase
) -> None:
    """AUTH sent over working TLS and never answered: not 'cannot connect', but a server
    delay that may count as a failed attempt, with advice not to retry at once."""
    script = Script(tls=certs.good, answer_auth=False)
    async with fault_server(script) as server:
        report = await probe(port=server.port, username=USER, password=PASSWORD)
    assert server.auth_commands == 1
    assert report.outcome is Outcome.TIMEOUT
    assert report.finding is Finding.AUTH_NO_REPLY
    assert report.possible_failed_attempt
    assert report.tls is not None
    failed = report.failed_step
    assert failed is not None and failed.stage is Stage.AUTH
    assert "server-side delay" in failed.detail
    advice = diagnose(report, kb)
    assert "did not answer the login (PLAIN)" in advice.summary
    assert any("Do not retry at once" in step for step in advice.next_steps)
    assert "firewall" not in advice.summary.lower()


async def test_unoffered_mechanism_is_named(probe: Probe, certs: Certs, kb: KnowledgeBase) -> None:
    """--mechanism cram-md5 where only PLAIN/LOGIN are offered names CRAM-MD5, never AUTO."""
    async with smtp_server(context=certs.good, mechanisms=("PLAIN", "LOGIN")) as server:
        report = await probe(
            port=server.port, username=USER, password=PASSWORD, mechanism="cram-md5"
        )
    assert report.finding is Finding.MECHANISM_NOT_OFFERED
    assert server.recorder.commands == []
    assert not report.possible_failed_attempt  # nothing was sent
    advice = diagnose(report, kb)
    assert "login method CRAM-MD5 (it offers: LOGIN, PLAIN)" in advice.summary
    assert "AUTO" not in advice.summary


async def test_no_usable_mechanism_under_auto_says_so(
    probe: Probe, certs: Certs, kb: KnowledgeBase
) -> None:
    """Only XOAUTH2 offered and mechanism auto: 'no login method that works with a
    password', listing what is offered; no AUTH is sent."""
    script = Script(tls=certs.good, ehlo_after_tls=b"250-fault.test\r\n250 AUTH XOAUTH2\r\n")
    async with fault_server(script) as server:
        report = await probe(port=server.port, username=USER, password=PASSWORD)
    assert server.auth_commands == 0
    assert report.finding is Finding.NO_USABLE_MECHANISM
    advice = diagnose(report, kb)
    assert "no login method that works with a password (it offers: XOAUTH2)" in advice.summary
    assert "AUTO" not in advice.summary
