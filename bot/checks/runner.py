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
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, replace
from typing import Any, Final

from bot import messages
from bot.checks.advice import AdviseFn
from bot.checks.contracts import (
    LEASE_TTL,
    SIGN_IN_OUTCOME,
    Admission,
    CheckOrder,
    CheckRefused,
    CheckSink,
    ProbeFn,
    SignInFn,
)
from bot.checks.limits import Booking, RateLimiter, Reservation
from bot.checks.progress import ProgressCoalescer
from bot.checks.retry import Retrier, deliver, deliver_verdict, persist_or_retry
from bot.checks.sweep import sweep
from bot.errors import RateLimited, SmtpcheckError, StoreUnavailable
from bot.helpdesk.recorder import HelpdeskMetrics
from bot.oauth.errors import SignInFailed
from bot.probe.model import (
    AuthAttempt,
    AuthWithheld,
    Outcome,
    ProbeReport,
    ProbeRequest,
)
from bot.probe.policy_hints import networks_hint
from bot.runtime.metrics import Metrics
from bot.store import keys
from bot.store.base import IN_FLIGHT_STATES, CheckRecord, CheckState, CheckStore

log = logging.getLogger(__name__)

SUBMIT_DEDUPE_TTL: Final = 3600.0
"""A view submission (view id + hash) has one effect within this time."""

