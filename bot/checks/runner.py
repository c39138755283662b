"""Live checks started from Slack: admission, the probe task and its bookkeeping.

Nothing here knows Slack. A ``CheckRunner`` decides whether a check may start
(draining, dedupe of double submits, rate limits, a reachable store), runs the
probe as a tracked asyncio task, reports progress through a ``CheckSink`` (the
Slack side implements it), records the outcome and frees the limits.

The password travels only inside the ``ProbeRequest`` handed to ``launch``: the
task's coroutine is the one place that holds it, and it drops it when the probe
returns. Records, thread state, metrics and sink calls carry no secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import Final, Protocol

from bot import messages
from bot.checks.advice import Advice, AdviseFn
from bot.checks.limits import RateLimiter, Reservation
from bot.checks.progress import ProgressCoalescer
from bot.errors import SmtpcheckError, StoreUnavailable
from bot.helpdesk.recorder import HelpdeskMetrics
from bot.policy_hints import networks_hint
from bot.probe.model import OnStep, Outcome, ProbeReport, ProbeRequest, StepResult
from bot.runtime.metrics import Metrics
from bot.store import keys
from bot.store.base import IN_FLIGHT_STATES, CheckRecord, CheckState, CheckStore

log = logging.getLogger(__name__)

SUBMIT_DEDUPE_TTL: Final = 3600.0
"""A view submission (view id + hash) has one effect within this time."""

SWEEP_MARGIN: Final = 15.0
"""A check untouched for longer than the probe deadline plus this is surely dead."""

ProbeFn = Callable[[ProbeRequest, OnStep], Awaitable[ProbeReport]]


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


class CheckRunner:
    """Admits, runs and books live checks for one process."""

    def __init__(
        self,
        *,
        store: CheckStore,
        limiter: RateLimiter,
        probe: ProbeFn,
        advise: AdviseFn,
        metrics: Metrics,
        helpdesk: HelpdeskMetrics | None = None,
        deadline: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._limiter = limiter
        self._probe = probe
        self._advise = advise
        self._metrics = metrics
        self._helpdesk = helpdesk
        self.deadline = deadline
        self._clock = clock
        self._tasks: set[asyncio.Task[None]] = set()
        self._accepting = True

    @property
    def accepting(self) -> bool:
        return self._accepting

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    async def admit(self, order: CheckOrder, request: ProbeRequest) -> Admission | None:
        """Reserve a check, or None for a duplicate submission.

        Raises ``CheckRefused`` while draining, ``RateLimited`` (reason and retry time)
        and ``StoreUnavailable`` (fail closed: no check without its limits).
        """
        if not self._accepting:
            self._metrics.refusals.labels("draining").inc()
            raise CheckRefused(messages.REFUSED_DRAINING)
        try:
            if not await self._store.claim(
                keys.submission_claim(order.submission_key), SUBMIT_DEDUPE_TTL
            ):
                return None
            reservation = await self._limiter.check_start(
                order.user_id, request.host, request.username
            )
        except StoreUnavailable:
            self._metrics.refusals.labels("store").inc()
            raise
        except SmtpcheckError:
            self._metrics.refusals.labels("rate_limited").inc()
            raise
        now = self._clock()
        record = CheckRecord(
            check_id=secrets.token_urlsafe(12),
            user_id=order.user_id,
            team_id=order.team_id,
            host=request.host,
            port=request.port,
            security=request.effective_security.value,
            username=request.username,
            state=CheckState.QUEUED,
            created_at=now,
            updated_at=now,
            hold=reservation.token,
        )
        try:
            await self._store.save_check(record)
        except BaseException:
            with contextlib.suppress(StoreUnavailable):
                await self._limiter.finish(reservation, auth_failed=False)
            raise
        log.debug("check %s admitted: %s:%d", record.check_id, record.host, record.port)
        return Admission(record, reservation)

    def launch(
        self, admission: Admission, request: ProbeRequest, sink: CheckSink
    ) -> asyncio.Task[None]:
        """Run the admitted check in a tracked task (``drain`` waits for it)."""
        task = asyncio.create_task(
            self._run(admission, request, sink), name=f"check-{admission.record.check_id}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _run(self, admission: Admission, request: ProbeRequest, sink: CheckSink) -> None:
        record = admission.record
        auth_failed = False
        self._metrics.in_flight.inc()
        try:
            channel, thread_ts = await sink.started(record)
            record = replace(
                record,
                state=CheckState.RUNNING,
                channel=channel,
                thread_ts=thread_ts,
                updated_at=self._clock(),
            )
            await self._store.save_check(record)
            progress = ProgressCoalescer(sink.progress, record)
            try:
                report = await self._probe(request, progress.on_step)
            finally:
                del request  # the password leaves with the probe
                await progress.close()
            auth_failed = report.possible_failed_attempt
            await self._release(admission.reservation, auth_failed=auth_failed)
            await self._conclude(record, report, sink)
        except Exception:
            reference = secrets.token_hex(4)
            log.exception("check %s failed (reference %s)", record.check_id, reference)
            self._metrics.errors.labels("check").inc()
            await self._release(admission.reservation, auth_failed=auth_failed)
            with contextlib.suppress(Exception):
                await self._store.mark_check(
                    record.check_id,
                    CheckState.DONE,
                    updated_at=self._clock(),
                    outcome=Outcome.CRASHED.value,
                )
            with contextlib.suppress(Exception):
                await sink.crashed(record, reference)
        finally:
            self._metrics.in_flight.dec()

    async def _conclude(self, record: CheckRecord, report: ProbeReport, sink: CheckSink) -> None:
        if report.outcome is Outcome.POLICY_REFUSED:
            # For the operator only: the user is told the server may not be reached.
            hint = networks_hint(report.refused_addresses) or "no setting allows it"
            log.info("check %s refused by the egress policy; %s", record.check_id, hint)
        advice = self._advise(report)
        finding = report.finding.value if report.finding else None
        self._metrics.checks.labels(report.outcome.value).inc()
        try:
            await self._store.mark_check(
                record.check_id,
                CheckState.DONE,
                updated_at=self._clock(),
                outcome=report.outcome.value,
                finding=finding,
            )
            # Outcome and finding are on the record (just marked); the buttons need
            # only what the record lacks.
            await self._store.update_thread(
                keys.check_followup(record.check_id),
                {
                    "summary": advice.summary,
                    "articles": [article.id for article in advice.articles],
                },
            )
        except StoreUnavailable:
            # The user still gets the result; only the buttons lose their context.
            log.warning("could not record the outcome of check %s", record.check_id)
        await self._record_helpdesk(record, report, advice.reply_id or finding)
        done = replace(record, state=CheckState.DONE, outcome=report.outcome.value, finding=finding)
        await sink.finished(done, report, advice)

    async def _record_helpdesk(
        self, record: CheckRecord, report: ProbeReport, reply_key: str | None
    ) -> None:
        """Count the check for the helpdesk numbers (a success closes the user's episode)."""
        if self._helpdesk is None:
            return
        try:
            await self._helpdesk.record_check(
                record.user_id,
                outcome=report.outcome.value,
                auth_failed=report.possible_failed_attempt,
                reply_key=reply_key,
            )
        except (StoreUnavailable, ValueError):
            # The numbers miss one check; the user's result matters more.
            log.warning("could not count check %s in the helpdesk numbers", record.check_id)

    async def _release(self, reservation: Reservation, *, auth_failed: bool) -> None:
        # Released once: a second call finds nothing to free and is harmless.
        try:
            await self._limiter.finish(reservation, auth_failed=auth_failed)
        except StoreUnavailable:
            log.warning("could not release the limits of a check; they expire on their own")

    async def drain(self, within: float) -> int:
        """Stop admitting checks and wait up to ``within`` seconds for running ones.

        Returns how many were still running at the end (left for the next start-up's
        sweep to close out as interrupted).
        """
        self._accepting = False
        pending = set(self._tasks)
        if pending:
            _, still = await asyncio.wait(pending, timeout=within)
            for task in still:
                task.cancel()
            return len(still)
        return 0

    async def sweep_interrupted(
        self, notify: Callable[[CheckRecord], Awaitable[None]], *, older_than: float | None = None
    ) -> int:
        """Close out checks a dead process left in flight; tell each owner once.

        Only records untouched for ``older_than`` seconds (default: deadline plus a
        margin) are taken, so a live process sharing the store keeps its own. AUTH
        is never re-run. Returns how many owners were told.
        """
        limit = self.deadline + SWEEP_MARGIN if older_than is None else older_than
        now = self._clock()
        told = 0
        for record in await self._store.list_in_flight():
            if record.updated_at > now - limit:
                continue
            marked = await self._store.mark_check(
                record.check_id,
                CheckState.INTERRUPTED,
                updated_at=now,
                outcome=Outcome.INTERRUPTED.value,
                only_from=IN_FLIGHT_STATES,
            )
            if marked is None:
                continue
            if marked.hold is not None:
                # Free the dead process's holds so the owner's retry is admitted now,
                # not when they expire. Nothing is known of the AUTH: not counted.
                held = self._limiter.reservation_of(
                    token=marked.hold,
                    user_id=marked.user_id,
                    host=marked.host,
                    username=marked.username,
                )
                await self._release(held, auth_failed=False)
            if not await self._store.claim_interrupted_notice(record.check_id):
                continue
            try:
                await notify(marked)
                told += 1
            except Exception:
                log.exception("could not tell the owner of interrupted check %s", record.check_id)
        return told
