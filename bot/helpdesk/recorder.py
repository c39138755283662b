"""Helpdesk metrics: record what users go through and sum it up for the leads.

The Slack side and the check runner call the ``record_*`` methods; the App Home
dashboard, ``/smtpcheck stats`` and ``GET /metrics`` read ``summary``. Everything
lives in the ``Store`` as UTC day buckets (kept ``METRICS_TTL``), so numbers are
shared by every bot process and survive restarts when Redis is used.

Time to resolution follows a per-user *episode*: it opens with the user's first
question or failed check and closes with "That fixed it" or a successful check.
The open episode sits in a small per-user state entry (``update_thread`` with its
own TTL); closing is claimed once per episode (``claim``), so double clicks, a
retried request or two processes racing never count it twice.

Medians need the samples, which the store's ``record_duration`` does not keep
(count and total only). Each resolution also adds its duration as one field of
a per-day state entry (an atomic merge, so concurrent writers lose nothing).
That entry is size-capped by the store; when a day outgrows it the median would
be biased, so the summary then falls back to the exact mean and says so.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Final

from bot.helpdesk.model import DailySeries, Episode, ErrorCount, HelpdeskStats, Statistic
from bot.helpdesk.prometheus import render_prometheus
from bot.helpdesk.text import render_stats_text, sparkline
from bot.helpdesk.threads import HelpThreads
from bot.probe.model import Outcome
from bot.store import keys
from bot.store.base import METRICS_TTL, THREAD_TTL, HelpdeskStore, JSONValue

__all__ = [
    "DailySeries",
    "Episode",
    "ErrorCount",
    "HelpdeskMetrics",
    "HelpdeskStats",
    "Statistic",
    "render_prometheus",
    "render_stats_text",
    "sparkline",
]

log = logging.getLogger(__name__)

# Metric kinds in the store (day buckets). "active" and "affected" exist because the
# store counts distinct users per kind only: a union over kinds needs its own kind.
CHECK: Final = "helpdesk.check"
AUTH_ATTEMPT: Final = "helpdesk.auth-attempt"
AUTH_FAILURE: Final = "helpdesk.auth-failure"
FAILED_CHECK: Final = "helpdesk.failed-check"
QUESTION: Final = "helpdesk.question"
RESOLVED: Final = "helpdesk.resolved"
ACTIVE: Final = "helpdesk.active"
AFFECTED: Final = "helpdesk.affected"
RESOLUTION: Final = "helpdesk.resolution"  # duration kind

EPISODE_TTL: Final = THREAD_TTL
"""An unresolved episode is forgotten after this long without news from the user."""

MAX_WINDOW_DAYS: Final = int(METRICS_TTL // 86400)
"""Day buckets older than this have expired; a longer window would under-count."""

TOP_ERRORS: Final = 5

SUCCESS_OUTCOMES: Final = frozenset({Outcome.AUTHENTICATED.value})
"""A check that proves sending works again: it closes the user's episode."""

FAILED_OUTCOMES: Final = frozenset(
    o.value
    for o in (
        Outcome.AUTH_REJECTED,
        Outcome.DNS_ERROR,
        Outcome.CONNECT_ERROR,
        Outcome.TLS_ERROR,
        Outcome.PROTOCOL_ERROR,
        Outcome.TIMEOUT,
    )
)
"""Outcomes that show a problem with the user's mail set-up (the user is affected).

Others (reachable without credentials, refused input or egress policy, the bot's
own errors) are counted as checks but neither open nor close an episode.
"""

_AUTH_OUTCOMES: Final = frozenset({Outcome.AUTHENTICATED.value, Outcome.AUTH_REJECTED.value})

# Reply keys become Prometheus label values and dashboard text: only identifiers
# (reply pattern ids, findings, codes), never free text that could carry a name.
_REPLY_KEY: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,79}")

_EPISODE_FIELDS: Final = ("token", "since", "origin", "thread")


def utc_day(at: float) -> date:
    """The UTC calendar day of an epoch timestamp."""
    return datetime.fromtimestamp(at, tz=UTC).date()


def window_days(days: int, today: date) -> tuple[date, ...]:
    """The ``days`` UTC days ending with ``today``, oldest first."""
    if not 1 <= days <= MAX_WINDOW_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_WINDOW_DAYS}, got {days!r}")
    return tuple(today - timedelta(days=n) for n in range(days - 1, -1, -1))


