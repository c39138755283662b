"""Retrying the two things a finished check must not lose: its Slack delivery (a verdict
falls back to plain text) and its store bookkeeping. Slack steps are tried twice (the
client bounds each try); store writes that fail are retried in the background until the
store answers, so a stall delays the bookkeeping, never the verdict, and leaves no record
"running"."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Final

from bot import messages
from bot.checks.advice import Advice
from bot.checks.contracts import CheckSink
from bot.errors import StoreUnavailable
from bot.probe.model import ProbeReport
from bot.store.base import CheckRecord

log = logging.getLogger(__name__)

DELIVERY_ATTEMPTS: Final = 2
DELIVERY_PAUSE: Final = 1.0


async def deliver(send: Callable[[], Awaitable[None]]) -> None:
    """A Slack step, tried ``DELIVERY_ATTEMPTS`` times; the last error propagates."""
    for attempt in range(DELIVERY_ATTEMPTS):
        try:
            await send()
            return
        except Exception:
            if attempt == DELIVERY_ATTEMPTS - 1:
                raise
            await asyncio.sleep(DELIVERY_PAUSE)


async def deliver_verdict(
    sink: CheckSink, done: CheckRecord, report: ProbeReport, advice: Advice
) -> None:
    """Post the verdict; if Slack refuses the rich message, send it as plain text.
    Never raises: a verdict that cannot be delivered at all is logged."""
    try:
        await deliver(lambda: sink.finished(done, report, advice))
        return
    except Exception:
        log.warning("could not post the verdict of check %s; sending it plain", done.check_id)
    text = messages.VERDICT_PLAIN.format(
        target=f"{done.host}:{done.port}",
        verdict=messages.VERDICTS[report.outcome],
        summary=advice.summary,
    )
    try:
        await deliver(lambda: sink.plain(done, text))
    except Exception:
        log.error("the verdict of check %s could not be delivered", done.check_id)


class Retrier:
    """Retries store writes in tracked background tasks, with backoff, for a while."""

    def __init__(
        self, track: Callable[[asyncio.Task[None]], None], *, give_up_after: float
    ) -> None:
        self._track = track
        self._give_up_after = give_up_after

    def retry(self, write: Callable[[], Awaitable[object]]) -> None:
        async def again() -> None:
            pause = 0.5
            give_up = time.monotonic() + self._give_up_after
            while time.monotonic() < give_up:
                await asyncio.sleep(pause)
                try:
                    await write()
                    return
                except StoreUnavailable:
                    pause = min(pause * 2, 5.0)
            log.error("store unreachable for %.0f s: gave up a write", self._give_up_after)

        self._track(asyncio.create_task(again()))


async def persist_or_retry(
    retrier: Retrier, check_id: str, write: Callable[[], Awaitable[object]]
) -> bool:
    """Write now (True); if the store does not answer, retry in the background (False)."""
    try:
        await write()
        return True
    except StoreUnavailable:
        log.warning("store unreachable: will record check %s when it answers", check_id)
    retrier.retry(write)
    return False
