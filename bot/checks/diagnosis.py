"""From a probe report to plain words: what happened, the likely cause, what to read, what to do.

The wording is a table keyed by the probe's ``Finding`` (and, where no step has a
finding, by its ``Outcome``); a few entries have a port-specific twin (a timeout
on port 25 is almost always the network blocking it). For a refused or
temporarily refused login the server's own reply is run through
``knowledge.explain_reply``, with the provider guessed from the probed host, so
"535 5.7.139 ... SmtpClientAuthentication is disabled" gets the Microsoft 365
answer rather than "check your password".

Template fields: ``{host}``, ``{port}``, ``{security}``, ``{mechanism}``,
``{offered}`` (AUTH mechanisms the server listed). Values are inserted once,
never re-interpreted, so server-supplied text cannot inject formatting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from bot.probe.model import Finding, Outcome, ProbeReport
from knowledge import KnowledgeBase, Match, explain_reply, provider_for_host


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnosis:
    summary: str
    cause: str
    articles: tuple[str, ...]
    next_steps: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "cause": self.cause,
            "articles": list(self.articles),
            "next_steps": list(self.next_steps),
        }


@dataclass(frozen=True, slots=True)
class _Entry:
    summary: str
    cause: str
    articles: tuple[str, ...]
    next_steps: tuple[str, ...]


_CHECK_HOST = "Check the server name for typos and compare it with your provider's settings page."

FINDINGS: Final[Mapping[Finding, _Entry]] = {
    Finding.POLICY_REFUSED: _Entry(
        "This check is not allowed to connect to {host}.",
        "The address belongs to a private, internal or reserved network that the checker is "
        "not allowed to reach.",
        ("server-settings",),
        (
            "Use the public name of your mail provider's server, not an internal address.",
            "If this is a company relay, ask IT to test it from inside the network.",
        ),
    ),
    Finding.DNS_NXDOMAIN: _Entry(
        "The server name {host} does not exist.",
        "The name is probably mistyped (for example 'smpt' instead of 'smtp') or belongs to "
        "a domain that has no mail server of that name.",
        ("server-settings", "cannot-connect"),
        (_CHECK_HOST, "Try `smtpcheck discover you@yourdomain` to find the right server."),
    ),
    Finding.DNS_NO_ADDRESS: _Entry(
        "The name {host} exists but has no address to connect to.",
        "The name is not a mail server (it may be your web site or a mail-receiving MX name).",
        ("server-settings",),
        (_CHECK_HOST,),
    ),
    Finding.DNS_FAILURE: _Entry(
        "The name {host} could not be looked up right now.",
        "The DNS server did not answer or reported an error; this is usually temporary.",
        ("cannot-connect",),
        ("Try again in a few minutes.", "If it keeps failing, check your network or VPN."),
    ),
    Finding.CONNECT_REFUSED: _Entry(
        "{host} refused the connection on port {port}.",
        "Nothing accepts mail submissions on that port: the port is probably wrong.",
        ("ports-and-encryption", "server-settings", "cannot-connect"),
        (
            "Use port 587 with STARTTLS, or 465 with SSL/TLS, as your provider documents.",
            _CHECK_HOST,
        ),
    ),
    Finding.CONNECT_TIMEOUT: _Entry(
        "The connection to {host} on port {port} timed out.",
        "Something between you and the server drops the connection: a firewall, antivirus, "
        "VPN, or the wrong port.",
        ("firewall-antivirus", "cannot-connect", "ports-and-encryption"),
        (
            "Try port 587 (STARTTLS) or 465 (SSL/TLS).",
            "Pause antivirus mail scanning or the VPN for one test.",
            "Try from another network, such as a phone hotspot.",
        ),
    ),
    Finding.CONNECT_UNREACHABLE: _Entry(
        "{host} cannot be reached from here.",
        "There is no network route to the server (network down, VPN, or firewall).",
        ("cannot-connect", "firewall-antivirus"),
        ("Check the internet connection and any VPN, then try again.",),
    ),
    Finding.BANNER_TIMEOUT: _Entry(
        "{host} accepted the connection on port {port} but never said hello.",
        "The port is probably expecting encryption from the first byte, or a filter is "
        "holding the connection.",
        ("ports-and-encryption", "tls-mode-mismatch", "firewall-antivirus"),
        ("If the port is 465, use SSL/TLS; if it is 587, use STARTTLS.",),
    ),
    Finding.BANNER_REJECTED: _Entry(
        "{host} refused to talk to this connection.",
        "The server is busy, under maintenance, or is refusing connections from this network "
        "(a 421 or 554 greeting).",
        ("rate-limited", "contact-provider"),
        ("Wait a while and try again.", "If it keeps happening, contact your provider."),
    ),
    Finding.EHLO_REJECTED: _Entry(
        "{host} refused the greeting (EHLO).",
        "The server is not accepting mail submissions from this connection.",
        ("server-settings", "contact-provider"),
        (_CHECK_HOST, "If the settings are right, contact your provider."),
    ),
    Finding.STARTTLS_MISSING: _Entry(
        "{host} on port {port} does not offer encryption (STARTTLS), so no password was sent.",
        "The port is not a submission port, or something on the network strips encryption.",
        ("starttls-required", "ports-and-encryption", "firewall-antivirus"),
        (
            "Use port 587 with STARTTLS or 465 with SSL/TLS.",
            "If antivirus scans outgoing mail, pause that feature for one test.",
        ),
    ),
    Finding.TLS_ON_STARTTLS_PORT: _Entry(
        "Port {port} on {host} expects STARTTLS, but the connection started with SSL/TLS.",
        "The encryption setting does not match the port: this port starts unencrypted and "
        "switches on encryption with STARTTLS.",
        ("tls-mode-mismatch", "ports-and-encryption"),
        (
            "Set encryption to STARTTLS for port {port}.",
            "Or keep SSL/TLS and change the port to 465, if your provider offers it.",
        ),
    ),
    Finding.STARTTLS_ON_TLS_PORT: _Entry(
        "Port {port} on {host} expects SSL/TLS from the start, but the connection used STARTTLS.",
        "The encryption setting does not match the port: this port is encrypted from the "
        "first byte (often labelled SSL/TLS).",
        ("tls-mode-mismatch", "ports-and-encryption"),
        (
            "Set encryption to SSL/TLS for port {port}.",
            "Or keep STARTTLS and change the port to 587.",
        ),
    ),
    Finding.CERT_UNTRUSTED: _Entry(
        "The certificate of {host} is not from a trusted issuer.",
        "The server uses a self-signed or private certificate, or something on the network "
        "(antivirus, proxy) intercepts the encrypted connection.",
        ("tls-certificate", "firewall-antivirus"),
        (
            "Use your provider's official server name, whose certificate is trusted.",
            "If antivirus inspects encrypted mail, turn that feature off.",
        ),
    ),
    Finding.CERT_NAME_MISMATCH: _Entry(
        "The certificate of {host} is issued for another name.",
        "You are using a name (often your own domain) that the server's certificate does not "
        "cover; hosting companies usually want their own server name here.",
        ("tls-certificate", "server-settings"),
        ("Use the server name the certificate is issued for, as your host documents.",),
    ),
    Finding.CERT_EXPIRED: _Entry(
        "The certificate of {host} has expired.",
        "The server's certificate was not renewed in time; only the server's owner can fix it.",
        ("tls-certificate", "contact-provider"),
        (
            "Tell your provider or mail administrator that the certificate has expired.",
            "Check that this device's date and time are correct.",
        ),
    ),
    Finding.TLS_FAILED: _Entry(
        "The encrypted connection to {host} could not be set up.",
        "The two sides could not agree on encryption: an old TLS version, a wrong port, or "
        "something intercepting the connection.",
        ("tls-mode-mismatch", "tls-certificate", "ports-and-encryption"),
        (
            "Use 587 with STARTTLS or 465 with SSL/TLS.",
            "Update the mail app or device; old ones cannot speak TLS 1.2.",
        ),
    ),
    Finding.AUTH_NOT_OFFERED: _Entry(
        "{host} on port {port} does not offer login (AUTH).",
        "This port or server does not accept logins from mail apps: it may be a receiving "
        "(MX) server, or login is offered only after encryption or on another port.",
        ("auth-not-offered", "server-settings", "ports-and-encryption"),
        (
            "Use your provider's submission server (often smtp.<your domain>) on 587 or 465.",
            "Make sure encryption (STARTTLS or SSL/TLS) is on.",
        ),
    ),
    Finding.MECHANISM_NOT_OFFERED: _Entry(
        "{host} does not offer the login method {mechanism} (it offers: {offered}).",
        "The app is set to a login method this server does not support.",
        ("auth-method", "oauth-modern-auth"),
        (
            "Set the authentication method to 'Normal password' (PLAIN/LOGIN), or leave it on "
            "automatic.",
        ),
    ),
    Finding.AUTH_REJECTED: _Entry(
        "{host} refused the username or password.",
        "The server did not accept the login: usually a wrong password or username, or an "
        "account that needs an app password or a different sign-in method.",
        ("check-credentials", "app-passwords", "reset-password"),
        (
            "Use your full email address as the username.",
            "Type the password again by hand; if two-step verification is on, use an app password.",
        ),
    ),
    Finding.AUTH_TEMPORARY: _Entry(
        "{host} temporarily refused the login.",
        "The server is not accepting logins for this account right now, often after too many "
        "attempts.",
        ("rate-limited", "account-lockout"),
        (
            "Wait at least 15 minutes, and stop every device that keeps retrying with an old "
            "password.",
        ),
    ),
    Finding.CONNECTION_LOST: _Entry(
        "{host} closed the connection in the middle of the check.",
        "The server dropped the session: an overloaded server, a security filter, or a port "
        "that expects a different kind of encryption.",
        ("cannot-connect", "ports-and-encryption", "firewall-antivirus"),
        ("Try again; if it repeats, try the other port (587 or 465).",),
    ),
    Finding.MALFORMED_REPLY: _Entry(
        "{host} on port {port} answered with something that is not SMTP.",
        "This port runs another service, or encrypted traffic is arriving where plain SMTP "
        "was expected.",
        ("ports-and-encryption", "tls-mode-mismatch", "server-settings"),
        ("Check the port: 587 with STARTTLS or 465 with SSL/TLS.",),
    ),
    Finding.STAGE_TIMEOUT: _Entry(
        "{host} stopped answering during the check.",
        "The server or the network is very slow, or a filter holds the connection.",
        ("cannot-connect", "firewall-antivirus"),
        ("Try again later; if it repeats, try another network.",),
    ),
    Finding.DEADLINE_EXCEEDED: _Entry(
        "The check of {host} took too long and was stopped.",
        "The server or the network is very slow.",
        ("cannot-connect", "firewall-antivirus"),
        ("Try again later; if it repeats, try another network.",),
    ),
    Finding.PLAINTEXT_AUTH: _Entry(
        "The login was sent without encryption.",
        "Encryption was switched off for this check, so the password crossed the network in "
        "the clear.",
        ("ports-and-encryption", "starttls-required"),
        ("Turn on STARTTLS (587) or SSL/TLS (465) in the app, and change the password.",),
    ),
}

# A timeout or refusal on port 25 is the network, not the server: ISPs and clouds block it.
PORT_25: Final[Mapping[Finding, _Entry]] = {
    finding: _Entry(
        "Port 25 to {host} is blocked or closed from this network.",
        "Internet providers, company networks and clouds block port 25 for mail apps; it is "
        "meant for server-to-server mail.",
        ("port-25-blocked", "ports-and-encryption"),
        ("Use port 587 with STARTTLS (or 465 with SSL/TLS) instead of 25.",),
    )
    for finding in (Finding.CONNECT_TIMEOUT, Finding.CONNECT_REFUSED, Finding.BANNER_TIMEOUT)
}

OUTCOMES: Final[Mapping[Outcome, _Entry]] = {
    Outcome.AUTHENTICATED: _Entry(
        "Login to {host} on port {port} works.",
        "The server accepted the username and password.",
        ("prevent-future-errors",),
        (
            "Use exactly these settings in your mail app: {host}, port {port}, {security}.",
            "If the app still fails, re-enter the password there.",
        ),
    ),
    Outcome.REACHABLE: _Entry(
        "{host} on port {port} is reachable, encryption works and login is offered ({offered}).",
        "No username was given, so the password itself was not tested.",
        ("server-settings", "check-credentials"),
        ("Run the check again with your username to test the password.",),
    ),
    Outcome.INVALID_INPUT: _Entry(
        "The check could not start: some input is not valid.",
        "The server name, port or another field is not in a form that can be checked.",
        ("server-settings",),
        ("Correct the field named in the error and try again.",),
    ),
    Outcome.POLICY_REFUSED: FINDINGS[Finding.POLICY_REFUSED],
    Outcome.DNS_ERROR: FINDINGS[Finding.DNS_FAILURE],
    Outcome.CONNECT_ERROR: FINDINGS[Finding.CONNECT_TIMEOUT],
    Outcome.TLS_ERROR: FINDINGS[Finding.TLS_FAILED],
    Outcome.PROTOCOL_ERROR: FINDINGS[Finding.MALFORMED_REPLY],
    Outcome.TIMEOUT: FINDINGS[Finding.DEADLINE_EXCEEDED],
    Outcome.AUTH_REJECTED: FINDINGS[Finding.AUTH_REJECTED],
}

MAX_STEPS: Final = 4


def _fields(report: ProbeReport) -> dict[str, str]:
    return {
        "host": report.host,
        "port": str(report.port),
        "security": "SSL/TLS" if report.security.value == "tls" else report.security.value.upper(),
        "mechanism": (report.mechanism or "auto").upper(),
        "offered": ", ".join(report.auth_mechanisms) or "none",
    }


def _entry(report: ProbeReport) -> _Entry:
    finding = report.finding
    success = report.outcome in (Outcome.AUTHENTICATED, Outcome.REACHABLE)
    if finding is None or (success and finding is not Finding.PLAINTEXT_AUTH):
        return OUTCOMES[report.outcome]
    if success:  # worked, but over plaintext: say both
        ok, warn = OUTCOMES[report.outcome], FINDINGS[finding]
        return _Entry(f"{ok.summary} {warn.summary}", warn.cause, warn.articles, warn.next_steps)
    if report.port == 25 and finding in PORT_25:
        return PORT_25[finding]
    return FINDINGS[finding]


def _reply_match(report: ProbeReport, kb: KnowledgeBase) -> Match | None:
    reply = report.auth_reply
    if reply is None or report.finding not in (Finding.AUTH_REJECTED, Finding.AUTH_TEMPORARY):
        return None
    provider = provider_for_host(kb, report.host)
    text = " ".join(str(part) for part in (reply.code, reply.enhanced or "", reply.text) if part)
    matches = explain_reply(kb, text, provider=provider.id if provider else None)
    return matches[0] if matches else None


def diagnose(report: ProbeReport, kb: KnowledgeBase) -> Diagnosis:
    """Plain-words summary, most likely cause, article ids and next steps for ``report``."""
    entry = _entry(report)
    fields = _fields(report)
    summary = entry.summary.format_map(fields)
    cause, articles = entry.cause, entry.articles
    steps = tuple(step.format_map(fields) for step in entry.next_steps)
    match = _reply_match(report, kb)
    if match is not None:
        cause, articles = match.cause, match.articles
        first = kb.articles.get(match.articles[0])
        if first is not None:
            steps = first.steps_for(match.provider)[:MAX_STEPS]
    known = tuple(article for article in dict.fromkeys(articles) if article in kb.articles)
    return Diagnosis(summary=summary, cause=cause, articles=known, next_steps=steps)
