"""run_probe diagnoses that follow the evidence: partial DNS answers, wrong TLS modes,
an unanswered AUTH, unoffered mechanisms. Real aiosmtpd servers and a local DNS server."""

from __future__ import annotations

import socket

import pytest

from bot.config import Settings
from bot.probe import Collaborators, Finding, Outcome, Stage, build_request, farewell, run_probe
from tests.bot.probe.conftest import ALL_PORTS, FAST, Probe
from tests.support.dns_server import dns_server
from tests.support.smtp_server import SERVER_NAME, Certs, Script, fault_server, smtp_server


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
    assert "the AAAA lookup failed (failure)" in report.steps[0].detail


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
