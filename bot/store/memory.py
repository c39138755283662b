"""In-memory store: the default when no REDIS_URL is set; one process only.

Every entry carries an expiry on an injectable monotonic clock (tests pass a
fake one). Methods never await while touching data, so each one is atomic with
respect to other coroutines, which matches the Redis store's Lua/MULTI steps.
"""

from __future__ import annotations

import bisect
import itertools
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.store.base import (
    CHECK_TTL,
    IN_FLIGHT_STATES,
    LIST_CHECKS_MAX,
    METRICS_TTL,
    THREAD_TTL,
    CheckRecord,
    CheckState,
    DurationStats,
    Hit,
    JSONValue,
    Refusal,
    Reserved,
)
from bot.store.keys import Keys
from bot.store.logic import apply_mark, check_limit, merge_thread, ttl_ms


@dataclass(slots=True)
class _Entry:
    value: Any
    expires: float


class MemoryStore:
    """``Store`` backed by dicts; ``clock`` returns seconds (default ``time.monotonic``)."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        namespace: str = "smtpcheck",
    ) -> None:
        self._clock = clock
        self._keys = Keys(namespace)
        self._data: dict[str, _Entry] = {}
        self._members = itertools.count()

    # -- plumbing -------------------------------------------------------------------
    def _get(self, key: str) -> Any:
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry.expires <= self._clock():
            del self._data[key]
            return None
        return entry.value

    def _set(self, key: str, value: Any, ttl: float) -> None:
        self._data[key] = _Entry(value, self._clock() + ttl_ms(ttl) / 1000)

    def _set_new(self, key: str, value: Any, ttl: float) -> bool:
        # SET NX: only the first writer of a live key wins (claims, slots, notices).
        if self._get(key) is not None:
            return False
        self._set(key, value, ttl)
        return True

    def live_keys(self) -> dict[str, float]:
        """Key -> seconds left, for tests that check every key expires."""
        now = self._clock()
        return {k: e.expires - now for k, e in self._data.items() if e.expires > now}

    # -- life cycle ----------------------------------------------------------------------
    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._data.clear()

    # -- dedupe --------------------------------------------------------------------------
    async def claim(self, key: str, ttl: float) -> bool:
        return self._set_new(self._keys.claim(key), True, ttl)

    # -- sliding windows -----------------------------------------------------------------
    def _window(self, key: str, window: float) -> tuple[str, list[tuple[float, str]], float]:
        # Entries are (time, member): a booked AUTH's member is its token, so it can
        # be taken back when the reply shows it did not count.
        name = self._keys.rate(key)
        now = self._clock()
        stamps: list[tuple[float, str]] = self._get(name) or []
        # Same boundary as Redis: an action exactly `window` old has left the window.
        cutoff = now - ttl_ms(window) / 1000
        del stamps[: bisect.bisect_right(stamps, cutoff, key=lambda entry: entry[0])]
        return name, stamps, now

    def _judge(self, stamps: list[tuple[float, str]], window: float, limit: int, now: float) -> Hit:
        n = len(stamps)
        if n < limit:
            return Hit(True, n, 0.0)
        return Hit(False, n, stamps[n - limit][0] + ttl_ms(window) / 1000 - now)

    def _add(self, name: str, stamps: list[tuple[float, str]], now: float, window: float) -> None:
        stamps.append((now, f"{next(self._members)}"))
        self._set(name, stamps, window)

    async def hit(self, key: str, *, window: float, limit: int) -> Hit:
        name, stamps, now = self._window(key, window)
        verdict = self._judge(stamps, window, check_limit(limit), now)
        if not verdict.allowed:
            return verdict
        self._add(name, stamps, now, window)
        return Hit(True, len(stamps), 0.0)

    async def peek(self, key: str, *, window: float, limit: int) -> Hit:
        _, stamps, now = self._window(key, window)
        return self._judge(stamps, window, check_limit(limit), now)

    async def add_hit(self, key: str, *, window: float) -> int:
        name, stamps, now = self._window(key, window)
        self._add(name, stamps, now, window)
        return len(stamps)

    async def count(self, key: str, *, window: float) -> int:
        return len(self._window(key, window)[1])

    # -- slots ---------------------------------------------------------------------------
    async def acquire_slot(self, key: str, *, ttl: float, token: str) -> bool:
        return self._set_new(self._keys.slot(key), token, ttl)

    async def release_slot(self, key: str, *, token: str) -> bool:
        name = self._keys.slot(key)
        if self._get(name) != token:
            return False
        del self._data[name]
        return True

    # -- account budgets -----------------------------------------------------------------
    # No await anywhere below: each call is one atomic step, like the Redis script.
    async def reserve(
        self,
        *,
        budgets: Sequence[str],
        slots: Sequence[str],
        token: str,
        limit: int,
        window: float,
        ttl: float,
        book: bool,
    ) -> Reserved:
        check_limit(limit)
        ttl_ms(ttl)
        worst: float | None = None
        windows = [self._window(key, window) for key in budgets]
        for _, stamps, now in windows:
            verdict = self._judge(stamps, window, limit, now)
            if not verdict.allowed:
                worst = max(worst or 0.0, verdict.retry_after)
        if worst is not None:
            return Reserved(Refusal.BUDGET, worst)
        for key in slots:
            holder = self._get(self._keys.slot(key))
            if holder is not None and holder != token:
                return Reserved(Refusal.SLOT)
        for key in slots:
            self._set(self._keys.slot(key), token, ttl)
        if book:
            for name, stamps, now in windows:
                if all(member != token for _, member in stamps):
                    stamps.append((now, token))
                self._set(name, stamps, window)
        return Reserved(None)

    async def settle(
        self, *, budgets: Sequence[str], slots: Sequence[str], token: str, cancel: bool
    ) -> None:
        for key in slots:
            name = self._keys.slot(key)
            if self._get(name) == token:
                del self._data[name]
        if cancel:
            for key in budgets:
                stamps = self._get(self._keys.rate(key))
                if stamps:
                    stamps[:] = [entry for entry in stamps if entry[1] != token]

    # -- leases --------------------------------------------------------------------------
    async def renew_lease(self, owner: str, *, ttl: float) -> None:
        self._set(self._keys.lease(owner), True, ttl)

    async def live_leases(self, owners: Iterable[str]) -> frozenset[str]:
        return frozenset(o for o in owners if self._get(self._keys.lease(o)) is not None)

    async def drop_lease(self, owner: str) -> None:
        self._data.pop(self._keys.lease(owner), None)

    # -- global pool ---------------------------------------------------------------------
    def _holders(self, name: str) -> dict[str, float]:
        holders: dict[str, float] = self._get(self._keys.pool(name)) or {}
        now = self._clock()
        for token in [t for t, expires in holders.items() if expires <= now]:
            del holders[token]
        return holders

    async def acquire_global(self, name: str, *, cap: int, ttl: float, token: str) -> bool:
        holders = self._holders(name)
        if token not in holders and len(holders) >= check_limit(cap):
            return False
        holders[token] = self._clock() + ttl_ms(ttl) / 1000
        key = self._keys.pool(name)
        left = max(holders.values()) - self._clock()
        self._set(key, holders, left)
        return True

    async def release_global(self, name: str, *, token: str) -> None:
        self._holders(name).pop(token, None)

    async def count_global(self, name: str) -> int:
        return len(self._holders(name))

    # -- probe records -------------------------------------------------------------------
    async def save_check(self, record: CheckRecord) -> None:
        self._set(self._keys.check(record.check_id), record.to_json(), CHECK_TTL)
        by_user_key = self._keys.user_checks(record.user_id)
        by_user: dict[str, float] = self._get(by_user_key) or {}
        by_user[record.check_id] = record.created_at
        newest = sorted(by_user.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)
        self._set(by_user_key, dict(newest[:LIST_CHECKS_MAX]), CHECK_TTL)
        flight_key = self._keys.in_flight()
        flight: dict[str, float] = self._get(flight_key) or {}
        if record.state in IN_FLIGHT_STATES:
            flight[record.check_id] = record.created_at
        else:
            flight.pop(record.check_id, None)
        if flight:
            self._set(flight_key, flight, CHECK_TTL)
        else:
            self._data.pop(flight_key, None)

    async def get_check(self, check_id: str) -> CheckRecord | None:
        text = self._get(self._keys.check(check_id))
        return None if text is None else CheckRecord.from_json(text)

    def _records(self, ids: Iterable[str]) -> list[CheckRecord]:
        texts = (self._get(self._keys.check(i)) for i in ids)
        return [CheckRecord.from_json(t) for t in texts if t is not None]

    async def list_checks(self, user_id: str, limit: int = 10) -> list[CheckRecord]:
        by_user: dict[str, float] = self._get(self._keys.user_checks(user_id)) or {}
        newest = sorted(by_user.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)
        return self._records(i for i, _ in newest[: min(limit, LIST_CHECKS_MAX)])

    async def list_in_flight(self) -> list[CheckRecord]:
        flight: dict[str, float] = self._get(self._keys.in_flight()) or {}
        oldest = sorted(flight.items(), key=lambda kv: (kv[1], kv[0]))
        return [r for r in self._records(i for i, _ in oldest) if r.state in IN_FLIGHT_STATES]

    async def mark_check(
        self,
        check_id: str,
        state: CheckState,
        *,
        updated_at: float,
        outcome: str | None = None,
        finding: str | None = None,
        only_from: Iterable[CheckState] | None = None,
    ) -> CheckRecord | None:
        new = apply_mark(
            await self.get_check(check_id),
            state,
            updated_at=updated_at,
            outcome=outcome,
            finding=finding,
            only_from=only_from,
        )
        if new is not None:
            await self.save_check(new)
        return new

    async def claim_interrupted_notice(self, check_id: str) -> bool:
        return self._set_new(self._keys.interrupted_notice(check_id), True, CHECK_TTL)

    # -- threads -------------------------------------------------------------------------
    async def get_thread(self, key: str) -> dict[str, JSONValue]:
        text = self._get(self._keys.thread(key))
        state: dict[str, JSONValue] = json.loads(text) if text else {}
        return state

    async def update_thread(
        self, key: str, mapping: Mapping[str, JSONValue], *, ttl: float = THREAD_TTL
    ) -> dict[str, JSONValue]:
        name = self._keys.thread(key)
        text = merge_thread(self._get(name), mapping)
        self._set(name, text, ttl)
        state: dict[str, JSONValue] = json.loads(text)
        return state

    # -- journals ------------------------------------------------------------------------
    async def push_entry(
        self,
        key: str,
        entry: Mapping[str, JSONValue],
        *,
        dedupe: str,
        at: float,
        keep: int,
        ttl: float,
    ) -> None:
        name = self._keys.journal(key)
        journal: dict[str, tuple[float, str]] = dict(self._get(name) or {})
        journal[dedupe] = (at, json.dumps(dict(entry), separators=(",", ":")))
        # Newest first, ties by the higher id (what Redis's ZREVRANGE returns).
        order = sorted(journal, key=lambda d: (journal[d][0], d), reverse=True)
        self._set(name, {d: journal[d] for d in order[: max(keep, 0)]}, ttl)

    async def entries(self, key: str, limit: int) -> list[dict[str, JSONValue]]:
        journal: dict[str, tuple[float, str]] = self._get(self._keys.journal(key)) or {}
        order = sorted(journal, key=lambda d: (journal[d][0], d), reverse=True)
        return [json.loads(journal[d][1]) for d in order[: max(limit, 0)]]

    # -- metrics -------------------------------------------------------------------------
    async def record_event(self, kind: str, user_id: str | None, day: date, value: int = 1) -> None:
        name = self._keys.events(kind, day)
        self._set(name, int(self._get(name) or 0) + value, METRICS_TTL)
        if user_id is not None:
            users_key = self._keys.users(kind, day)
            users: set[str] = self._get(users_key) or set()
            users.add(user_id)
            self._set(users_key, users, METRICS_TTL)

    async def record_error(self, reply_key: str, day: date) -> None:
        name = self._keys.errors(day)
        counts: dict[str, int] = self._get(name) or {}
        counts[reply_key] = counts.get(reply_key, 0) + 1
        self._set(name, counts, METRICS_TTL)

    async def record_duration(self, kind: str, day: date, seconds: float) -> None:
        name = self._keys.durations(kind, day)
        count, total = self._get(name) or (0, 0.0)
        self._set(name, (count + 1, total + seconds), METRICS_TTL)

    async def event_counts(self, kind: str, days: Sequence[date]) -> dict[date, int]:
        return {day: int(self._get(self._keys.events(kind, day)) or 0) for day in days}

    async def distinct_users(self, kind: str, days: Sequence[date]) -> int:
        seen: set[str] = set()
        for day in days:
            seen |= self._get(self._keys.users(kind, day)) or set()
        return len(seen)

    async def error_counts(self, days: Sequence[date]) -> dict[str, int]:
        totals: dict[str, int] = {}
        for day in days:
            for reply_key, n in (self._get(self._keys.errors(day)) or {}).items():
                totals[reply_key] = totals.get(reply_key, 0) + n
        return totals

    async def duration_stats(self, kind: str, days: Sequence[date]) -> DurationStats:
        count, total = 0, 0.0
        for day in days:
            c, t = self._get(self._keys.durations(kind, day)) or (0, 0.0)
            count, total = count + c, total + t
        return DurationStats(count, total)
