"""State store: one interface (``Store``), in-memory and Redis implementations."""

from bot.store.base import (
    CHECK_TTL,
    IN_FLIGHT_STATES,
    METRICS_TTL,
    THREAD_MAX_BYTES,
    THREAD_TTL,
    CheckRecord,
    CheckState,
    DurationStats,
    Hit,
    Store,
)

__all__ = [
    "CHECK_TTL",
    "IN_FLIGHT_STATES",
    "METRICS_TTL",
    "THREAD_MAX_BYTES",
    "THREAD_TTL",
    "CheckRecord",
    "CheckState",
    "DurationStats",
    "Hit",
    "Store",
]
