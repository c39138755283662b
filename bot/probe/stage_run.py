"""One stage under way: ``StageRun``, which the engine's ``_stage()`` begins for a stage's code.

A run knows its stage, when it began and its own timeout (``Limits.for_stage``).
The stage's code ends it one of three ways:

- ``ok``/``finish``/``finish_step``: a step without failure (ok, warn, skipped);
- ``fail(failure)``: a decision of ours (STARTTLS missing...) or a failure the
  code weighed itself; raises ``StageFailed`` so nothing after it runs;
- letting ``run``'s exception through: network and server behaviour, which
  ``StageRun.__exit__`` reads with ``classify`` (the one translation of foreign exceptions).

``run`` bounds one action by ``min(limit, time left)`` and refuses to start it
when no time is left; ``attempt`` is ``run`` returning the ``Failure`` instead,
for stages that try more than once (connect) or look twice (banner).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, Final, NoReturn, TypeVar

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


class Alarm:
    """The timer behind every ``StageRun.run`` of one probe (its task): one armed timer
    for the nearest bound, instead of an ``asyncio.timeout`` (an object, a timer handle
    and a context) per action. A later bound keeps the armed timer, which on ringing
    early re-arms for the bound then in force; with none in force it just goes away."""

    __slots__ = ("_at", "_base", "_due", "_handle", "_loop", "_rung", "_task")

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None  # run_probe always runs in a task
        self._task: asyncio.Task[object] | None = task
        self._handle: asyncio.TimerHandle | None = None
        self._at = 0.0  # when the armed timer rings (loop time)
        self._due: float | None = None  # the bound in force
        self._base = 0  # the task's cancel requests before the bound
        self._rung = False

    def bound(self, seconds: float) -> None:
        """Cancel the task ``seconds`` from now unless ``lift`` comes first."""
        task = self._task
        assert task is not None
        due = self._loop.time() + seconds
        self._due, self._base, self._rung = due, task.cancelling(), False
        if self._handle is None or due < self._at:
            if self._handle is not None:
                self._handle.cancel()
            self._arm(due)

    def lift(self) -> None:
        self._due, self._rung = None, False

    def rang(self) -> bool:
        """For a ``CancelledError`` under the bound: whether it was the bound's own."""
        if not self._rung or self._task is None:
            return False
        self._rung = False
        return self._task.uncancel() <= self._base

    def close(self) -> None:
        """The probe is over: no timer left behind."""
        if self._handle is not None:
            self._handle.cancel()
        self._handle, self._task, self._due = None, None, None

    def _arm(self, due: float) -> None:
        self._at = due
        self._handle = self._loop.call_at(due, self._ring)

    def _ring(self) -> None:
        self._handle = None
        due = self._due
        if due is None or self._task is None:
            return
        if due > self._loop.time():
            self._arm(due)
            return
        self._rung = True
        self._task.cancel()


class StageRun:
    """The stage under way: its clock, its budget, and how it ended. One per probe, begun
    again for each stage (``begin``), and the context manager around the stage's code:
    on exit the step or the failure goes to the draft."""

    __slots__ = (
        "_alarm",
        "_deadline",
        "_draft",
        "_limits",
        "earlier",
        "failure",
        "limit",
        "stage",
        "started",
        "step",
    )

    def __init__(
        self,
        stage: Stage,
        *,
        started: float,
        limits: Limits,
        deadline: Deadline,
        draft: ReportDraft,
        alarm: Alarm,
    ) -> None:
        self._limits = limits
        self._deadline = deadline
        self._draft = draft
        self._alarm = alarm
        self.earlier: list[StepResult] = []  # finished steps to add before this one
        self.begin(stage, started=started)

    def begin(self, stage: Stage, *, started: float) -> StageRun:
        self.stage = stage
        self.started = started
        self.limit = self._limits.for_stage(stage)
        self.earlier.clear()
        self.step: StepResult | None = None  # set when the stage ended without failure
        self.failure: Failure | None = None  # set when it failed
        return self

    def __enter__(self) -> StageRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        """The stage's code is done: ``fail``'s failure, or what ``run`` let through
        (classified), or the step it ended with, goes to the draft."""
        failure: Failure | None = None
        if exc is not None:
            if isinstance(exc, StageFailed):
                failure = exc.failure
            elif isinstance(exc, STAGE_ERRORS):
                failure = self.classify(exc)
            else:
                return False  # cancellation and the like: not the stage's outcome
        draft = self._draft
        for step in self.earlier:
            draft.add(step)
        self.earlier.clear()
        if failure is not None:
            self.step, self.failure = None, failure
            draft.add_failure(self.stage, self.started, failure)
        elif self.step is not None:
            draft.add(self.step)
        return failure is not None

    @property
    def passed(self) -> bool:
        return self.step is not None

    def budget(self, *, shared: bool = False) -> float:
        """Seconds this stage may still take: its own limit, capped by the time left.
        ``shared``: what the stage has spent so far counts against the limit too."""
        now = time.monotonic()
        limit = self.limit - (now - self.started) if shared else self.limit
        return self._deadline.budget(limit, now)

    async def run(self, action: Coroutine[Any, Any, _T], *, shared: bool = False) -> _T:
        """``action`` under ``budget(shared=shared)`` (not started when none is left); what
        it raises ends the stage as its failure. A coroutine, not a callable: no closure or
        partial per action."""
        budget = self.budget(shared=shared)
        try:
            if budget <= 0:
                action.close()
                raise TimeoutError
            alarm = self._alarm
            alarm.bound(budget)
            try:
                return await action
            except asyncio.CancelledError as cancelled:
                if alarm.rang():
                    raise TimeoutError from cancelled
                raise
            finally:
                alarm.lift()
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code < 0:  # aiosmtplib's "invalid response": show what came instead
                self._draft.transcript.garbage(exc.message)
            raise

    async def attempt(
        self, action: Coroutine[Any, Any, _T], *, shared: bool = False
    ) -> _T | Failure:
        """Like ``run``, but the failure is returned for the caller to weigh, not recorded."""
        try:
            return await self.run(action, shared=shared)
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
        self.step = StepResult(
            stage=self.stage,
            status=status,
            elapsed_ms=elapsed,
            detail=detail,
            reply=reply,
            finding=finding,
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
