"""One address family's lookup erroring never decides the probe, in either direction.

test_engine_evidence covers an AAAA lookup erroring next to a usable or forbidden A
answer; here the mirror cases and the "every answer is checked" rule, against a local
DNS server: the A lookup erroring while AAAA answers, a forbidden address among allowed
ones, a forbidden AAAA next to an allowed A. A refusal is always the policy's (exit 2)
and no connection is made.
"""

from __future__ import annotations

import ipaddress
import json

import pytest

from bot.cli import main
from bot.config import Settings
from bot.probe import Outcome, Stage, Status
from tests.bot.probe.conftest import ALL_PORTS, Probe
from tests.support.dns_server import dns_server
from tests.support.smtp_server import Script, fault_server

NAME = "mail.families.test"
LOOPBACKS = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))


def _settings(dns_host: str, dns_port: int) -> Settings:
    return Settings(
        allow_networks=LOOPBACKS, allowed_ports=ALL_PORTS, dns_servers=((dns_host, dns_port),)
    )


@pytest.mark.parametrize("rcode", ["REFUSED", "SERVFAIL"])
async def test_aaaa_answer_is_used_when_the_a_lookup_errors(probe: Probe, rcode: str) -> None:
    """A lookup broken, AAAA answers ::1 (allowed here): the probe goes to ::1 and the
    resolve step notes the failed A lookup instead of failing as DNS."""
    zone = {(f"{NAME}.", "AAAA"): ["::1"]}
    with dns_server(zone, rcodes={(f"{NAME}.", "A"): rcode}) as dns:
        report = await probe(NAME, 587, probe_settings=_settings(dns.host, dns.port))
    resolve = report.steps[0]
    assert (resolve.stage, resolve.status) == (Stage.RESOLVE, Status.OK)
    assert "::1" in resolve.detail and f"the A lookup failed ({rcode.lower()})" in resolve.detail
    assert report.outcome is not Outcome.DNS_ERROR
    assert report.address == "::1"  # connected (or tried to) where AAAA pointed


@pytest.mark.parametrize("rcode", ["REFUSED", "SERVFAIL"])
async def test_forbidden_aaaa_answer_is_a_policy_refusal_when_the_a_lookup_errors(
    probe: Probe, rcode: str
) -> None:
    zone = {(f"{NAME}.", "AAAA"): ["fd00::25"]}
    with dns_server(zone, rcodes={(f"{NAME}.", "A"): rcode}) as dns:
        report = await probe(NAME, 587, probe_settings=_settings(dns.host, dns.port))
    assert report.outcome is Outcome.POLICY_REFUSED
    assert report.outcome.exit_code == 2
    assert report.refused_addresses == ("fd00::25",)
    assert [step.stage for step in report.steps] == [Stage.RESOLVE]


@pytest.mark.parametrize(
    ("a", "aaaa", "refused"),
    [
        (["127.0.0.1", "10.1.2.3"], None, ("10.1.2.3",)),  # a forbidden one among allowed A
        (["127.0.0.1"], ["fd00::25"], ("fd00::25",)),  # allowed A, forbidden AAAA
    ],
)
async def test_every_answer_is_checked_and_no_connection_is_made(
    probe: Probe, a: list[str], aaaa: list[str] | None, refused: tuple[str, ...]
) -> None:
    """One forbidden answer refuses the name (possible DNS rebinding), although the
    allowed address has a server listening: it is never connected to."""
    async with fault_server(Script()) as server:
        zone = {(f"{NAME}.", "A"): a, **({(f"{NAME}.", "AAAA"): aaaa} if aaaa else {})}
        rcodes = {} if aaaa else {(f"{NAME}.", "AAAA"): "SERVFAIL"}
        with dns_server(zone, rcodes=rcodes) as dns:
            report = await probe(NAME, server.port, probe_settings=_settings(dns.host, dns.port))
    assert report.outcome is Outcome.POLICY_REFUSED
    assert report.refused_addresses == refused
    assert "both public and non-public addresses" in report.steps[0].detail
    assert server.connections == 0


def test_cli_exit_2_for_a_forbidden_a_answer_next_to_a_broken_aaaa(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI: exit 2 (policy), not 3 (DNS), and the setting that would allow it on stderr."""
    zone = {(f"{NAME}.", "A"): ["10.1.2.3"]}
    with dns_server(zone, rcodes={(f"{NAME}.", "AAAA"): "SERVFAIL"}) as dns:
        monkeypatch.setenv("SMTPCHECK_DNS_SERVERS", f"{dns.host}:{dns.port}")
        monkeypatch.delenv("SMTPCHECK_ALLOW_NETWORKS", raising=False)
        monkeypatch.delenv("SMTPCHECK_CA_FILE", raising=False)
        code = main(["probe", NAME, "--port", "587", "--json"])
    captured = capsys.readouterr()
    assert code == 2
    data = json.loads(captured.out)
    assert (data["outcome"], data["refused_addresses"]) == ("policy_refused", ["10.1.2.3"])
    assert "SMTPCHECK_ALLOW_NETWORKS=10.1.2.3/32" in captured.err
