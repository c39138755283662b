"""The probe's vocabulary: what a probe is asked to do and what it found.

Everything here is pure data (frozen, slotted dataclasses and string enums),
so reports can be rendered, diagnosed, stored (they hold no secret) and
serialised to JSON without touching the network. The enum values are the
strings of the JSON output and the stored check records: never change one.
Importing this module loads neither the engine nor aiosmtplib.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Any

from bot.secret import Secret

IMPLICIT_TLS_PORTS: frozenset[int] = frozenset({465})
"""Ports where ``security auto`` tries implicit TLS first (RFC 8314 submissions)."""


class Stage(StrEnum):
    """One line of a report, in the order the probe can reach them."""

    RESOLVE = "resolve"
    CONNECT = "connect"
    BANNER = "banner"
    EHLO = "ehlo"
    TLS = "tls"
    AUTH = "auth"
    QUIT = "quit"


class Status(StrEnum):
    """How one stage went; only ``FAIL`` decides the outcome."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIPPED = "skipped"


class Security(StrEnum):
    """How the session is protected; ``AUTO`` is resolved by ``effective_security``."""

    AUTO = "auto"
    STARTTLS = "starttls"
    TLS = "tls"
    NONE = "none"


class Mechanism(StrEnum):
    """The SASL mechanism asked for; ``AUTO`` lets ``plan.choose_mechanism`` pick one."""

    AUTO = "auto"
    PLAIN = "plain"
    LOGIN = "login"
    CRAM_MD5 = "cram-md5"
    XOAUTH2 = "xoauth2"


class Outcome(StrEnum):
    """The verdict of one probe. ``exit_code`` maps it to the CLI contract.

    ``INTERRUPTED``, ``CRASHED`` and ``WITHHELD`` are never produced by the probe itself: they
    name checks the bot's check runner closed out without a report (the
    process restarted mid-check, or the check raised). Their values are the
    ones the runner already stores in check records.
    """

    AUTHENTICATED = "authenticated"  # AUTH accepted
    REACHABLE = "reachable"  # no credentials given; TLS fine, AUTH offered
    AUTH_REJECTED = "auth_rejected"  # the server refused the credentials (4xx/5xx)
    INVALID_INPUT = "invalid_input"
    POLICY_REFUSED = "policy_refused"  # egress policy refused every address
    DNS_ERROR = "dns_error"
    CONNECT_ERROR = "connect_error"
    TLS_ERROR = "tls_error"  # includes STARTTLS missing and certificate problems
    PROTOCOL_ERROR = "protocol_error"  # bad banner/EHLO/garbage, AUTH not offered
    TIMEOUT = "timeout"
    INTERRUPTED = "interrupted"  # the bot restarted during the check: no report
    CRASHED = "error"  # the check raised instead of reporting; "error" in stored records
    WITHHELD = "withheld"  # the bot's lockout guard stopped it before AUTH: nothing sent

    @property
    def exit_code(self) -> int:
        if self in (Outcome.AUTHENTICATED, Outcome.REACHABLE):
            return 0
        if self is Outcome.AUTH_REJECTED:
            return 1
        if self in (Outcome.INVALID_INPUT, Outcome.POLICY_REFUSED):
            return 2
        return 3


class Finding(StrEnum):
    """Machine-readable reason behind a non-ok step; diagnosis keys off these."""

    POLICY_REFUSED = "policy_refused"
    DNS_NXDOMAIN = "dns_nxdomain"
    DNS_NO_ADDRESS = "dns_no_address"
    DNS_FAILURE = "dns_failure"  # timeout, SERVFAIL, resolver unreachable
    CONNECT_REFUSED = "connect_refused"
    CONNECT_TIMEOUT = "connect_timeout"  # often a blocked port (25 from ISPs/clouds)
    CONNECT_UNREACHABLE = "connect_unreachable"
    BANNER_TIMEOUT = "banner_timeout"
    BANNER_REJECTED = "banner_rejected"  # 421/554 greeting
    EHLO_REJECTED = "ehlo_rejected"
    STARTTLS_MISSING = "starttls_missing"
    TLS_ON_STARTTLS_PORT = "tls_on_starttls_port"  # implicit TLS spoken to a STARTTLS port
    TLS_ON_PLAIN_PORT = "tls_on_plain_port"  # implicit TLS spoken to a port without any TLS
    STARTTLS_ON_TLS_PORT = "starttls_on_tls_port"  # plaintext spoken to an implicit-TLS port
    CERT_UNTRUSTED = "cert_untrusted"
    CERT_NAME_MISMATCH = "cert_name_mismatch"
    CERT_EXPIRED = "cert_expired"
    TLS_FAILED = "tls_failed"
    AUTH_NOT_OFFERED = "auth_not_offered"
    MECHANISM_NOT_OFFERED = "mechanism_not_offered"  # the one asked for is not offered
    NO_USABLE_MECHANISM = "no_usable_mechanism"  # auto: nothing offered works with a password
    AUTH_REJECTED = "auth_rejected"  # 5xx to AUTH
    AUTH_TEMPORARY = "auth_temporary"  # 4xx to AUTH (454 too many attempts...)
    XOAUTH2_REFUSED = "xoauth2_refused"  # XOAUTH2 refused with a 334 JSON error
    AUTH_NO_REPLY = "auth_no_reply"  # AUTH sent over a working session, never answered
    CONNECTION_LOST = "connection_lost"
    MALFORMED_REPLY = "malformed_reply"  # garbage or over-long reply
    STAGE_TIMEOUT = "stage_timeout"
    DEADLINE_EXCEEDED = "deadline_exceeded"
    PLAINTEXT_AUTH = "plaintext_auth"  # security=none chosen: credentials sent in clear


