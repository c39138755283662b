"""Every ``Failure`` the probe reports, and the one place foreign exceptions become one.

``classify`` looks at an exception raised inside one stage (aiosmtplib, ssl,
asyncio, the OS) and returns a ``Failure``: the outcome, the finding, a
plain-words detail and the server's reply when there was one. Nothing else in
the probe inspects foreign exceptions. aiosmtplib wraps socket and TLS errors
(``SMTPConnectError`` from an ``ssl.SSLError``...), so the cause chain is
searched for the telling one.

``starttls_missing``, ``auth_not_offered`` and ``mechanism_not_offered`` are
the failures the probe decides itself, between complete replies.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final

import aiosmtplib

from bot.errors import LookupFailed, PolicyError
from bot.probe import words
from bot.probe.model import Finding, Mechanism, Outcome, Reply, Security, Stage, Status
from bot.probe.replies import clean_text, format_reply, parse_reply
from bot.probe.xoauth2 import OAuthChallenge
from bot.resolver import LookupProblem

# OpenSSL's X509_V_ERR_* codes (ssl.SSLCertVerificationError.verify_code).
_EXPIRED: Final = frozenset({10})  # CERT_HAS_EXPIRED
_NAME_MISMATCH: Final = frozenset({62, 63, 64})  # HOSTNAME, EMAIL, IP_ADDRESS_MISMATCH
_UNTRUSTED: Final = frozenset(
    {
        2,  # UNABLE_TO_GET_ISSUER_CERT
        18,  # DEPTH_ZERO_SELF_SIGNED_CERT
        19,  # SELF_SIGNED_CERT_IN_CHAIN
        20,  # UNABLE_TO_GET_ISSUER_CERT_LOCALLY
        21,  # UNABLE_TO_VERIFY_LEAF_SIGNATURE
        27,  # CERT_UNTRUSTED
        28,  # CERT_REJECTED
    }
)
# What OpenSSL says when the peer's first bytes are not a TLS record: plaintext SMTP
# ("220 ...") read as a record header.
_NOT_TLS_REASONS: Final = frozenset(
    {"WRONG_VERSION_NUMBER", "UNKNOWN_PROTOCOL", "HTTP_REQUEST", "RECORD_LAYER_FAILURE",
     "PACKET_LENGTH_TOO_LONG", "UNEXPECTED_RECORD"}
)  # fmt: skip
_STAGE_TIMEOUT_FINDING: Final = {
    Stage.CONNECT: Finding.CONNECT_TIMEOUT,
    Stage.BANNER: Finding.BANNER_TIMEOUT,
}


class ImplicitTlsPort(Exception):
    """Raised by the engine: a plaintext session met a port that speaks TLS from the start."""


@dataclass(frozen=True, slots=True)
class Failure:
    outcome: Outcome
    finding: Finding
    detail: str
    reply: Reply | None = None
    status: Status = Status.FAIL
    refused: tuple[str, ...] = ()  # addresses the egress policy refused


@dataclass(frozen=True, slots=True, kw_only=True)
class Where:
    """What ``classify`` needs to know about the stage that failed."""

    stage: Stage
    host: str
    port: int
    address: str | None
    security: Security
    limit: float  # the stage's own timeout, seconds
    deadline: float  # the probe's overall deadline, seconds
    cut_by_deadline: bool  # the stage had less time than its own limit
    mechanism: str | None = None  # the AUTH mechanism being tried
    secrets: Sequence[str] = ()


def starttls_missing(port: int) -> Failure:
    detail = words.STARTTLS_MISSING.format(port=port)
    return Failure(Outcome.TLS_ERROR, Finding.STARTTLS_MISSING, detail)


def auth_not_offered(*, over_tls: bool) -> Failure:
    hint = "" if over_tls else words.AUTH_NOT_OFFERED_CLEAR_HINT
    detail = words.AUTH_NOT_OFFERED.format(hint=hint)
    return Failure(Outcome.PROTOCOL_ERROR, Finding.AUTH_NOT_OFFERED, detail)


def mechanism_not_offered(wanted: Mechanism, offered: Sequence[str]) -> Failure:
    shown = ", ".join(offered)
    if wanted is Mechanism.AUTO:
        detail = words.NO_USABLE_MECHANISM.format(offered=shown)
        return Failure(Outcome.PROTOCOL_ERROR, Finding.NO_USABLE_MECHANISM, detail)
    detail = words.MECHANISM_NOT_OFFERED.format(mechanism=wanted.value.upper(), offered=shown)
    return Failure(Outcome.PROTOCOL_ERROR, Finding.MECHANISM_NOT_OFFERED, detail)


def starttls_missing_offering(port: int, extensions: Sequence[str]) -> Failure:
    """``starttls_missing``, naming what the server's EHLO did offer."""
    shown = ", ".join(extensions) or "no extensions"
    detail = words.STARTTLS_MISSING_OFFERS.format(port=port, offered=shown)
    return Failure(Outcome.TLS_ERROR, Finding.STARTTLS_MISSING, detail)


