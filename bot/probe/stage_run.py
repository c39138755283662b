"""One stage under way: ``StageRun``, which the engine's ``_stage()`` hands to a stage's code.

A run knows its stage, when it began and its own timeout (``Limits.for_stage``).
The stage's code ends it one of three ways:

- ``ok``/``finish``/``finish_step``: a step without failure (ok, warn, skipped);
- ``fail(failure)``: a decision of ours (STARTTLS missing...) or a failure the
  code weighed itself; raises ``StageFailed`` so nothing after it runs;
- letting ``run``'s exception through: network and server behaviour, which
  ``_stage()`` reads with ``classify`` (the one translation of foreign exceptions).

``run`` bounds one action by ``min(limit, time left)`` and refuses to start it
when no time is left; ``attempt`` is ``run`` returning the ``Failure`` instead,
for stages that try more than once (connect) or look twice (banner).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Final, NoReturn, TypeVar

import aiosmtplib

from bot.probe.draft import ReportDraft
from bot.probe.failures import Failure, ImplicitTlsPort, Where, classify
from bot.probe.model import Finding, Reply, Stage, Status, StepResult
from bot.probe.plan import Deadline, Limits

_T = TypeVar("_T")

# What a stage's code may raise for network or server behaviour; ``classify`` reads it.
STAGE_ERRORS: Final = (OSError, aiosmtplib.SMTPException, ImplicitTlsPort)


class StageFailed(Exception):
    """Raised by ``StageRun.fail`` to end the stage's code; the engine records the failure."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.detail)
        self.failure = failure


class StageRun:
    """The stage under way: its clock, its budget, and how it ended."""

    __slots__ = ("_deadline", "_draft", "_limits", "earlier", "limit", "stage", "started", "step")

    def __init__(
        self,
        stage: Stage,
        *,
        started: float,
        limits: Limits,
        deadline: Deadline,
        draft: ReportDraft,
    ) -> None:
        self._limits = limits
        self._deadline = deadline
        self._draft = draft
        self.stage = stage
        self.started = started
        self.limit = limits.for_stage(stage)
        self.earlier: list[StepResult] = []  # finished steps to add before this one
        self.step: StepResult | None = None  # set when the stage ended without failure

    @property
    def passed(self) -> bool:
        return self.step is not None

    def budget(self) -> float:
        """Seconds this stage may still take: its own limit, capped by the time left."""
        return self._deadline.budget(self.limit, time.monotonic())

    async def run(self, action: Callable[[], Awaitable[_T]]) -> _T:
        """``action()`` under ``budget()``; what it raises ends the stage as its failure."""
        budget = self.budget()
        try:
            if budget <= 0:
                raise TimeoutError
            async with asyncio.timeout(budget):
                return await action()
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code < 0:  # aiosmtplib's "invalid response": show what came instead
                self._draft.transcript.garbage(exc.message)
            raise

    async def attempt(self, action: Callable[[], Awaitable[_T]]) -> _T | Failure:
        """Like ``run``, but the failure is returned for the caller to weigh, not recorded."""
        try:
            return await self.run(action)
        except STAGE_ERRORS as exc:
            return self.classify(exc)

    def classify(self, exc: BaseException) -> Failure:
        """``failures.classify`` for ``exc`` raised during this stage, now."""
        draft = self._draft
        where = Where(
            stage=self.stage,
            host=draft.request.host,
            port=draft.request.port,
            address=str(draft.address) if draft.address else None,
            security=draft.security,
            limit=self.limit,
            deadline=self._deadline.seconds,
            cut_by_deadline=self._deadline.cut(time.monotonic()),
            mechanism=draft.mechanism,
            secrets=draft.secrets,
        )
        return classify(exc, where)

    def fail(self, failure: Failure) -> NoReturn:
        """End the stage with ``failure``."""
        raise StageFailed(failure)

    def ok(self, detail: str, reply: Reply | None = None) -> None:
        self.finish(Status.OK, detail, reply=reply)

    def finish(
        self,
        status: Status,
        detail: str,
        *,
        reply: Reply | None = None,
        finding: Finding | None = None,
    ) -> None:
        """End the stage without a failure: ok, a warning, or skipped."""
        elapsed = (time.monotonic() - self.started) * 1000
        self.finish_step(
            StepResult(
                stage=self.stage,
                status=status,
                elapsed_ms=elapsed,
                detail=detail,
                reply=reply,
                finding=finding,
            )
        )

    def finish_step(self, step: StepResult) -> None:
        """End the stage with a step built elsewhere (the draft's ``tls`` step)."""
        self.step = step

    def advance(self, stage: Stage, *, finished: StepResult) -> None:
        """Go on to ``stage`` within the same action, ``finished`` being the one before."""
        self.earlier.append(finished)
        self.stage = stage
        self.started = time.monotonic()
        self.limit = self._limits.for_stage(stage)