class ReplyCode(IntEnum):
    """The SMTP reply codes the probe reasons about."""

    SERVICE_READY = 220
    CLOSING = 221
    AUTH_SUCCESSFUL = 235
    OK = 250
    AUTH_CONTINUE = 334
    SERVICE_UNAVAILABLE = 421
    PASSWORD_TRANSITION = 432
    TEMPORARY_AUTH_FAILURE = 454
    AUTH_REQUIRED = 530
    AUTH_TOO_WEAK = 534
    AUTH_FAILED = 535
    ENCRYPTION_REQUIRED = 538
    TRANSACTION_FAILED = 554


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """One SMTP reply as the server sent it (text already length-bounded)."""

    code: int
    enhanced: str | None
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "enhanced": self.enhanced, "text": self.text}


@dataclass(frozen=True, slots=True, kw_only=True)
class StepResult:
    """What one stage found; a report is the sequence of them."""

    stage: Stage
    status: Status
    elapsed_ms: float
    detail: str
    reply: Reply | None = None
    finding: Finding | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage.value,
            "status": self.status.value,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "detail": self.detail,
            "reply": self.reply.as_dict() if self.reply else None,
            "finding": self.finding.value if self.finding else None,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsInfo:
    """Facts about a finished TLS handshake (certificate text already cleaned)."""

    version: str | None = None
    cipher: str | None = None
    subject: str | None = None
    issuer: str | None = None
    sans: tuple[str, ...] = ()
    not_after: str | None = None  # ISO 8601 date

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "cipher": self.cipher,
            "subject": self.subject,
            "issuer": self.issuer,
            "sans": list(self.sans),
            "not_after": self.not_after,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeRequest:
    """A validated request. Build it with ``bot.probe.build_request`` from raw input."""

    host: str  # normalised: lower-case punycode hostname or IP literal
    port: int
    security: Security = Security.AUTO
    mechanism: Mechanism = Mechanism.AUTO
    username: str | None = None
    password: Secret | None = field(default=None, repr=False)

    @property
    def effective_security(self) -> Security:
        """``auto`` resolved to a first guess: 465 is implicit TLS, every other port
        STARTTLS. The engine corrects the guess when the server shows otherwise."""
        if self.security is Security.AUTO:
            return Security.TLS if self.port in IMPLICIT_TLS_PORTS else Security.STARTTLS
        return self.security

    @property
    def has_credentials(self) -> bool:
        return self.username is not None and self.password is not None


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeReport:
    """Everything one probe found. Holds no secret: safe to store, log and render."""

    host: str
    port: int
    security: Security  # effective security used
    username: str | None
    outcome: Outcome
    steps: tuple[StepResult, ...]
    address: str | None = None  # the checked IP actually connected to
    mechanism: str | None = None  # the one AUTH mechanism tried, if any
    wanted_mechanism: str | None = None  # the one asked for (None for auto), upper case
    auth_mechanisms: tuple[str, ...] = ()  # as advertised in the last EHLO
    tls: TlsInfo | None = None
    refused_addresses: tuple[str, ...] = ()  # what the egress policy refused, if it did
    transcript: tuple[str, ...] = ()  # swaks-style, credentials removed
    elapsed_ms: float = 0.0

    @property
    def finding(self) -> Finding | None:
        """The finding of the step that decided the outcome (last one with a finding)."""
        for step in reversed(self.steps):
            if step.finding is not None and step.status is not Status.OK:
                return step.finding
        return None

    @property
    def possible_failed_attempt(self) -> bool:
        """Whether the server may count this probe as a failed login: an AUTH went out
        (``mechanism`` is set right before the credentials are written) and did not
        succeed: refused, never answered (a penalty delay may mean it already counted
        it), or cut off by a dropped connection. The same rule as the bot's lockout
        budget, which keeps every such AUTH booked."""
        if self.outcome is Outcome.AUTH_REJECTED or self.finding is Finding.AUTH_NO_REPLY:
            return True
        return self.mechanism is not None and self.outcome is not Outcome.AUTHENTICATED

    @property
    def failed_step(self) -> StepResult | None:
        for step in self.steps:
            if step.status is Status.FAIL:
                return step
        return None

    @property
    def auth_reply(self) -> Reply | None:
        for step in self.steps:
            if step.stage is Stage.AUTH and step.reply is not None:
                return step.reply
        return None

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "host": self.host,
            "port": self.port,
            "security": self.security.value,
            "username": self.username,
            "address": self.address,
            "mechanism": self.mechanism,
            "wanted_mechanism": self.wanted_mechanism,
            "auth_mechanisms": list(self.auth_mechanisms),
            "tls": self.tls.as_dict() if self.tls else None,
            "refused_addresses": list(self.refused_addresses),
            "finding": self.finding.value if self.finding else None,
            "possible_failed_attempt": self.possible_failed_attempt,
            "elapsed_ms": round(self.elapsed_ms, 1),
            "steps": [step.as_dict() for step in self.steps],
            "transcript": list(self.transcript),
        }


OnStep = Callable[[StepResult], Awaitable[None]]
"""Progress callback: awaited after each stage with its ``StepResult``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthAttempt:
    """What is about to be signed in to, handed to ``BeforeAuth`` (no secret)."""

    host: str
    port: int
    username: str
    address: str  # the checked IP the socket is connected to
    addresses: tuple[str, ...]  # every address the host resolved to


BeforeAuth = Callable[[AuthAttempt], Awaitable[None]]
"""Awaited right before the AUTH command (the credentials) is written. If it raises,
nothing is sent and ``run_probe`` raises ``AuthWithheld`` from that error."""


class AuthWithheld(Exception):
    """``before_auth`` refused or failed: the credentials were never sent."""
