"""Deflection and escalation, measured per help thread.

A *help thread* is a conversation in which the bot answered a question (a DM, a
mention, a triage reply, a common question picked in App Home). Each is counted on the
UTC day it started, and so are its outcomes, so the rates of a window compare the
threads that started in it:

- **deflected**: the asker clicked "That fixed it" within ``DEFLECTION_WINDOW`` of the
  thread's start and the thread was never escalated in that window (a thread first
  marked fixed and escalated later is taken back out);
- **escalated**: "Talk to a human" was used in the thread within the window;
- the rest are *open*: nobody said either way. They count in the denominator, so the
  deflection rate never claims a silent thread as solved.

Deflection rate = deflected / help threads; escalation rate = escalated / help threads.

Every step is a first-writer-wins claim plus a counter (no read-modify-write), so
double clicks, retried requests and two processes never count a thread twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Final

from bot.helpdesk.model import ThreadOutcomes
from bot.store import keys
from bot.store.base import HelpdeskStore

THREADS: Final = "helpdesk.help-thread"
DEFLECTED: Final = "helpdesk.help-thread-deflected"
ESCALATED: Final = "helpdesk.help-thread-escalated"
DEFLECTION_WINDOW: Final = 7 * 24 * 3600.0
"""How long after its start a thread's "That fixed it" or escalation still counts."""


def _day(at: float) -> date:
    return datetime.fromtimestamp(at, tz=UTC).date()


class HelpThreads:
    """Records help threads' starts and outcomes in the store's day counters."""

    def __init__(self, store: HelpdeskStore, *, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    async def started(self, key: str, *, at: float | None = None) -> None:
        """The bot answered in thread ``key``; counted once, on its first answer."""
        at = self._clock() if at is None else at
        if await self._store.claim(keys.help_thread_started(key), DEFLECTION_WINDOW):
            await self._store.update_thread(
                keys.help_thread_record(key), {"since": at}, ttl=DEFLECTION_WINDOW
            )
            await self._store.record_event(THREADS, None, _day(at))

    async def _since(self, key: str, at: float) -> float | None:
        since = (await self._store.get_thread(keys.help_thread_record(key))).get("since")
        if not isinstance(since, int | float) or at - since > DEFLECTION_WINDOW:
            return None  # not a counted thread, or its window has closed
        return float(since)

    async def fixed(self, key: str, *, at: float | None = None) -> bool:
        """ "That fixed it": True when this click made the thread deflected."""
        at = self._clock() if at is None else at
        since = await self._since(key, at)
        if since is None or not await self._settle(key):
            return False
        await self._store.record_event(DEFLECTED, None, _day(since))
        return True

    async def escalated(self, key: str, *, at: float | None = None) -> bool:
        """ "Talk to a human": True when this made the thread escalated (once)."""
        at = self._clock() if at is None else at
        since = await self._since(key, at)
        if since is None:
            return False
        if not await self._store.claim(keys.help_thread_escalated(key), DEFLECTION_WINDOW):
            return False
        await self._store.record_event(ESCALATED, None, _day(since))
        if not await self._settle(key):  # it had been counted deflected: take that back
            await self._store.record_event(DEFLECTED, None, _day(since), -1)
        return True

    async def _settle(self, key: str) -> bool:
        # Shared by both outcomes: whichever comes first owns the thread's deflection.
        return await self._store.claim(keys.help_thread_settled(key), DEFLECTION_WINDOW)

    async def outcomes(self, span: Sequence[date]) -> ThreadOutcomes:
        """The threads started on ``span``'s days and their outcomes."""

        async def total(kind: str) -> int:
            return sum((await self._store.event_counts(kind, span)).values())

        return ThreadOutcomes(
            threads=await total(THREADS),
            deflected=await total(DEFLECTED),
            escalated=await total(ESCALATED),
        )
