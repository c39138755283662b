"""run_probe against the real Postfix + Dovecot SASL server that .ci/run sets up."""

from __future__ import annotations

import dataclasses
import secrets

import pytest

from bot.probe import Collaborators, Finding, Outcome, ProbeReport, Stage, build_request, run_probe
from bot.resolver import make_resolver
from tests.integration.server import WRONG_HOSTNAME, LogWatch, MailServer
from tests.support.dns_server import DnsServer

pytestmark = pytest.mark.integration

DEADLINE = 30.0  # generous: the machine is shared and Dovecot waits 2 s before each refusal
MECHANISMS = {"PLAIN", "LOGIN", "CRAM-MD5"}  # what .ci/mailserver.sh configures Dovecot with


def canary() -> str:
    """A wrong password that is unique and easy to search for in any output."""
    return f"canary-{secrets.token_hex(8)}"


async def probe(
    server: MailServer,
    *,
    port: int,
    user: str | None,
    host: str | None = None,
    security: str = "auto",
    mechanism: str = "auto",
    password: str | None = None,
    dns: DnsServer | None = None,
    trust_ca: bool = True,
) -> ProbeReport:
    """One real probe; ``user`` None probes without credentials, else with ``password``
    (default: the right one)."""
    settings = server.settings(dns_servers=((dns.host, dns.port),) if dns else ())
    if not trust_ca:
        settings = dataclasses.replace(settings, ca_file=None)
    request = build_request(
        host=host or server.host,
        port=port,
        security=security,
        mechanism=mechanism,
        username=user,
        password=(password or server.password) if user else None,
        allowed_ports=server.ports,
    )
    resolver = make_resolver(settings.dns_servers) if dns else None
    collaborators = Collaborators.from_settings(settings, resolver=resolver)
    return await run_probe(request, collaborators=collaborators, deadline=DEADLINE)


def describe(report: ProbeReport) -> str:
    """Enough of a report to understand a failed assertion (it holds no secret)."""
    steps = ", ".join(f"{s.stage.value}:{s.status.value}:{s.detail}" for s in report.steps)
    return f"{report.outcome.value} finding={report.finding} steps=[{steps}]"


async def test_submission_right_password_authenticates(
    mail_server: MailServer, auth_log: LogWatch
) -> None:
    """Port-587-style submission: auto means STARTTLS, the password is accepted with one AUTH."""
    user = mail_server.new_user()
    report = await probe(mail_server, port=mail_server.submission_port, user=user)
    assert report.outcome is Outcome.AUTHENTICATED, describe(report)
    assert report.outcome.exit_code == 0
    assert report.address == mail_server.host
    assert report.auth_reply is not None and report.auth_reply.code == 235
    assert report.tls is not None and report.tls.version and report.tls.version.startswith("TLS")
    assert {m.upper() for m in report.auth_mechanisms} >= MECHANISMS
    assert await auth_log.count(mail_server.auth_mark_for(user), expected=1) == 1


async def test_the_configured_user_authenticates(mail_server: MailServer) -> None:
    """The env file's own user and password sign in (what other tiers use by default)."""
    report = await probe(mail_server, port=mail_server.submission_port, user=mail_server.user)
    assert report.outcome is Outcome.AUTHENTICATED, describe(report)


async def test_submission_wrong_password_is_one_rejected_attempt(
    mail_server: MailServer, auth_log: LogWatch, postfix_log: LogWatch
) -> None:
    """A wrong password is AUTH_REJECTED with Postfix's 535 5.7.8, and the server logs one AUTH."""
    user = mail_server.new_user()
    report = await probe(
        mail_server, port=mail_server.submission_port, user=user, password=canary()
    )
    assert report.outcome is Outcome.AUTH_REJECTED, describe(report)
    assert report.outcome.exit_code == 1
    assert report.finding is Finding.AUTH_REJECTED
    reply = report.auth_reply
    assert reply is not None and (reply.code, reply.enhanced) == (535, "5.7.8")
    assert report.steps[-1].stage is Stage.AUTH  # QUIT follows after the report
    assert await auth_log.count(mail_server.auth_mark_for(user), expected=1) == 1
    assert await auth_log.count(f"({user},", "Password mismatch", expected=1) == 1
    assert await postfix_log.count("authentication failed", f"={user}", expected=1) == 1


async def test_smtps_right_password_authenticates(
    mail_server: MailServer, auth_log: LogWatch
) -> None:
    """Port-465-style implicit TLS: the password is accepted with one AUTH."""
    user = mail_server.new_user()
    report = await probe(mail_server, port=mail_server.smtps_port, user=user, security="tls")
    assert report.outcome is Outcome.AUTHENTICATED, describe(report)
    assert report.auth_reply is not None and report.auth_reply.code == 235
    assert report.tls is not None
    assert await auth_log.count(mail_server.auth_mark_for(user), expected=1) == 1


async def test_smtps_wrong_password_is_one_rejected_attempt(
    mail_server: MailServer, auth_log: LogWatch, postfix_log: LogWatch
) -> None:
    """Implicit TLS with a wrong password: AUTH_REJECTED 535, one AUTH in the server's log."""
    user = mail_server.new_user()
    report = await probe(
        mail_server, port=mail_server.smtps_port, user=user, security="tls", password=canary()
    )
    assert report.outcome is Outcome.AUTH_REJECTED, describe(report)
    reply = report.auth_reply
    assert reply is not None and (reply.code, reply.enhanced) == (535, "5.7.8")
    assert await auth_log.count(mail_server.auth_mark_for(user), expected=1) == 1
    assert await postfix_log.count("authentication failed", f"={user}", expected=1) == 1