def tls_on_plain_port(port: int, *, starttls: bool | None, auth: Sequence[str]) -> Failure:
    """Implicit TLS met plain SMTP: say what the port offers instead (None: not known)."""
    if starttls:
        detail = words.TLS_ON_STARTTLS_PORT_SEEN.format(port=port)
        return Failure(Outcome.TLS_ERROR, Finding.TLS_ON_STARTTLS_PORT, detail)
    if starttls is None:
        detail = words.TLS_ON_STARTTLS_PORT.format(port=port, reason="plain SMTP came back")
        return Failure(Outcome.TLS_ERROR, Finding.TLS_ON_STARTTLS_PORT, detail)
    login = f"AUTH {' '.join(auth)}" if auth else "no AUTH"
    detail = words.TLS_ON_PLAIN_PORT.format(port=port, login=login)
    return Failure(Outcome.TLS_ERROR, Finding.TLS_ON_PLAIN_PORT, detail)


def classify(exc: BaseException, where: Where) -> Failure:
    """Translate ``exc`` raised during ``where.stage`` into a ``Failure``."""
    if isinstance(exc, PolicyError):
        detail = words.POLICY_REFUSED.format(reason=clean_text(exc.reason))
        return Failure(
            Outcome.POLICY_REFUSED, Finding.POLICY_REFUSED, detail, refused=exc.addresses
        )
    if isinstance(exc, LookupFailed):
        return _dns(exc, where)
    if isinstance(exc, ImplicitTlsPort):
        detail = words.STARTTLS_ON_TLS_PORT.format(port=where.port)
        return Failure(Outcome.TLS_ERROR, Finding.STARTTLS_ON_TLS_PORT, detail)
    tls_failure = _tls(exc, where)
    if tls_failure is not None:
        return tls_failure
    if isinstance(exc, TimeoutError):  # includes aiosmtplib's SMTPTimeoutError
        return _timeout(where)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return _response(exc, where)
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected | ConnectionResetError | BrokenPipeError):
        return _lost(where)
    if isinstance(exc, aiosmtplib.SMTPConnectError) and where.stage is not Stage.CONNECT:
        cause = exc.__cause__
        return classify(cause, where) if cause is not None else _lost(where)
    if isinstance(exc, OSError):
        return _os_error(exc, where)
    return _lost(where)  # any other aiosmtplib.SMTPException: the session is unusable


