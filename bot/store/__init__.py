"""State store: one interface (``Store``), in-memory and Redis implementations."""

from bot.store.base import (
    CHECK_TTL,
    IN_FLIGHT_STATES,
    LIST_CHECKS_MAX,
    METRICS_TTL,
    THREAD_MAX_BYTES,
    THREAD_TTL,
    CheckRecord,
    CheckState,
    DurationStats,
    Hit,
    Store,
)
from bot.store.factory import make_store
from bot.store.memory import MemoryStore
from bot.store.redis_store import RedisStore

__all__ = [
    "CHECK_TTL",
    "IN_FLIGHT_STATES",
    "LIST_CHECKS_MAX",
    "METRICS_TTL",
    "THREAD_MAX_BYTES",
    "THREAD_TTL",
    "CheckRecord",
    "CheckState",
    "DurationStats",
    "Hit",
    "MemoryStore",
    "RedisStore",
    "Store",
    "make_store",
]