@pytest.mark.parametrize("mechanism", ["plain", "login", "cram-md5"])
async def test_each_mechanism_against_dovecot(
    mail_server: MailServer, auth_log: LogWatch, mechanism: str
) -> None:
    """PLAIN, LOGIN and CRAM-MD5 each log in to the real server with one AUTH command."""
    user = mail_server.new_user()
    report = await probe(
        mail_server, port=mail_server.submission_port, user=user, mechanism=mechanism
    )
    assert report.outcome is Outcome.AUTHENTICATED, describe(report)
    assert (report.mechanism or "").upper() == mechanism.upper()
    assert await auth_log.count(mail_server.auth_mark_for(user), expected=1) == 1


async def test_hostname_via_dns_verifies_certificate_name(
    mail_server: MailServer, mail_dns: DnsServer, auth_log: LogWatch
) -> None:
    """By name through a local DNS server: resolved to loopback, SNI and name check pass."""
    user = mail_server.new_user()
    report = await probe(
        mail_server,
        host=mail_server.hostname,
        port=mail_server.submission_port,
        user=user,
        dns=mail_dns,
    )
    assert report.outcome is Outcome.AUTHENTICATED, describe(report)
    assert report.host == mail_server.hostname
    assert report.address == mail_server.host
    assert report.tls is not None and any(mail_server.hostname in san for san in report.tls.sans)
    assert (f"{mail_server.hostname}.", "A") in mail_dns.queries
    assert await auth_log.count(mail_server.auth_mark_for(user), expected=1) == 1


async def test_wrong_name_is_a_certificate_mismatch_before_any_auth(
    mail_server: MailServer, mail_dns: DnsServer, auth_log: LogWatch
) -> None:
    """A name the certificate does not cover stops at TLS: name mismatch, no AUTH sent."""
    user = mail_server.new_user()
    report = await probe(
        mail_server,
        host=WRONG_HOSTNAME,
        port=mail_server.smtps_port,
        user=user,
        security="tls",
        dns=mail_dns,
    )
    assert report.outcome is Outcome.TLS_ERROR, describe(report)
    assert report.finding is Finding.CERT_NAME_MISMATCH
    assert await auth_log.count(mail_server.auth_mark_for(user), expected=0) == 0


async def test_untrusted_ca_stops_before_any_auth(
    mail_server: MailServer, auth_log: LogWatch
) -> None:
    """Without our CA the server's certificate is untrusted: TLS error, no AUTH sent."""
    user = mail_server.new_user()
    report = await probe(mail_server, port=mail_server.submission_port, user=user, trust_ca=False)
    assert report.outcome is Outcome.TLS_ERROR, describe(report)
    assert report.finding is Finding.CERT_UNTRUSTED
    assert await auth_log.count(mail_server.auth_mark_for(user), expected=0) == 0


async def test_without_credentials_reports_reachable_and_mechanisms(
    mail_server: MailServer,
) -> None:
    """No username: the probe stops after capabilities (after TLS) with the offered mechanisms."""
    report = await probe(mail_server, port=mail_server.submission_port, user=None)
    assert report.outcome is Outcome.REACHABLE, describe(report)
    assert report.outcome.exit_code == 0
    assert report.tls is not None
    assert {m.upper() for m in report.auth_mechanisms} >= MECHANISMS


async def test_plaintext_to_postfix_gets_no_auth_offer(
    mail_server: MailServer, auth_log: LogWatch
) -> None:
    """Security none on the submission port: Postfix offers AUTH only after TLS, so none is sent."""
    user = mail_server.new_user()
    report = await probe(mail_server, port=mail_server.submission_port, user=user, security="none")
    assert report.finding is Finding.AUTH_NOT_OFFERED, describe(report)
    assert report.outcome.exit_code != 0
    assert await auth_log.count(mail_server.auth_mark_for(user), expected=0) == 0


async def test_implicit_tls_to_the_submission_port_is_recognised(
    mail_server: MailServer, auth_log: LogWatch
) -> None:
    """TLS spoken to the STARTTLS port is named as that mismatch, with no AUTH sent."""
    user = mail_server.new_user()
    report = await probe(mail_server, port=mail_server.submission_port, user=user, security="tls")
    assert report.finding is Finding.TLS_ON_STARTTLS_PORT, describe(report)
    assert await auth_log.count(mail_server.auth_mark_for(user), expected=0) == 0


async def test_starttls_to_the_smtps_port_is_recognised(
    mail_server: MailServer, auth_log: LogWatch
) -> None:
    """Plain SMTP spoken to the implicit-TLS port (no greeting comes) is named as that mismatch."""
    user = mail_server.new_user()
    report = await probe(mail_server, port=mail_server.smtps_port, user=user, security="starttls")
    assert report.finding is Finding.STARTTLS_ON_TLS_PORT, describe(report)
    assert report.elapsed_ms < DEADLINE * 1000
    assert await auth_log.count(mail_server.auth_mark_for(user), expected=0) == 0