def _dns(exc: LookupFailed, where: Where) -> Failure:
    host = where.host
    if exc.reason == LookupProblem.NXDOMAIN:
        finding, detail = Finding.DNS_NXDOMAIN, words.DNS_NXDOMAIN.format(host=host)
    elif exc.reason == LookupProblem.NO_ANSWER:
        finding, detail = Finding.DNS_NO_ADDRESS, words.DNS_NO_ADDRESS.format(host=host)
    elif exc.reason == LookupProblem.TIMEOUT:
        finding, detail = Finding.DNS_FAILURE, words.DNS_TIMEOUT.format(host=host)
    elif exc.reason == LookupProblem.UNREACHABLE:
        finding, detail = Finding.DNS_FAILURE, words.DNS_UNREACHABLE.format(host=host)
    else:
        finding, detail = Finding.DNS_FAILURE, words.DNS_FAILURE.format(host=host)
    return Failure(Outcome.DNS_ERROR, finding, detail)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _tls(exc: BaseException, where: Where) -> Failure | None:
    for link in _chain(exc):
        if isinstance(link, ssl.SSLCertVerificationError):
            return _certificate(link, where)
        if isinstance(link, ssl.SSLError):
            reason = str(link.reason or link.strerror or "TLS error")
            shown = clean_text(reason.replace("_", " ").lower(), max_chars=80)
            if reason in _NOT_TLS_REASONS and where.security is Security.TLS:
                detail = words.TLS_ON_STARTTLS_PORT.format(port=where.port, reason=shown)
                finding = Finding.TLS_ON_STARTTLS_PORT
            else:
                detail, finding = words.TLS_FAILED.format(reason=shown), Finding.TLS_FAILED
            return Failure(Outcome.TLS_ERROR, finding, detail)
    return None


def _certificate(exc: ssl.SSLCertVerificationError, where: Where) -> Failure:
    code = exc.verify_code
    reason = clean_text(
        str(exc.verify_message or exc.reason or "verification failed"), max_chars=120
    )
    if code in _EXPIRED:
        finding, detail = Finding.CERT_EXPIRED, words.CERT_EXPIRED.format(reason=reason)
    elif code in _NAME_MISMATCH:
        finding = Finding.CERT_NAME_MISMATCH
        detail = words.CERT_NAME_MISMATCH.format(host=where.host, reason=reason)
    elif code in _UNTRUSTED:
        finding, detail = Finding.CERT_UNTRUSTED, words.CERT_UNTRUSTED.format(reason=reason)
    else:
        finding, detail = Finding.TLS_FAILED, words.TLS_FAILED.format(reason=reason)
    return Failure(Outcome.TLS_ERROR, finding, detail)


def _timeout(where: Where) -> Failure:
    stage = where.stage.value
    if where.stage is Stage.AUTH:
        # TCP, TLS and EHLO all worked: the silence is the server's (a failed-login
        # penalty, an overloaded auth backend), and it may count as a failed attempt.
        seconds = where.deadline if where.cut_by_deadline else where.limit
        detail = words.AUTH_NO_REPLY.format(mechanism=where.mechanism or "AUTH", seconds=seconds)
        return Failure(Outcome.TIMEOUT, Finding.AUTH_NO_REPLY, detail)
    if where.cut_by_deadline:
        detail = words.DEADLINE.format(seconds=where.deadline, stage=stage)
        return Failure(Outcome.TIMEOUT, Finding.DEADLINE_EXCEEDED, detail)
    finding = _STAGE_TIMEOUT_FINDING.get(where.stage, Finding.STAGE_TIMEOUT)
    if where.stage is Stage.CONNECT:
        detail = words.CONNECT_TIMEOUT.format(
            address=where.address, port=where.port, seconds=where.limit
        )
    elif where.stage is Stage.BANNER:
        detail = words.BANNER_TIMEOUT.format(seconds=where.limit)
    else:
        detail = words.STAGE_TIMEOUT.format(stage=stage, seconds=where.limit)
    return Failure(Outcome.TIMEOUT, finding, detail)


