"""What one probe will do, decided without the network: the engine is a thin loop around it.

- ``actions(security)``: the engine's actions in order for an effective security
  mode (``auto`` is resolved by ``ProbeRequest.effective_security`` first). The
  run stops at the first action that fails; QUIT follows (after the report) when the
  dialogue is still in step (``keeps_dialogue``) and ``Deadline.quit_budget``
  leaves time for it.
- ``choose_mechanism``: the one AUTH mechanism to try, from what the server offers.
- ``Limits`` and ``Deadline``: each stage's own timeout, and how much of it is
  left under the overall deadline (a stage gets ``min(its limit, time left)``,
  so a server answering each step just in time cannot stretch the probe).

Pure: no I/O, no clock of its own (callers pass ``time.monotonic()`` readings).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from bot.probe.model import Finding, Mechanism, Security, Stage

# The outer guard is a backstop a little past the deadline; stage budgets already end at it.
GUARD_GRACE: Final = 0.25
# A timeout with less than this left was the deadline's, not the stage's own limit.
DEADLINE_SLACK: Final = 0.01
# Below this, QUIT is not worth sending: the connection is simply closed.
MIN_QUIT_BUDGET: Final = 0.05
# A DNS lifetime of zero means "no limit" to dnspython; the smallest real one instead.
_MIN_DNS_LIFETIME: Final = 0.001
# dnspython's lifetime ends this much before the resolve stage's own timeout, so a DNS
# server that never answers is reported as what it is (DNS did not answer), not as a
# stage that overran.
DNS_MARGIN: Final = 0.05

# Best first. Over TLS the password is protected anyway and PLAIN is the most widely
# working; in the clear, CRAM-MD5 at least keeps the password itself off the wire.
PREFERENCE_TLS: Final = (Mechanism.PLAIN, Mechanism.LOGIN, Mechanism.CRAM_MD5)
PREFERENCE_CLEAR: Final = (Mechanism.CRAM_MD5, Mechanism.PLAIN, Mechanism.LOGIN)

# Failures the probe decides itself, between complete replies: QUIT still makes sense.
_DECIDED_HERE: Final = frozenset(
    {Finding.STARTTLS_MISSING, Finding.AUTH_NOT_OFFERED, Finding.MECHANISM_NOT_OFFERED}
)


class Action(StrEnum):
    """One thing the engine does; it reports one ``Stage`` (``IMPLICIT_TLS`` reports two)."""

    RESOLVE = "resolve"
    CONNECT = "connect"
    BANNER = "banner"  # plaintext greeting
    IMPLICIT_TLS = "implicit_tls"  # handshake, then the greeting over TLS (tls + banner)
    EHLO = "ehlo"
    STARTTLS = "starttls"
    TLS_OFF = "tls_off"  # security none: a tls step saying so, never a failure
    AUTH = "auth"


_OPENING: Final = (Action.RESOLVE, Action.CONNECT)
_ACTIONS: Final[dict[Security, tuple[Action, ...]]] = {
    Security.STARTTLS: (
        *_OPENING,
        Action.BANNER,
        Action.EHLO,
        Action.STARTTLS,
        Action.EHLO,  # again: capabilities (AUTH above all) change after STARTTLS
        Action.AUTH,
    ),
    Security.TLS: (*_OPENING, Action.IMPLICIT_TLS, Action.EHLO, Action.AUTH),
    Security.NONE: (*_OPENING, Action.BANNER, Action.EHLO, Action.TLS_OFF, Action.AUTH),
}


def actions(security: Security) -> tuple[Action, ...]:
    """The actions for an effective security mode, in order; ``auto`` must be resolved first."""
    if security is Security.AUTO:
        raise ValueError("security auto has no plan of its own; use effective_security")
    return _ACTIONS[security]


def choose_mechanism(
    wanted: Mechanism, offered: Iterable[str], *, over_tls: bool
) -> Mechanism | None:
    """The one mechanism to try, or None when the server offers no usable one.

    An explicit choice is used only when offered; ``auto`` takes the first
    offered one in the preference order for the channel (``PREFERENCE_TLS`` or
    ``PREFERENCE_CLEAR``). XOAUTH2 is never chosen automatically: its
    "password" is a token, which only the caller knows it gave.
    """
    names = {name.lower() for name in offered}
    if wanted is not Mechanism.AUTO:
        return wanted if wanted.value in names else None
    preference = PREFERENCE_TLS if over_tls else PREFERENCE_CLEAR
    return next((m for m in preference if m.value in names), None)


def keeps_dialogue(finding: Finding, *, has_reply: bool) -> bool:
    """Whether the SMTP dialogue is still in step after a failure, so QUIT makes sense.

    A refusal with a complete reply, or a decision of ours, leaves it in step;
    a timeout, garbage or a drop does not.
    """
    return has_reply or finding in _DECIDED_HERE


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Per-stage timeouts in seconds; each is further capped by the time left."""

    # One lookup: a query, and one retry of a lost datagram (bot.resolver.DNS_LIFETIME).
    # A DNS server that never answers fails the probe in about a second, not five.
    dns: float = 1.2
    connect: float = 5.0  # per address tried
    banner: float = 10.0
    command: float = 10.0  # EHLO, each AUTH exchange
    tls: float = 10.0  # STARTTLS command plus handshake, or the implicit handshake
    quit: float = 2.0
    sniff: float = 2.0  # the ClientHello test after a silent greeting, or the plain survey
    # A plaintext greeting later than this starts the race against a TLS handshake on a
    # second connection (mode.greeting_or_tls): servers greet within milliseconds.
    greeting_window: float = 1.0

    def for_stage(self, stage: Stage) -> float:
        """The timeout of ``stage``: EHLO and AUTH are commands, the rest have their own."""
        match stage:
            case Stage.RESOLVE:
                return self.dns
            case Stage.CONNECT:
                return self.connect
            case Stage.BANNER:
                return self.banner
            case Stage.TLS:
                return self.tls
            case Stage.QUIT:
                return self.quit
            case Stage.EHLO | Stage.AUTH:
                return self.command


DEFAULT_LIMITS: Final = Limits()


@dataclass(frozen=True, slots=True)
class Deadline:
    """The probe's overall deadline: ``seconds`` long, ending at ``ends`` (monotonic time)."""

    seconds: float
    ends: float

    @classmethod
    def starting(cls, seconds: float, *, now: float) -> Deadline:
        return cls(seconds, now + seconds)

    @property
    def guard(self) -> float:
        """Seconds for the backstop around the whole run, a little past the deadline."""
        return self.seconds + GUARD_GRACE

    def remaining(self, now: float) -> float:
        return self.ends - now

    def budget(self, limit: float, now: float) -> float:
        """Seconds a stage with timeout ``limit`` may take from ``now``: never past the end."""
        return max(0.0, min(limit, self.ends - now))

    def dns_lifetime(self, limit: float, now: float) -> float:
        """``budget`` less ``DNS_MARGIN`` for dnspython, which reads 0 as no limit at all."""
        return max(self.budget(limit, now) - DNS_MARGIN, _MIN_DNS_LIFETIME)

    def cut(self, now: float) -> bool:
        """Whether a timeout at ``now`` was the deadline's rather than the stage's own."""
        return self.remaining(now) < DEADLINE_SLACK

    def quit_budget(self, limit: float, now: float) -> float | None:
        """Seconds for QUIT, or None when too little is left to be worth sending it."""
        budget = self.budget(limit, now)
        return budget if budget >= MIN_QUIT_BUDGET else None
