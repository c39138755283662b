"""Pure decisions shared by both stores, so they cannot drift apart."""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable, Mapping

from bot.store.base import THREAD_MAX_BYTES, CheckRecord, CheckState, JSONValue


def ttl_ms(ttl: float) -> int:
    """A positive TTL in whole milliseconds (Redis PX); refuse nonsense early."""
    if not math.isfinite(ttl) or ttl <= 0:
        raise ValueError(f"ttl must be a positive number of seconds, got {ttl!r}")
    return max(1, math.ceil(ttl * 1000))


def check_limit(limit: int) -> int:
    """Window limits and pool caps are at least 1."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit!r}")
    return limit


def merge_thread(current: str | bytes | None, mapping: Mapping[str, JSONValue]) -> str:
    """Merge ``mapping`` into the stored JSON state; None deletes a field.

    Returns the new JSON text; raises ValueError for non-JSON values or when the
    result exceeds ``THREAD_MAX_BYTES``.
    """
    state: dict[str, JSONValue] = json.loads(current) if current else {}
    for field, value in mapping.items():
        if not isinstance(field, str):
            raise ValueError("thread state field names must be strings")
        if value is None:
            state.pop(field, None)
        else:
            state[field] = value
    try:
        text = json.dumps(state, separators=(",", ":"), sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"thread state must be JSON: {exc}") from None
    if len(text.encode()) > THREAD_MAX_BYTES:
        raise ValueError(f"thread state would exceed {THREAD_MAX_BYTES} bytes")
    return text


def apply_mark(
    record: CheckRecord | None,
    state: CheckState,
    *,
    updated_at: float,
    outcome: str | None,
    finding: str | None,
    only_from: Iterable[CheckState] | None,
) -> CheckRecord | None:
    """The record after ``mark_check``, or None when it must not change."""
    if record is None:
        return None
    if only_from is not None and record.state not in frozenset(only_from):
        return None
    return dataclasses.replace(
        record,
        state=CheckState(state),
        updated_at=updated_at,
        outcome=record.outcome if outcome is None else outcome,
        finding=record.finding if finding is None else finding,
    )
