"""What the check runner is given and gives: the probe and sign-in functions it calls,
who asked for a check, an admitted check, the sink that shows a check's life (the Slack
side implements it), and the refusal while draining. No Slack, no I/O."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final, Protocol

from bot.checks.advice import Advice
from bot.checks.limits import Reservation
from bot.errors import SmtpcheckError
from bot.oauth.errors import SignInFailed
from bot.probe.model import BeforeAuth, OnStep, ProbeReport, ProbeRequest, StepResult
from bot.secret import Secret
from bot.store.base import CheckRecord

SignInFn = Callable[[CheckRecord], Awaitable[Secret]]
"""Gets the access token for a check that signs in (the request then carries no password)."""

SIGN_IN_OUTCOME: Final = "sign_in_failed"
"""The stored outcome of a check whose sign-in produced no token (no probe was run)."""
LEASE_TTL: Final = 30.0
"""A process that has not renewed its lease for this long is gone; its checks are swept."""

HEARTBEAT_EVERY: Final = 5.0
"""How often a live process renews its lease (several renewals fit in one TTL)."""

ProbeFn = Callable[[ProbeRequest, OnStep, BeforeAuth], Awaitable[ProbeReport]]


class CheckRefused(SmtpcheckError):
    """The runner does not take new checks (shutting down); ``message`` says so."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckOrder:
    """Who asked for a check and from where; no secret."""

    user_id: str
    team_id: str | None
    origin_channel: str | None
    submission_key: str  # identifies one submission (view id + hash): duplicates are dropped


@dataclass(frozen=True, slots=True)
class Admission:
    record: CheckRecord
    reservation: Reservation


class CheckSink(Protocol):
    """Where a check's life is shown (the user's DM thread, for Slack)."""

    async def started(self, record: CheckRecord) -> tuple[str, str]:
        """Announce the check; return (channel, thread_ts) of its parent message."""

    async def progress(self, record: CheckRecord, steps: tuple[StepResult, ...]) -> None:
        """Show the stages completed so far."""

    async def finished(self, record: CheckRecord, report: ProbeReport, advice: Advice) -> None:
        """Show the verdict, the stage details and the advice."""

    async def crashed(self, record: CheckRecord, reference: str) -> None:
        """Tell the user the check could not complete."""

    async def sign_in_failed(self, record: CheckRecord, failure: SignInFailed) -> None:
        """Tell the user the sign-in produced no token, so nothing was probed."""

    async def withheld(self, record: CheckRecord, reason: str) -> None:
        """Tell the user no sign-in was attempted, and why."""

    async def plain(self, record: CheckRecord, text: str) -> None:
        """Post ``text`` plainly in the check's thread (when the rich verdict failed)."""
