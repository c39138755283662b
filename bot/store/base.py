"""The state store interfaces: small role protocols, two implementations (memory, Redis).

Everything the bot remembers between requests goes through one of the store's roles
(``Claims``, ``Windows``, ``Slots``, ``Checks``, ``Documents``, ``Counters``,
``Journals``; ``Store`` is
all of them): Slack retry/replay dedupe, rate-limit and lockout windows, in-flight
slots, the global concurrency cap, non-secret probe records, per-thread conversation
state and helpdesk metrics. Each component is typed by the roles it uses.
``MemoryStore`` serves one process; ``RedisStore`` lets many processes share one
Redis. Both pass the same contract tests.

Rules every implementation keeps:
- Keys are namespaced (``<namespace>:<kind>:<...>``) and every write sets a TTL,
  so nothing lives forever.
- Nothing secret is ever stored: no method takes a password or token, and
  ``CheckRecord`` has no field that could hold one.
- Time belongs to the store: windows and TTLs are measured on the store's clock
  (Redis server time for ``RedisStore``, an injectable monotonic clock for
  ``MemoryStore``), so several processes agree on one clock.
- Any backend failure surfaces as ``bot.errors.StoreUnavailable``; callers fail
  closed (refuse the check) rather than run without limits.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Final, Protocol, Self, runtime_checkable

JSONValue = Any
"""A value ``json.dumps`` accepts (str, int, float, bool, None, list, dict)."""

CHECK_TTL: Final = 30 * 24 * 3600.0
"""How long probe records (and their indexes and notice claims) are kept, seconds."""

THREAD_TTL: Final = 7 * 24 * 3600.0
"""Default lifetime of a thread's conversation state, refreshed on each update."""

THREAD_MAX_BYTES: Final = 16 * 1024
"""Upper bound on one thread's state serialised as JSON; larger updates are refused."""

METRICS_TTL: Final = 40 * 24 * 3600.0
"""Metric day buckets outlive the 30-day dashboard window by a margin."""

LIST_CHECKS_MAX: Final = 50
"""How many recent checks are indexed per user."""


class CheckState(StrEnum):
    """Life cycle of a probe run started from Slack."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    INTERRUPTED = "interrupted"


IN_FLIGHT_STATES: Final = frozenset({CheckState.QUEUED, CheckState.RUNNING})


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckRecord:
    """A non-secret record of one check.

    Deliberately has no password/token field: the password lives only inside the
    probe coroutine. ``username`` is the account name the user typed (not secret).
    Timestamps are wall-clock epoch seconds (``time.time()``) supplied by the caller.
    """

    check_id: str
    user_id: str
    host: str
    port: int
    security: str
    state: CheckState
    created_at: float
    updated_at: float
    team_id: str | None = None
    username: str | None = None
    outcome: str | None = None
    finding: str | None = None
    channel: str | None = None
    thread_ts: str | None = None
    # The rate-limit reservation's random id, so the sweep can free the holds of a
    # process that died mid-check (otherwise the owner's retry is refused until they
    # expire). An opaque token, not a credential.
    hold: str | None = None
    # The process running the check (its lease id): the sweep leaves checks of live
    # processes alone, whatever their age.
    owner: str | None = None
    # Set (store time unknown: wall clock) once the failed-AUTH budget was booked,
    # just before the credentials left: from then on the AUTH may have counted.
    auth_booked_at: float | None = None
    # The budget keys booked (hashes, no username): settled when the reply comes,
    # kept as failures when it never does.
    accounts: tuple[str, ...] = ()

    def to_json(self) -> str:
        """Serialise to a compact JSON object (field name -> value)."""
        return json.dumps(dataclasses.asdict(self), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> Self:
        """Parse ``to_json`` output; unknown fields are ignored (forward compatible)."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("check record is not a JSON object")
        names = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in names}
        kwargs["state"] = CheckState(kwargs["state"])
        kwargs["port"] = int(kwargs["port"])
        kwargs["accounts"] = tuple(kwargs.get("accounts") or ())
        return cls(**kwargs)


@dataclass(frozen=True, slots=True)
class Hit:
    """Result of a sliding-window rate check.

    ``allowed``: the action fits in the window (and, for ``hit``, was recorded).
    ``count``: actions in the window after this call.
    ``retry_after``: seconds until one more action would fit (0 when allowed).
    """

    allowed: bool
    count: int
    retry_after: float