SWEEP_MARGIN: Final = 15.0
"""A check untouched for longer than the probe deadline plus this is surely dead."""


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
        self._retrier = Retrier(self._track, give_up_after=limiter.limits.hold_ttl)
        self.owner = secrets.token_hex(8)
        """This process's lease id, on every check it admits."""

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
            owner=self.owner,
        )
        try:
            await self._store.save_check(record)
        except BaseException:
            with contextlib.suppress(StoreUnavailable):
                await self._limiter.finish(reservation)
            raise
        log.debug("check %s admitted: %s:%d", record.check_id, record.host, record.port)
        return Admission(record, reservation)

    def launch(
        self,
        admission: Admission,
        request: ProbeRequest,
        sink: CheckSink,
        *,
        sign_in: SignInFn | None = None,
    ) -> asyncio.Task[None]:
        """Run the admitted check in a tracked task (``drain`` waits for it).

        With ``sign_in``, the token it returns becomes the request's password just
        before the probe (and leaves with it).
        """
        task = asyncio.create_task(
            self._run(admission, request, sink, sign_in), name=f"check-{admission.record.check_id}"
        )
        self._track(task)
        return task

    def background(self, work: Coroutine[Any, Any, None], *, name: str) -> asyncio.Task[None]:
        """Run ``work`` (which leads to a check, such as an admission finishing late) in a
        tracked task: ``drain`` waits for it like for a running check."""
        task = asyncio.create_task(work, name=name)
        self._track(task)
        return task

    def _track(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(
        self,
        admission: Admission,
        request: ProbeRequest,
        sink: CheckSink,
        sign_in: SignInFn | None,
    ) -> None:
        record = admission.record
        auth = _AuthState()
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
            if sign_in is not None:
                try:
                    token = await sign_in(record)  # minutes, maybe; the lease keeps the sweep away
                except SignInFailed as failure:
                    await self._sign_in_failed(admission, record, sink, failure)
                    return
                request = replace(request, password=token)
                del token

            async def before_auth(attempt: AuthAttempt) -> None:
                nonlocal record
                record = await self._book_auth(admission, record, attempt, auth)

            progress = ProgressCoalescer(sink.progress, record)
            try:
                report = await self._probe(request, progress.on_step, before_auth)
            finally:
                del request  # the password leaves with the probe
                await progress.close()
        except AuthWithheld as withheld:
            await self._withheld(admission, record, auth, withheld, sink)
        except Exception:
            reference = secrets.token_hex(4)
            log.exception("check %s failed (reference %s)", record.check_id, reference)
            self._metrics.errors.labels("check").inc()
            # An AUTH that was booked stays counted: the reply, if any, is lost.
            await self._settle(admission.reservation, auth.booking, counted=True)
            with contextlib.suppress(Exception):
                await self._store.mark_check(
                    record.check_id,
                    CheckState.DONE,
                    updated_at=self._clock(),
                    outcome=Outcome.CRASHED.value,
                    only_from=IN_FLIGHT_STATES,
                )
            with contextlib.suppress(Exception):
                await sink.crashed(record, reference)
        else:
            # Only a login the server accepted did not count against the budget.
            counted = report.outcome is not Outcome.AUTHENTICATED
            await self._settle(admission.reservation, auth.booking, counted=counted)
            await self._conclude(record, report, sink, auth_counted=auth.sent and counted)
        finally:
            self._metrics.in_flight.dec()

    async def _sign_in_failed(
        self, admission: Admission, record: CheckRecord, sink: CheckSink, failure: SignInFailed
    ) -> None:
        log.info("check %s: sign-in failed: %s", record.check_id, failure)
        await self._settle(admission.reservation, None, counted=False)  # no AUTH was sent
        self._metrics.checks.labels(SIGN_IN_OUTCOME).inc()
        with contextlib.suppress(StoreUnavailable):
            await self._store.mark_check(
                record.check_id, CheckState.DONE, updated_at=self._clock(), outcome=SIGN_IN_OUTCOME
            )
        await sink.sign_in_failed(record, failure)

    async def _book_auth(
        self, admission: Admission, record: CheckRecord, attempt: AuthAttempt, auth: _AuthState
    ) -> CheckRecord:
        """Before the credentials leave: book the attempt as a failure on every account
        it may count against, then note it on the record. Any error here aborts the
        probe before anything is sent (fail closed)."""
        limiter, reservation = self._limiter, admission.reservation
        booking = limiter.booking_for(reservation, attempt.addresses, attempt.username)
        auth.booking = booking  # settled at the end even if the booking call is cut short
        await limiter.book_auth(reservation, booking)
        booked = replace(
            record,
            auth_booked_at=self._clock(),
            accounts=booking.accounts,
            updated_at=self._clock(),
        )
        await self._store.save_check(booked)
        auth.sent = True
        return booked

    async def _withheld(
        self,
        admission: Admission,
        record: CheckRecord,
        auth: _AuthState,
        withheld: AuthWithheld,
        sink: CheckSink,
    ) -> None:
        """The budget (or the store) said no at the last moment: nothing was sent."""
        cause = withheld.__cause__
        reason = cause.reason if isinstance(cause, RateLimited) else messages.REFUSED_STORE
        self._metrics.refusals.labels(
            "rate_limited" if isinstance(cause, RateLimited) else "store"
        ).inc()
        # A booking the store may have made before failing stays: fail closed.
        await self._settle(admission.reservation, auth.booking, counted=True)
        await persist_or_retry(
            self._retrier,
            record.check_id,
            lambda: self._store.mark_check(
                record.check_id,
                CheckState.DONE,
                updated_at=self._clock(),
                outcome=Outcome.WITHHELD.value,
                only_from=IN_FLIGHT_STATES,
            ),
        )
        with contextlib.suppress(Exception):
            await deliver(lambda: sink.withheld(record, reason))

    async def _conclude(
        self, record: CheckRecord, report: ProbeReport, sink: CheckSink, *, auth_counted: bool
    ) -> None:
        """Record the outcome, then deliver it. Neither step can lose the other: a store
        that stalls is retried in the background, a Slack error is retried and then
        replaced by a plain message; the outcome is never overwritten."""
        if report.outcome is Outcome.POLICY_REFUSED:
            # For the operator only: the user is told the server may not be reached.
            hint = networks_hint(report.refused_addresses) or "no setting allows it"
            log.info("check %s refused by the egress policy; %s", record.check_id, hint)
        advice = self._advise(report)
        finding = report.finding.value if report.finding else None
        self._metrics.checks.labels(report.outcome.value).inc()
        marked = await persist_or_retry(
            self._retrier,
            record.check_id,
            lambda: self._store.mark_check(
                record.check_id,
                CheckState.DONE,
                updated_at=self._clock(),
                outcome=report.outcome.value,
                finding=finding,
                only_from=IN_FLIGHT_STATES,
            ),
        )
        if marked:
            try:
                # Outcome and finding are on the record; the buttons need only what it lacks.
                await self._store.update_thread(
                    keys.check_followup(record.check_id),
                    {
                        "summary": advice.summary,
                        "articles": [article.id for article in advice.articles],
                    },
                )
            except StoreUnavailable:
                log.warning("could not keep the advice of check %s", record.check_id)
        await self._record_helpdesk(record, report, advice.reply_id or finding, auth_counted)
        done = replace(record, state=CheckState.DONE, outcome=report.outcome.value, finding=finding)
        await deliver_verdict(sink, done, report, advice)

    async def _record_helpdesk(
        self, record: CheckRecord, report: ProbeReport, reply_key: str | None, auth_counted: bool
    ) -> None:
        """Count the check for the helpdesk numbers (a success closes the user's episode).
        A failed login is what the lockout guard booked: every AUTH sent that did not
        succeed (refused, unanswered, cut off)."""
        if self._helpdesk is None:
            return
        try:
            await self._helpdesk.record_check(
                record.user_id,
                outcome=report.outcome.value,
                auth_failed=auth_counted,
                reply_key=reply_key,
            )
        except (StoreUnavailable, ValueError):
            # The numbers miss one check; the user's result matters more.
            log.warning("could not count check %s in the helpdesk numbers", record.check_id)

    async def _settle(
        self, reservation: Reservation, booking: Booking | None, *, counted: bool
    ) -> None:
        """Settle once; if the store does not answer, keep trying in the background so
        the account is not refused for minutes (the slots expire after hold_ttl anyway)."""

        async def settle() -> None:
            await self._limiter.finish(reservation, booking=booking, counted=counted)

        try:
            await settle()
        except StoreUnavailable:
            log.warning("store unreachable: will free the limits of a check when it answers")
            self._retrier.retry(settle)

    async def heartbeat(self) -> None:
        """Renew this process's lease: while it lives, no sweep takes its checks."""
        await self._store.renew_lease(self.owner, ttl=LEASE_TTL)

    async def drain(self, within: float) -> int:
        """Stop admitting checks and wait up to ``within`` seconds for running ones.

        Returns how many were still running at the end (left for the next start-up's
        sweep to close out as interrupted).
        """
        self._accepting = False
        pending = set(self._tasks)
        left = 0
        if pending:
            _, still = await asyncio.wait(pending, timeout=within)
            for task in still:
                task.cancel()
            left = len(still)
        if not left:
            # Nothing of ours is left in flight: peers need not wait for the lease to lapse.
            with contextlib.suppress(StoreUnavailable):
                await self._store.drop_lease(self.owner)
        return left

    async def sweep_interrupted(
        self, notify: Callable[[CheckRecord], Awaitable[None]], *, older_than: float | None = None
    ) -> int:
        """Close out checks a dead process left in flight; tell each owner once.

        A check belongs to the process named in ``owner``: while that process's lease
        lives (this one's always does) its checks are left alone, however old. A record
        without an owner is taken once untouched for ``older_than`` seconds (default:
        deadline plus a margin). AUTH is never re-run; an AUTH that was booked stays
        counted (its result is unknown). Returns how many owners were told.
        """
        limit = self.deadline + SWEEP_MARGIN if older_than is None else older_than

        async def release(record: CheckRecord) -> None:
            # Free the dead process's holds so the owner's retry is admitted now, not
            # when they expire. A booked AUTH stays booked: it may have counted.
            held = self._limiter.reservation_of(
                token=str(record.hold),
                user_id=record.user_id,
                host=record.host,
                username=record.username,
            )
            booking = Booking(record.accounts) if record.accounts else None
            await self._settle(held, booking, counted=True)

        return await sweep(
            self._store,
            owner=self.owner,
            older_than=limit,
            now=self._clock(),
            release=release,
            notify=notify,
        )


@dataclass(slots=True)
class _AuthState:
    """How far one check got with its AUTH: ``booking`` once the booking was tried,
    ``sent`` once it was booked and noted (the credentials may leave from then on)."""

    booking: Booking | None = None
    sent: bool = False