def _episode_key(user_id: str) -> str:
    return f"helpdesk-episode:{user_id}"


def _samples_key(day: date) -> str:
    return f"helpdesk-resolution-samples:{day.isoformat()}"


def _episode(state: Mapping[str, JSONValue]) -> Episode | None:
    token, since = state.get("token"), state.get("since")
    if not isinstance(token, str) or not isinstance(since, int | float):
        return None
    thread = state.get("thread")
    return Episode(
        token=token,
        started_at=float(since),
        origin=str(state.get("origin") or ""),
        thread_key=thread if isinstance(thread, str) else None,
    )


class HelpdeskMetrics:
    """Records helpdesk events in ``store`` and computes the leads' numbers.

    ``clock`` gives wall-clock epoch seconds; it supplies ``at`` and ``today``
    when a caller leaves them out (tests inject a fixed one).
    """

    def __init__(self, store: HelpdeskStore, *, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    def today(self) -> date:
        """The current UTC day by this object's clock."""
        return utc_day(self._clock())

    # -- recording ------------------------------------------------------------------
    async def record_check(
        self,
        user_id: str,
        *,
        outcome: str,
        auth_failed: bool,
        reply_key: str | None = None,
        at: float | None = None,
    ) -> bool:
        """Record one finished live check.

        ``outcome`` is an ``Outcome`` value; ``auth_failed`` says the server refused
        the credentials (a failed login attempt); ``reply_key`` names the error reply
        the check ended with (a reply pattern id or finding), counted for failed
        checks only. Returns True when this check closed the user's episode.
        """
        if reply_key is not None and not _REPLY_KEY.fullmatch(reply_key):
            raise ValueError(f"reply_key must be an identifier: {reply_key[:40]!r}")
        at = self._clock() if at is None else at
        day = utc_day(at)
        failed = auth_failed or outcome in FAILED_OUTCOMES
        store = self._store
        writes = [store.record_event(CHECK, user_id, day), store.record_event(ACTIVE, user_id, day)]
        if auth_failed or outcome in _AUTH_OUTCOMES:
            writes.append(store.record_event(AUTH_ATTEMPT, None, day))
        if auth_failed:
            writes.append(store.record_event(AUTH_FAILURE, user_id, day))
        if failed:
            writes.append(store.record_event(FAILED_CHECK, user_id, day))
            writes.append(store.record_event(AFFECTED, user_id, day))
            if reply_key is not None:
                writes.append(store.record_error(reply_key, day))
        # Independent counters: one concurrent wait, not one round trip each, before
        # the check's result is posted.
        await asyncio.gather(*writes)
        if failed:
            await self._open_episode(user_id, at=at, origin="check", thread_key=None)
            return False
        if outcome in SUCCESS_OUTCOMES:
            return await self._resolve(user_id, at=at)
        return False

    async def record_question(
        self, user_id: str, *, thread_key: str | None = None, at: float | None = None
    ) -> None:
        """Record a question (DM, mention, ``/smtpcheck <question>``).

        Asking counts the user as affected and opens an episode if none is open;
        ``thread_key`` is remembered as where that episode began.
        """
        at = self._clock() if at is None else at
        day = utc_day(at)
        await asyncio.gather(
            *(self._store.record_event(kind, user_id, day) for kind in (QUESTION, ACTIVE, AFFECTED))
        )
        await self._open_episode(user_id, at=at, origin="question", thread_key=thread_key)

    async def record_resolved(self, user_id: str, *, at: float | None = None) -> bool:
        """Record "That fixed it" (a successful check goes through ``record_check``).

        Closes the user's open episode and records its time to resolution, once:
        True only for the call that closed it, False when nothing was open (already
        resolved, expired, or never started). Episodes are per user, not per thread:
        the fix often shows in another thread (a check in the DM answers a question
        asked in a channel).
        """
        return await self._resolve(user_id, at=self._clock() if at is None else at)

    async def record_activity(self, user_id: str, *, at: float | None = None) -> None:
        """Count a user who used the bot without a question or check (FAQ, explain)."""
        at = self._clock() if at is None else at
        await self._store.record_event(ACTIVE, user_id, utc_day(at))

    async def episode(self, user_id: str) -> Episode | None:
        """The user's open episode, if any."""
        return _episode(await self._store.get_thread(_episode_key(user_id)))

    async def _open_episode(
        self, user_id: str, *, at: float, origin: str, thread_key: str | None
    ) -> None:
        key = _episode_key(user_id)
        current = _episode(await self._store.get_thread(key))
        update: dict[str, JSONValue]
        if current is None:
            token = secrets.token_hex(6)
            update = {"token": token, "since": at, "origin": origin, "thread": thread_key}
        elif at < current.started_at:
            # Events can arrive out of order across processes: keep the earliest start.
            update = {"since": at, "origin": origin, "thread": thread_key}
        else:
            update = {}  # still the same problem: only extend the episode's life
        # Two processes opening at the same instant may both write; the later write
        # wins with a start a few milliseconds later, which does not move the figures.
        await self._store.update_thread(key, update, ttl=EPISODE_TTL)

    async def _resolve(self, user_id: str, *, at: float) -> bool:
        key = _episode_key(user_id)
        current = _episode(await self._store.get_thread(key))
        if current is None:
            return False
        if not await self._store.claim(keys.resolution_claim(user_id, current.token), EPISODE_TTL):
            return False
        seconds = max(0.0, at - current.started_at)
        day = utc_day(at)
        await self._store.record_duration(RESOLUTION, day, seconds)
        await self._store.record_event(RESOLVED, user_id, day)
        try:
            await self._store.update_thread(
                _samples_key(day), {current.token: round(seconds, 3)}, ttl=METRICS_TTL
            )
        except ValueError:
            log.warning("resolution samples for %s are full; the median falls back to mean", day)
        await self._store.update_thread(key, dict.fromkeys(_EPISODE_FIELDS), ttl=EPISODE_TTL)
        return True

    # -- reading --------------------------------------------------------------------
    async def summary(
        self, days: int, *, today: date | None = None, top_errors: int = TOP_ERRORS
    ) -> HelpdeskStats:
        """The helpdesk numbers over the ``days`` UTC days ending with ``today``."""
        span = window_days(days, self.today() if today is None else today)
        store = self._store
        # Every read is independent: one concurrent wait instead of one per phase.
        kinds = (CHECK, AUTH_ATTEMPT, AUTH_FAILURE, QUESTION, RESOLVED)
        threads = HelpThreads(store).outcomes(span)
        (
            counts,
            users,
            affected_per_day,
            (errors, durations, samples, outcomes),
        ) = await asyncio.gather(
            asyncio.gather(*(store.event_counts(kind, span) for kind in kinds)),
            asyncio.gather(
                store.distinct_users(ACTIVE, span), store.distinct_users(AFFECTED, span)
            ),
            asyncio.gather(*(store.distinct_users(AFFECTED, (day,)) for day in span)),
            asyncio.gather(
                store.error_counts(span),
                store.duration_stats(RESOLUTION, span),
                self._samples(span),
                threads,
            ),
        )
        checks, attempts, failures, questions, resolved = (
            tuple(per_day[day] for day in span) for per_day in counts
        )
        active, affected = users
        median = _median(samples, expected=durations.count)
        ranked = sorted(errors.items(), key=lambda item: (-item[1], item[0]))
        return HelpdeskStats(
            days=days,
            start=span[0],
            end=span[-1],
            checks=sum(checks),
            auth_attempts=sum(attempts),
            failed_logins=sum(failures),
            questions=sum(questions),
            resolutions=durations.count,
            resolution_seconds=durations.mean if median is None else median,
            resolution_statistic=Statistic.MEAN if median is None else Statistic.MEDIAN,
            resolution_mean_seconds=durations.mean,
            resolution_median_seconds=median,
            users_active=active,
            users_affected=affected,
            top_errors=tuple(ErrorCount(reply, n) for reply, n in ranked[:top_errors] if n > 0),
            series=DailySeries(
                days=span,
                checks=checks,
                auth_attempts=attempts,
                failed_logins=failures,
                questions=questions,
                resolutions=resolved,
                users_affected=tuple(affected_per_day),
            ),
            threads=outcomes,
        )

    async def _samples(self, span: Sequence[date]) -> list[float]:
        """The kept time-to-resolution samples of ``span``'s days."""
        per_day = await asyncio.gather(*(self._store.get_thread(_samples_key(d)) for d in span))
        return [
            float(value)
            for state in per_day
            for value in state.values()
            if isinstance(value, int | float)
        ]


def _median(samples: Sequence[float], *, expected: int) -> float | None:
    """Median of the kept samples, or None when there are none or some are missing."""
    if not samples or len(samples) != expected:
        return None
    return statistics.median(samples)