class Refusal(StrEnum):
    """Why ``Budgets.reserve`` refused."""

    BUDGET = "budget"  # a budget key has ``limit`` actions in its window
    SLOT = "slot"  # a slot key is held by another token


@dataclass(frozen=True, slots=True)
class Reserved:
    """Result of ``Budgets.reserve``: ``refused`` is None when the slots were taken
    (and, with ``book``, the action recorded); ``retry_after`` is seconds until the
    refusing budget frees (0 otherwise)."""

    refused: Refusal | None
    retry_after: float = 0.0

    @property
    def allowed(self) -> bool:
        return self.refused is None


@dataclass(frozen=True, slots=True)
class DurationStats:
    """Sum and count of recorded durations over a range of days (seconds)."""

    count: int
    total: float

    @property
    def mean(self) -> float | None:
        """Average duration, or None when nothing was recorded."""
        return self.total / self.count if self.count else None


# Role interfaces: each user of the store is typed by the roles it needs, so a reader
# sees at a glance what a component may touch. All durations are seconds (float).


class Claims(Protocol):
    """First-writer-wins markers: exactly one effect per key."""

    async def claim(self, key: str, ttl: float) -> bool:
        """Atomically claim ``key`` for ``ttl`` seconds; True only for the first caller.

        Used for Slack event ids, retries and double submits: exactly one effect.
        """


class Windows(Protocol):
    """Sliding-window counters (rate limits, failed-AUTH budgets)."""

    async def hit(self, key: str, *, window: float, limit: int) -> Hit:
        """Atomically record one action if fewer than ``limit`` happened in the last
        ``window`` seconds. Refused hits are not recorded."""

    async def peek(self, key: str, *, window: float, limit: int) -> Hit:
        """Like ``hit`` but never records: would one more action fit right now?"""

    async def add_hit(self, key: str, *, window: float) -> int:
        """Record one action unconditionally (e.g. a failed AUTH); return the count
        in the window including it."""

    async def count(self, key: str, *, window: float) -> int:
        """Number of actions recorded under ``key`` in the last ``window`` seconds."""


class Slots(Protocol):
    """Single-holder slots and capped pools that free themselves after a TTL."""

    async def acquire_slot(self, key: str, *, ttl: float, token: str) -> bool:
        """Take the single slot ``key`` for ``token`` if free; it frees itself after
        ``ttl`` seconds so a crashed holder cannot block it forever."""

    async def release_slot(self, key: str, *, token: str) -> bool:
        """Free the slot if ``token`` still holds it; False if it expired or was
        taken by someone else (which is then left alone)."""

    async def acquire_global(self, name: str, *, cap: int, ttl: float, token: str) -> bool:
        """Join the pool ``name`` if fewer than ``cap`` live holders are in it.

        Each holder expires ``ttl`` seconds after acquiring, so holders that crashed
        age out. Re-acquiring with the same token refreshes it (always allowed).
        """

    async def release_global(self, name: str, *, token: str) -> None:
        """Leave the pool ``name`` (no-op if ``token`` is not in it)."""

    async def count_global(self, name: str) -> int:
        """Live holders in the pool ``name``."""


class Budgets(Protocol):
    """Per-account admission: budgets (sliding windows) and slots checked and taken
    in one atomic step, so no action slips in between the check and the booking."""

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
        """If every budget key has fewer than ``limit`` actions in its ``window`` and
        every slot key is free or held by ``token``: take the slots for ``ttl`` and,
        with ``book``, record one action (member ``token``) in every budget key.
        Otherwise change nothing and say why (a budget first)."""

    async def settle(
        self, *, budgets: Sequence[str], slots: Sequence[str], token: str, cancel: bool
    ) -> None:
        """Free the slots ``token`` holds; with ``cancel``, also remove the action
        booked under ``token`` from every budget key (it did not count after all)."""


class Leases(Protocol):
    """Per-process heartbeats: a live process keeps its lease renewed."""

    async def renew_lease(self, owner: str, *, ttl: float) -> None:
        """Mark ``owner`` alive for ``ttl`` more seconds."""

    async def live_leases(self, owners: Iterable[str]) -> frozenset[str]:
        """Which of ``owners`` hold an unexpired lease."""

    async def drop_lease(self, owner: str) -> None:
        """``owner`` stopped cleanly."""