def _response(exc: aiosmtplib.SMTPResponseException, where: Where) -> Failure:
    stage = where.stage.value
    if exc.code < 0:  # aiosmtplib's "invalid response": garbage or over-long
        text = exc.message if isinstance(exc.message, str) else ""
        if "too long" in text.lower():
            detail = words.TOO_LONG.format(stage=stage)
        else:
            detail = words.MALFORMED.format(stage=stage, reason="not a reply line")
        return Failure(Outcome.PROTOCOL_ERROR, Finding.MALFORMED_REPLY, detail)
    reply = parse_reply(exc.code, exc.message, where.secrets)
    shown = format_reply(reply)
    if isinstance(exc, aiosmtplib.SMTPConnectResponseError) or where.stage is Stage.BANNER:
        detail = words.BANNER_REJECTED.format(reply=shown)
        return Failure(Outcome.PROTOCOL_ERROR, Finding.BANNER_REJECTED, detail, reply)
    if isinstance(exc, aiosmtplib.SMTPHeloError):
        detail = words.EHLO_REJECTED.format(reply=shown)
        return Failure(Outcome.PROTOCOL_ERROR, Finding.EHLO_REJECTED, detail, reply)
    if where.stage is Stage.AUTH:
        return _auth(reply, where)
    if where.stage is Stage.TLS:
        detail = words.STARTTLS_REFUSED.format(reply=shown)
        return Failure(Outcome.TLS_ERROR, Finding.TLS_FAILED, detail, reply)
    detail = words.UNEXPECTED_REPLY.format(stage=stage, reply=shown)
    return Failure(Outcome.PROTOCOL_ERROR, Finding.MALFORMED_REPLY, detail, reply)


def _auth(reply: Reply, where: Where) -> Failure:
    """One AUTH attempt refused: 5xx for good, 4xx for now; anything else is not SMTP AUTH."""
    mechanism, shown = where.mechanism or "AUTH", format_reply(reply)
    if 500 <= reply.code <= 599:
        detail = words.AUTH_REJECTED.format(mechanism=mechanism, reply=shown)
        finding = Finding.AUTH_REJECTED
    elif 400 <= reply.code <= 499:
        detail = words.AUTH_TEMPORARY.format(mechanism=mechanism, reply=shown)
        finding = Finding.AUTH_TEMPORARY
    else:
        detail = words.AUTH_ODD_REPLY.format(mechanism=mechanism, reply=shown)
        return Failure(Outcome.PROTOCOL_ERROR, Finding.MALFORMED_REPLY, detail, reply)
    return Failure(Outcome.AUTH_REJECTED, finding, detail, reply)


def xoauth2_refused(refused: Failure, challenge: OAuthChallenge) -> Failure:
    """A refused XOAUTH2 AUTH whose 334 challenge said why (``xoauth2.decode_challenge``)."""
    if refused.finding is not Finding.AUTH_REJECTED or refused.reply is None:
        return refused
    detail = words.XOAUTH2_REFUSED.format(
        mechanism="XOAUTH2", said=challenge.describe(), reply=format_reply(refused.reply)
    )
    return Failure(Outcome.AUTH_REJECTED, Finding.XOAUTH2_REFUSED, detail, refused.reply)


def _lost(where: Where) -> Failure:
    detail = words.CONNECTION_LOST.format(stage=where.stage.value)
    return Failure(Outcome.PROTOCOL_ERROR, Finding.CONNECTION_LOST, detail)


def _os_error(exc: OSError, where: Where) -> Failure:
    if where.stage is not Stage.CONNECT:
        return _lost(where)
    address, port = where.address, where.port
    if isinstance(exc, ConnectionRefusedError):
        detail = words.CONNECT_REFUSED.format(address=address, port=port)
        return Failure(Outcome.CONNECT_ERROR, Finding.CONNECT_REFUSED, detail)
    # No route, network down, or any other socket error: nothing to talk to either way.
    reason = clean_text(exc.strerror or type(exc).__name__, max_chars=80).lower()
    detail = words.CONNECT_UNREACHABLE.format(address=address, port=port, reason=reason)
    return Failure(Outcome.CONNECT_ERROR, Finding.CONNECT_UNREACHABLE, detail)
