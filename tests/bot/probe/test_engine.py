"""run_probe against real aiosmtpd servers: mechanisms, TLS modes, certificates, AUTH offers."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import trustme

from bot.config import Settings
from bot.probe import Finding, Limits, Outcome, Stage, Status, StepResult
from tests.bot.probe.conftest import FAST, Probe
from tests.support.dns_server import dns_server
from tests.support.smtp_server import PASSWORD, SERVER_NAME, USER, Certs, smtp_server


def stages(report: object) -> list[str]:
    return [f"{step.stage.value}:{step.status.value}" for step in report.steps]  # type: ignore[attr-defined]


@pytest.mark.parametrize("mechanism", ["plain", "login", "cram-md5"])
async def test_each_mechanism_authenticates_over_starttls(
    probe: Probe, certs: Certs, mechanism: str
) -> None:
    """PLAIN, LOGIN and CRAM-MD5 each log in with one AUTH command after STARTTLS."""
    async with smtp_server(context=certs.good) as server:
        report = await probe(
            port=server.port, username=USER, password=PASSWORD, mechanism=mechanism
        )
    assert report.outcome is Outcome.AUTHENTICATED
    assert report.mechanism == mechanism.upper()
    assert server.recorder.commands == [mechanism.upper()]
    assert stages(report) == [
        f"{stage}:ok" for stage in ("resolve", "connect", "banner", "ehlo", "tls", "ehlo", "auth")
    ]
    assert server.recorder.quits == 1  # said after the report, which did not wait for it
    assert report.auth_reply is not None and report.auth_reply.code == 235
    assert report.auth_reply.enhanced == "2.7.0"


async def test_auto_prefers_plain_over_tls(probe: Probe, certs: Certs) -> None:
    """With mechanism auto over TLS the probe picks PLAIN even when CRAM-MD5 is offered."""
    async with smtp_server(context=certs.good) as server:
        report = await probe(port=server.port, username=USER, password=PASSWORD)
    assert report.mechanism == "PLAIN"
    assert set(report.auth_mechanisms) == {"PLAIN", "LOGIN", "CRAM-MD5"}


async def test_wrong_password_is_one_auth_attempt(probe: Probe, certs: Certs) -> None:
    """A wrong password is AUTH_REJECTED with the 535 reply, and the server saw exactly one AUTH."""
    async with smtp_server(context=certs.good) as server:
        report = await probe(port=server.port, username=USER, password="not it")
    assert report.outcome is Outcome.AUTH_REJECTED
    assert report.outcome.exit_code == 1
    assert report.finding is Finding.AUTH_REJECTED
    assert server.recorder.commands == ["PLAIN"]
    assert server.recorder.checked == [("PLAIN", False)]
    reply = report.auth_reply
    assert reply is not None and (reply.code, reply.enhanced) == (535, "5.7.8")
    assert report.steps[-1].stage is Stage.AUTH  # the verdict does not wait for QUIT
    assert server.recorder.quits == 1  # still polite after a refusal


async def test_starttls_not_offered_sends_no_credentials(probe: Probe) -> None:
    """No STARTTLS (though AUTH is offered in clear): TLS_ERROR, STARTTLS_MISSING, no AUTH sent."""
    async with smtp_server(tls="none", auth_in_clear=True) as server:
        report = await probe(port=server.port, username=USER, password=PASSWORD)
    assert report.outcome is Outcome.TLS_ERROR
    assert report.finding is Finding.STARTTLS_MISSING
    assert server.recorder.commands == []
    assert not any("AUTH" in line for line in report.transcript if "->" in line)


async def test_implicit_tls_authenticates(probe: Probe, certs: Certs) -> None:
    """Implicit TLS: the tls stage comes before the banner and the login works."""
    async with smtp_server(tls="implicit", context=certs.good) as server:
        report = await probe(port=server.port, security="tls", username=USER, password=PASSWORD)
    assert report.outcome is Outcome.AUTHENTICATED
    assert stages(report)[:4] == ["resolve:ok", "connect:ok", "tls:ok", "banner:ok"]
    assert report.transcript[2].startswith("=== TLS started")
    assert any(line.startswith("<~  220") for line in report.transcript)


async def test_tls_facts_are_reported(probe: Probe, certs: Certs) -> None:
    """A verified certificate yields version, cipher, subject, issuer, SANs and an ISO expiry."""
    async with smtp_server(context=certs.good) as server:
        report = await probe(port=server.port)
    tls = report.tls
    assert tls is not None
    assert tls.version in ("TLSv1.2", "TLSv1.3") and tls.cipher
    assert tls.subject == SERVER_NAME
    assert tls.issuer is not None and "trustme" in tls.issuer
    assert {SERVER_NAME, "127.0.0.1"} <= set(tls.sans)
    assert tls.not_after is not None and len(tls.not_after) == 10 and tls.not_after[4] == "-"


@pytest.mark.parametrize(
    ("cert", "finding"),
    [
        ("untrusted", Finding.CERT_UNTRUSTED),
        ("mismatch", Finding.CERT_NAME_MISMATCH),
        ("expired", Finding.CERT_EXPIRED),
    ],
)
async def test_certificate_problems_are_distinct(
    probe: Probe, certs: Certs, cert: str, finding: Finding
) -> None:
    """Untrusted issuer, wrong name and expiry are three different findings; no AUTH is sent."""
    async with smtp_server(context=getattr(certs, cert)) as server:
        report = await probe(port=server.port, username=USER, password=PASSWORD)
    assert report.outcome is Outcome.TLS_ERROR
    assert report.finding is finding
    assert server.recorder.commands == []


async def test_verification_is_on_without_the_test_ca(
    probe: Probe, certs: Certs, tmp_path: Path
) -> None:
    """Verification is on by default: a good certificate fails when its CA is not trusted."""
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    async with smtp_server(context=certs.good) as server:
        report = await probe(port=server.port, ca_file=other_ca)
    assert report.finding is Finding.CERT_UNTRUSTED


async def test_no_auth_offered(probe: Probe, certs: Certs) -> None:
    """A server that never advertises AUTH: PROTOCOL_ERROR with AUTH_NOT_OFFERED, nothing sent."""
    async with smtp_server(context=certs.good, mechanisms=()) as server:
        report = await probe(port=server.port, username=USER, password=PASSWORD)
    assert report.outcome is Outcome.PROTOCOL_ERROR
    assert report.finding is Finding.AUTH_NOT_OFFERED
    assert server.recorder.commands == []


async def test_no_credentials_reports_reachable_with_mechanisms(probe: Probe, certs: Certs) -> None:
    """Without credentials the probe stops after capabilities: REACHABLE, mechanisms listed."""
    async with smtp_server(context=certs.good, mechanisms=("PLAIN", "LOGIN")) as server:
        report = await probe(port=server.port)
    assert report.outcome is Outcome.REACHABLE
    assert report.outcome.exit_code == 0
    assert report.auth_mechanisms == ("LOGIN", "PLAIN")
    auth = report.steps[-1]
    assert (auth.stage, auth.status) == (Stage.AUTH, Status.SKIPPED)
    assert "LOGIN PLAIN" in auth.detail
    assert server.recorder.commands == []


async def test_requested_mechanism_not_offered(probe: Probe, certs: Certs) -> None:
    """Asking for CRAM-MD5 where only PLAIN is offered: MECHANISM_NOT_OFFERED and no attempt."""
    async with smtp_server(context=certs.good, mechanisms=("PLAIN",)) as server:
        report = await probe(
            port=server.port, username=USER, password=PASSWORD, mechanism="cram-md5"
        )
    assert report.finding is Finding.MECHANISM_NOT_OFFERED
    assert server.recorder.commands == []


async def test_implicit_tls_to_a_starttls_port(probe: Probe, certs: Certs) -> None:
    """TLS spoken to a STARTTLS port: TLS_ON_STARTTLS_PORT telling to use starttls."""
    async with smtp_server(context=certs.good) as server:
        report = await probe(port=server.port, security="tls")
    assert report.outcome is Outcome.TLS_ERROR
    assert report.finding is Finding.TLS_ON_STARTTLS_PORT
    assert "use security starttls" in report.steps[-1].detail


async def test_starttls_to_an_implicit_tls_port(probe: Probe, certs: Certs) -> None:
    """Plaintext/STARTTLS to an implicit-TLS port: the silent greeting is recognised as TLS."""
    async with smtp_server(tls="implicit", context=certs.good) as server:
        report = await probe(
            port=server.port, security="starttls", username=USER, password=PASSWORD
        )
    assert report.outcome is Outcome.TLS_ERROR
    assert report.finding is Finding.STARTTLS_ON_TLS_PORT
    assert "use implicit TLS" in report.steps[-1].detail
    assert server.recorder.commands == []


async def test_security_none_sends_auth_in_clear_with_a_warning(probe: Probe) -> None:
    """security=none is explicit: AUTH goes in clear, the tls step warns PLAINTEXT_AUTH."""
    async with smtp_server(tls="none", auth_in_clear=True) as server:
        report = await probe(port=server.port, security="none", username=USER, password=PASSWORD)
    assert report.outcome is Outcome.AUTHENTICATED
    tls = next(step for step in report.steps if step.stage is Stage.TLS)
    assert (tls.status, tls.finding) == (Status.WARN, Finding.PLAINTEXT_AUTH)
    assert report.finding is Finding.PLAINTEXT_AUTH
    assert report.mechanism == "CRAM-MD5"  # in clear, the one that keeps the password off the wire


async def test_name_is_resolved_once_and_used_for_the_certificate(
    probe: Probe, certs: Certs, settings: Settings
) -> None:
    """A hostname goes through the local DNS server; the certificate is checked for that name."""
    zone = {(f"{SERVER_NAME}.", "A"): ["127.0.0.1"]}
    with dns_server(zone) as dns:
        named = Settings(
            allow_networks=settings.allow_networks,
            allowed_ports=settings.allowed_ports,
            dns_servers=((dns.host, dns.port),),
        )
        async with smtp_server(context=certs.good) as server:
            report = await probe(SERVER_NAME, server.port, probe_settings=named)
        assert report.outcome is Outcome.REACHABLE
        assert report.address == "127.0.0.1"
        assert "mail.test resolves to 127.0.0.1" in report.steps[0].detail
        assert sorted(dns.queries) == [(f"{SERVER_NAME}.", "A"), (f"{SERVER_NAME}.", "AAAA")]


async def test_policy_refuses_loopback_by_default(probe: Probe) -> None:
    """Without SMTPCHECK_ALLOW_NETWORKS loopback is refused before any connection."""
    async with smtp_server(tls="none") as server:
        report = await probe(
            port=server.port, probe_settings=Settings(allowed_ports=frozenset({server.port}))
        )
    assert report.outcome is Outcome.POLICY_REFUSED
    assert report.outcome.exit_code == 2
    assert [step.stage for step in report.steps] == [Stage.RESOLVE]


async def test_dns_nxdomain_is_an_outcome(probe: Probe, settings: Settings) -> None:
    """A name that does not exist gives DNS_ERROR / DNS_NXDOMAIN, not an exception."""
    with dns_server({}) as dns:
        named = Settings(allowed_ports=settings.allowed_ports, dns_servers=((dns.host, dns.port),))
        report = await probe("nowhere.test", 587, probe_settings=named)
    assert report.outcome is Outcome.DNS_ERROR
    assert report.finding is Finding.DNS_NXDOMAIN


async def test_a_dns_server_that_never_answers_fails_the_probe_in_about_a_second(
    probe: Probe, settings: Settings
) -> None:
    """Packets dropped: with the default limits, a clear 'did not answer' DNS failure in ~1 s."""
    with dns_server({}, silent_all=True) as dns:
        named = Settings(allowed_ports=settings.allowed_ports, dns_servers=((dns.host, dns.port),))
        started = time.monotonic()
        report = await probe("mail.example.test", 587, probe_settings=named, limits=Limits())
        elapsed = time.monotonic() - started
    assert elapsed < Limits().dns + 0.8  # not dnspython's 5 s lifetime
    assert (
        report.outcome is Outcome.DNS_ERROR and report.finding is Finding.DNS_FAILURE
    )  # not NXDOMAIN
    step = report.steps[0]
    assert step.stage is Stage.RESOLVE and step.status is Status.FAIL
    assert "DNS server did not answer" in step.detail


async def test_a_slow_dns_server_still_resolves_with_the_default_limits(
    probe: Probe, settings: Settings, certs: Certs
) -> None:
    """Answers half a second late are waited for: the probe goes on to connect."""
    zone = {(f"{SERVER_NAME}.", "A"): ["127.0.0.1"]}
    with dns_server(zone, delay=0.5) as dns:
        named = Settings(
            allow_networks=settings.allow_networks,
            allowed_ports=settings.allowed_ports,
            dns_servers=((dns.host, dns.port),),
        )
        async with smtp_server(context=certs.good) as server:
            report = await probe(SERVER_NAME, server.port, probe_settings=named, limits=Limits())
    assert report.outcome is Outcome.REACHABLE and report.address == "127.0.0.1"


async def test_on_step_sees_every_step_and_its_errors_do_not_break_the_probe(
    probe: Probe, certs: Certs, caplog: pytest.LogCaptureFixture
) -> None:
    """on_step is awaited once per step in order; an exception in it is logged and ignored."""
    seen: list[StepResult] = []

    async def on_step(step: StepResult) -> None:
        seen.append(step)
        raise RuntimeError("slack is down")

    async with smtp_server(context=certs.good) as server:
        report = await probe(port=server.port, username=USER, password=PASSWORD, on_step=on_step)
    assert report.outcome is Outcome.AUTHENTICATED
    assert tuple(seen) == report.steps
    assert "on_step callback failed" in caplog.text


async def test_connection_refused(probe: Probe) -> None:
    """A closed port gives CONNECT_ERROR / CONNECT_REFUSED."""
    async with smtp_server(tls="none") as server:
        port = server.port
    report = await probe(port=port, limits=FAST)
    assert report.outcome is Outcome.CONNECT_ERROR
    assert report.finding is Finding.CONNECT_REFUSED