class Checks(Protocol):
    """Non-secret records of live checks and their in-flight index."""

    async def save_check(self, record: CheckRecord) -> None:
        """Create or replace a record (kept ``CHECK_TTL``); maintains the per-user
        index and the in-flight index (states queued and running)."""

    async def get_check(self, check_id: str) -> CheckRecord | None:
        """The record, or None if unknown or expired."""

    async def list_checks(self, user_id: str, limit: int = 10) -> list[CheckRecord]:
        """The user's most recent checks, newest first (at most ``LIST_CHECKS_MAX``)."""

    async def list_in_flight(self) -> list[CheckRecord]:
        """Checks in state queued or running, oldest first, across all processes.

        For the start-up sweep. With several processes sharing a store, a check may
        belong to a live process: close out only records whose ``updated_at`` is older
        than the probe deadline plus a margin, and use ``mark_check(only_from=...)``.
        """

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
        """Atomically move a check to ``state`` (setting outcome/finding when given).

        With ``only_from``, the change happens only if the current state is one of
        those (compare-and-set, so a sweep never overwrites a check that finished).
        Returns the new record, or None when unknown or the state did not match.
        """

    async def claim_interrupted_notice(self, check_id: str) -> bool:
        """True exactly once per check across all processes: the caller tells the
        owner that the check was interrupted."""


class Documents(Protocol):
    """Small JSON documents per thread (conversation state, a check's follow-up)."""

    async def get_thread(self, key: str) -> dict[str, JSONValue]:
        """The thread's state (empty dict if none or expired)."""

    async def update_thread(
        self, key: str, mapping: Mapping[str, JSONValue], *, ttl: float = THREAD_TTL
    ) -> dict[str, JSONValue]:
        """Atomically merge ``mapping`` into the thread's state (a None value deletes
        that field), refresh the TTL and return the new state.

        Raises ``ValueError`` if a value is not JSON or the result exceeds
        ``THREAD_MAX_BYTES`` (the state is then unchanged).
        """


class Counters(Protocol):
    """Metric day buckets (kept ``METRICS_TTL``) for the helpdesk numbers."""

    async def record_event(self, kind: str, user_id: str | None, day: date, value: int = 1) -> None:
        """Add ``value`` to the ``kind`` counter of ``day`` and, when ``user_id`` is
        given, count that user among the day's distinct users for ``kind``."""

    async def record_error(self, reply_key: str, day: date) -> None:
        """Count one occurrence of an error reply (e.g. a reply pattern id) on ``day``."""

    async def record_duration(self, kind: str, day: date, seconds: float) -> None:
        """Add one duration sample (e.g. time to resolution) to ``day``."""

    async def event_counts(self, kind: str, days: Sequence[date]) -> dict[date, int]:
        """Counter value per day (0 where nothing was recorded)."""

    async def distinct_users(self, kind: str, days: Sequence[date]) -> int:
        """Number of distinct users recorded for ``kind`` over all of ``days``."""

    async def error_counts(self, days: Sequence[date]) -> dict[str, int]:
        """Occurrences per reply key summed over ``days``."""

    async def duration_stats(self, kind: str, days: Sequence[date]) -> DurationStats:
        """Count and total of duration samples over ``days``."""


class Journals(Protocol):
    """Short newest-first lists of small JSON entries that many processes append to
    (the admins' review list, failed webhook deliveries): each push is one atomic step."""

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
        """Put ``entry`` (dated ``at``) in the journal ``key``, replacing the entry with
        the same ``dedupe`` id, keep only the ``keep`` newest and refresh the TTL."""

    async def entries(self, key: str, limit: int) -> list[dict[str, JSONValue]]:
        """At most ``limit`` entries of the journal, newest first (empty when none)."""


class LimitStore(Windows, Slots, Budgets, Protocol):
    """What the rate limiter and lockout guard need."""


class HelpdeskStore(Claims, Documents, Counters, Journals, Protocol):
    """What the helpdesk recorder needs."""


class CheckStore(Claims, Checks, Documents, Leases, Protocol):
    """What the check runner needs."""


@runtime_checkable
class Store(
    Claims, Windows, Slots, Budgets, Leases, Checks, Documents, Counters, Journals, Protocol
):
    """The whole store: every role, plus its life cycle."""

    async def ping(self) -> None:
        """Raise ``StoreUnavailable`` if the backend cannot be reached (health checks)."""

    async def close(self) -> None:
        """Release connections; the store is unusable afterwards."""
