"""Redis store: many bot processes share one Redis.

Multi-step operations are atomic: sliding windows and the global pool run as Lua
scripts (using Redis server time, so processes with skewed clocks still agree),
read-modify-write of JSON values uses WATCH/MULTI. Every write sets a TTL.

Every redis-py failure becomes ``StoreUnavailable`` in one place: ``_translated``.
"""

from __future__ import annotations

import functools
import json
import secrets
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from datetime import date
from typing import Any, Final, ParamSpec, TypeVar

import redis.asyncio as aioredis
from redis.exceptions import RedisError, WatchError

from bot.errors import StoreUnavailable
from bot.store import scripts
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

_P = ParamSpec("_P")
_T = TypeVar("_T")

_WATCH_ATTEMPTS: Final = 50


def _translated(
    method: Callable[_P, Awaitable[_T]],
) -> Callable[_P, Coroutine[Any, Any, _T]]:
    """The one place redis errors become ``StoreUnavailable`` (fail closed)."""

    @functools.wraps(method)
    async def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return await method(*args, **kwargs)
        except (RedisError, OSError) as exc:
            # Class name only: redis messages name host:port, never the URL password,
            # but there is no reason to carry them further than the chained cause.
            raise StoreUnavailable(f"Redis unavailable ({type(exc).__name__})") from exc

    return wrapper


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisStore:
    """``Store`` on a ``redis.asyncio.Redis`` client (owned: ``close`` closes it)."""

    def __init__(self, client: aioredis.Redis, *, namespace: str = "smtpcheck") -> None:
        self._client = client
        self._keys = Keys(namespace)
        self._window = client.register_script(scripts.WINDOW_LUA)
        self._acquire_global = client.register_script(scripts.ACQUIRE_GLOBAL_LUA)
        self._count_global = client.register_script(scripts.COUNT_GLOBAL_LUA)
        self._release_slot = client.register_script(scripts.RELEASE_SLOT_LUA)
        self._reserve = client.register_script(scripts.RESERVE_LUA)
        self._settle = client.register_script(scripts.SETTLE_LUA)
        self._push_entry = client.register_script(scripts.PUSH_ENTRY_LUA)
        self._entries = client.register_script(scripts.ENTRIES_LUA)

    # -- life cycle ----------------------------------------------------------------------
    @_translated
    async def ping(self) -> None:
        await self._client.ping()

    @_translated
    async def close(self) -> None:
        await self._client.aclose()

    # -- dedupe --------------------------------------------------------------------------
    @_translated
    async def claim(self, key: str, ttl: float) -> bool:
        done = await self._client.set(self._keys.claim(key), "1", px=ttl_ms(ttl), nx=True)
        return bool(done)

    # -- sliding windows -----------------------------------------------------------------
    async def _run_window(self, key: str, window: float, limit: int, mode: str) -> Hit:
        member = secrets.token_hex(8)
        allowed, n, retry_ms = await self._window(
            keys=[self._keys.rate(key)], args=[ttl_ms(window), limit, mode, member]
        )
        return Hit(bool(allowed), int(n), int(retry_ms) / 1000)

    @_translated
    async def hit(self, key: str, *, window: float, limit: int) -> Hit:
        return await self._run_window(key, window, check_limit(limit), "hit")

    @_translated
    async def peek(self, key: str, *, window: float, limit: int) -> Hit:
        return await self._run_window(key, window, check_limit(limit), "peek")

    @_translated
    async def add_hit(self, key: str, *, window: float) -> int:
        return (await self._run_window(key, window, 1, "add")).count

    @_translated
    async def count(self, key: str, *, window: float) -> int:
        return (await self._run_window(key, window, 1, "count")).count

    # -- slots ---------------------------------------------------------------------------
    @_translated
    async def acquire_slot(self, key: str, *, ttl: float, token: str) -> bool:
        done = await self._client.set(self._keys.slot(key), token, px=ttl_ms(ttl), nx=True)
        return bool(done)

    @_translated
    async def release_slot(self, key: str, *, token: str) -> bool:
        return bool(await self._release_slot(keys=[self._keys.slot(key)], args=[token]))

    # -- account budgets -----------------------------------------------------------------
    # Multi-key scripts: under Redis Cluster these keys would need one hash slot; the
    # bot targets a single Redis (or Sentinel), where a script is one atomic step.
    @_translated
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
        names = [self._keys.rate(k) for k in budgets] + [self._keys.slot(k) for k in slots]
        args: list[str | int] = [
            len(budgets),
            check_limit(limit),
            ttl_ms(window),
            ttl_ms(ttl),
            token,
            1 if book else 0,
        ]
        verdict, retry_ms = await self._reserve(keys=names, args=args)
        if int(verdict) == 1:
            return Reserved(Refusal.BUDGET, int(retry_ms) / 1000)
        if int(verdict) == 2:
            return Reserved(Refusal.SLOT)
        return Reserved(None)

    @_translated
    async def settle(
        self, *, budgets: Sequence[str], slots: Sequence[str], token: str, cancel: bool
    ) -> None:
        names = [self._keys.rate(k) for k in budgets] + [self._keys.slot(k) for k in slots]
        await self._settle(keys=names, args=[len(budgets), token, 1 if cancel else 0])

    # -- leases --------------------------------------------------------------------------
    @_translated
    async def renew_lease(self, owner: str, *, ttl: float) -> None:
        await self._client.set(self._keys.lease(owner), "1", px=ttl_ms(ttl))

    @_translated
    async def live_leases(self, owners: Iterable[str]) -> frozenset[str]:
        wanted = list(dict.fromkeys(owners))
        if not wanted:
            return frozenset()
        values = await self._client.mget([self._keys.lease(o) for o in wanted])
        return frozenset(o for o, v in zip(wanted, values, strict=True) if v is not None)

    @_translated
    async def drop_lease(self, owner: str) -> None:
        await self._client.delete(self._keys.lease(owner))

    # -- global pool ---------------------------------------------------------------------
    @_translated
    async def acquire_global(self, name: str, *, cap: int, ttl: float, token: str) -> bool:
        args: list[str | int] = [check_limit(cap), ttl_ms(ttl), token]
        return bool(await self._acquire_global(keys=[self._keys.pool(name)], args=args))

    @_translated
    async def release_global(self, name: str, *, token: str) -> None:
        await self._client.zrem(self._keys.pool(name), token)

    @_translated
    async def count_global(self, name: str) -> int:
        return int(await self._count_global(keys=[self._keys.pool(name)], args=[]))

    # -- probe records -------------------------------------------------------------------
    def _queue_save(self, pipe: Any, record: CheckRecord) -> None:
        ttl = ttl_ms(CHECK_TTL)
        by_user = self._keys.user_checks(record.user_id)
        flight = self._keys.in_flight()
        pipe.set(self._keys.check(record.check_id), record.to_json(), px=ttl)
        pipe.zadd(by_user, {record.check_id: record.created_at})
        pipe.zremrangebyrank(by_user, 0, -(LIST_CHECKS_MAX + 1))
        pipe.pexpire(by_user, ttl)
        if record.state in IN_FLIGHT_STATES:
            pipe.zadd(flight, {record.check_id: record.created_at})
            pipe.pexpire(flight, ttl)
        else:
            pipe.zrem(flight, record.check_id)

    @_translated
    async def save_check(self, record: CheckRecord) -> None:
        async with self._client.pipeline(transaction=True) as pipe:
            self._queue_save(pipe, record)
            await pipe.execute()

    @_translated
    async def get_check(self, check_id: str) -> CheckRecord | None:
        text = _text(await self._client.get(self._keys.check(check_id)))
        return None if text is None else CheckRecord.from_json(text)

    async def _records(self, ids: Sequence[Any]) -> list[CheckRecord]:
        if not ids:
            return []
        names = [self._keys.check(_text(i) or "") for i in ids]
        texts = await self._client.mget(names)
        return [CheckRecord.from_json(t) for t in map(_text, texts) if t is not None]

    @_translated
    async def list_checks(self, user_id: str, limit: int = 10) -> list[CheckRecord]:
        count = min(limit, LIST_CHECKS_MAX)
        if count < 1:
            return []
        key = self._keys.user_checks(user_id)
        return await self._records(await self._client.zrevrange(key, 0, count - 1))

    @_translated
    async def list_in_flight(self) -> list[CheckRecord]:
        ids = await self._client.zrange(self._keys.in_flight(), 0, -1)
        return [r for r in await self._records(ids) if r.state in IN_FLIGHT_STATES]

    async def _read_modify_write(
        self, key: str, decide: Callable[[str | None], tuple[_T, Callable[[Any], None]] | None]
    ) -> _T | None:
        """Optimistic transaction on one key: ``decide`` sees its current text and
        returns (result, queue_writes) or None to leave everything unchanged."""
        async with self._client.pipeline(transaction=True) as pipe:
            for _ in range(_WATCH_ATTEMPTS):
                try:
                    await pipe.watch(key)
                    plan = decide(_text(await pipe.get(key)))
                    if plan is None:
                        return None  # leaving the block resets the pipeline (UNWATCH)
                    result, queue_writes = plan
                    pipe.multi()  # type: ignore[no-untyped-call]  # unannotated in redis-py 8.1
                    queue_writes(pipe)
                    await pipe.execute()
                    return result
                except WatchError:
                    continue
        raise StoreUnavailable(f"Redis key kept changing under {_WATCH_ATTEMPTS} attempts")

    @_translated
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
        allowed = None if only_from is None else frozenset(only_from)

        def decide(text: str | None) -> tuple[CheckRecord, Callable[[Any], None]] | None:
            new = apply_mark(
                None if text is None else CheckRecord.from_json(text),
                state,
                updated_at=updated_at,
                outcome=outcome,
                finding=finding,
                only_from=allowed,
            )
            if new is None:
                return None
            return new, lambda pipe: self._queue_save(pipe, new)

        return await self._read_modify_write(self._keys.check(check_id), decide)

    @_translated
    async def claim_interrupted_notice(self, check_id: str) -> bool:
        name = self._keys.interrupted_notice(check_id)
        return bool(await self._client.set(name, "1", px=ttl_ms(CHECK_TTL), nx=True))

    # -- threads -------------------------------------------------------------------------
    @_translated
    async def get_thread(self, key: str) -> dict[str, JSONValue]:
        text = _text(await self._client.get(self._keys.thread(key)))
        state: dict[str, JSONValue] = json.loads(text) if text else {}
        return state

    @_translated
    async def update_thread(
        self, key: str, mapping: Mapping[str, JSONValue], *, ttl: float = THREAD_TTL
    ) -> dict[str, JSONValue]:
        name = self._keys.thread(key)
        px = ttl_ms(ttl)

        def decide(text: str | None) -> tuple[str, Callable[[Any], None]]:
            new = merge_thread(text, mapping)
            return new, lambda pipe: pipe.set(name, new, px=px)

        text = await self._read_modify_write(name, decide)
        state: dict[str, JSONValue] = json.loads(text or "{}")
        return state

    # -- journals ------------------------------------------------------------------------
    @_translated
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
        names = [self._keys.journal(key), self._keys.journal_entries(key)]
        text = json.dumps(dict(entry), separators=(",", ":"))
        await self._push_entry(keys=names, args=[dedupe, repr(at), text, keep, ttl_ms(ttl)])

    @_translated
    async def entries(self, key: str, limit: int) -> list[dict[str, JSONValue]]:
        if limit <= 0:
            return []
        names = [self._keys.journal(key), self._keys.journal_entries(key)]
        raw = await self._entries(keys=names, args=[limit])
        return [json.loads(t) for t in map(_text, raw) if t]

    # -- metrics -------------------------------------------------------------------------
    @_translated
    async def record_event(self, kind: str, user_id: str | None, day: date, value: int = 1) -> None:
        ttl = ttl_ms(METRICS_TTL)
        async with self._client.pipeline(transaction=True) as pipe:
            events = self._keys.events(kind, day)
            pipe.incrby(events, value)
            pipe.pexpire(events, ttl)
            if user_id is not None:
                users = self._keys.users(kind, day)
                pipe.sadd(users, user_id)
                pipe.pexpire(users, ttl)
            await pipe.execute()

    @_translated
    async def record_error(self, reply_key: str, day: date) -> None:
        name = self._keys.errors(day)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.hincrby(name, reply_key, 1)
            pipe.pexpire(name, ttl_ms(METRICS_TTL))
            await pipe.execute()

    @_translated
    async def record_duration(self, kind: str, day: date, seconds: float) -> None:
        name = self._keys.durations(kind, day)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.hincrby(name, "count", 1)
            pipe.hincrbyfloat(name, "total", seconds)
            pipe.pexpire(name, ttl_ms(METRICS_TTL))
            await pipe.execute()

    @_translated
    async def event_counts(self, kind: str, days: Sequence[date]) -> dict[date, int]:
        if not days:
            return {}
        values = await self._client.mget([self._keys.events(kind, d) for d in days])
        return {day: int(_text(v) or 0) for day, v in zip(days, values, strict=True)}

    @_translated
    async def distinct_users(self, kind: str, days: Sequence[date]) -> int:
        # Per-day SMEMBERS rather than SUNION: works when the keys live on
        # different Redis Cluster slots, and a helpdesk has few enough users.
        async with self._client.pipeline(transaction=False) as pipe:
            for day in days:
                pipe.smembers(self._keys.users(kind, day))
            per_day = await pipe.execute()
        return len({_text(u) for members in per_day for u in members})

    @_translated
    async def error_counts(self, days: Sequence[date]) -> dict[str, int]:
        async with self._client.pipeline(transaction=False) as pipe:
            for day in days:
                pipe.hgetall(self._keys.errors(day))
            per_day = await pipe.execute()
        totals: dict[str, int] = {}
        for counts in per_day:
            for reply_key, n in counts.items():
                name = _text(reply_key) or ""
                totals[name] = totals.get(name, 0) + int(n)
        return totals

    @_translated
    async def duration_stats(self, kind: str, days: Sequence[date]) -> DurationStats:
        async with self._client.pipeline(transaction=False) as pipe:
            for day in days:
                pipe.hmget(self._keys.durations(kind, day), ["count", "total"])
            per_day = await pipe.execute()
        count, total = 0, 0.0
        for day_count, day_total in per_day:
            count += int(_text(day_count) or 0)
            total += float(_text(day_total) or 0.0)
        return DurationStats(count, total)
