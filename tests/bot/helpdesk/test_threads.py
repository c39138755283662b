"""Deflection and escalation per help thread: what counts, once, and in which window."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from bot.helpdesk.recorder import HelpdeskMetrics
from bot.helpdesk.text import render_stats_text
from bot.helpdesk.threads import DEFLECTION_WINDOW, HelpThreads
from bot.store import MemoryStore

START = datetime(2025, 3, 10, 9, tzinfo=UTC).timestamp()
DAY = date(2025, 3, 10)


def span(days: int = 7) -> list[date]:
    return [DAY + timedelta(days=n) for n in range(days)]


async def test_fixed_threads_deflect_escalated_and_silent_ones_do_not() -> None:
    """Four threads: one fixed, one escalated, one fixed then escalated, one silent.
    Only the first is deflected (1 of 4); two are escalated (2 of 4); the silent one
    counts in the denominator."""
    threads = HelpThreads(MemoryStore())
    for key in ("D1:1.1", "D1:2.1", "D1:3.1", "D1:4.1"):
        await threads.started(key, at=START)
        await threads.started(key, at=START + 60)  # later answers do not recount
    assert await threads.fixed("D1:1.1", at=START + 300)
    assert not await threads.fixed("D1:1.1", at=START + 301)  # a double click
    assert await threads.escalated("D1:2.1", at=START + 300)
    assert not await threads.fixed("D1:2.1", at=START + 400)  # a human was needed
    assert await threads.fixed("D1:3.1", at=START + 300)
    assert await threads.escalated("D1:3.1", at=START + 900)  # taken back out
    assert not await threads.escalated("D1:3.1", at=START + 901)
    outcomes = await threads.outcomes(span())
    assert (outcomes.threads, outcomes.deflected, outcomes.escalated) == (4, 1, 2)
    assert outcomes.deflection_rate == 0.25 and outcomes.escalation_rate == 0.5


async def test_outcomes_outside_the_window_or_thread_do_not_count() -> None:
    """A "That fixed it" after the window, or in a thread never answered, is no
    deflection; the outcome counts on the thread's start day."""
    clock = [START]
    store = MemoryStore(clock=lambda: clock[0] - START)
    threads = HelpThreads(store)
    await threads.started("D1:1.1", at=START)
    assert not await threads.fixed("D1:9.9", at=START + 10)
    assert not await threads.escalated("D1:9.9", at=START + 10)
    assert not await threads.fixed("D1:1.1", at=START + DEFLECTION_WINDOW + 1)
    await threads.started("D1:2.1", at=START)
    assert await threads.fixed("D1:2.1", at=START + 3 * 86400)
    first_day = await threads.outcomes([DAY])
    assert (first_day.threads, first_day.deflected) == (2, 1)
    assert (await threads.outcomes([DAY + timedelta(days=3)])).deflected == 0


async def test_concurrent_clicks_count_one_outcome() -> None:
    """ "That fixed it" and "Talk to a human" racing: whatever the order, the thread is
    escalated and not deflected, each counted once."""
    threads = HelpThreads(MemoryStore())
    await threads.started("D1:1.1", at=START)
    await asyncio.gather(
        *(threads.fixed("D1:1.1", at=START + 5) for _ in range(5)),
        *(threads.escalated("D1:1.1", at=START + 5) for _ in range(5)),
    )
    outcomes = await threads.outcomes(span())
    assert (outcomes.deflected, outcomes.escalated) == (0, 1)


async def test_rates_sit_beside_the_five_numbers() -> None:
    """The summary carries the window's thread outcomes; the stats text shows both rates
    with the counts behind them, and "—" without threads."""
    store = MemoryStore()
    metrics = HelpdeskMetrics(store, clock=lambda: START)
    empty = render_stats_text(await metrics.summary(7), await metrics.summary(30))
    assert 'Deflection (help threads solved by "That fixed it", no human): *—*' in empty
    threads = HelpThreads(store)
    for key in ("D1:1.1", "D1:2.1", "D1:3.1"):
        await threads.started(key, at=START)
    await threads.fixed("D1:1.1", at=START + 1)
    await threads.escalated("D1:2.1", at=START + 1)
    week, month = await metrics.summary(7), await metrics.summary(30)
    assert (week.threads.threads, week.threads.deflected, week.threads.escalated) == (3, 1, 1)
    assert week.as_dict()["deflection_rate"] == 1 / 3
    text = render_stats_text(week, month)
    assert "no human): *33.3%* · 33.3% (1 of 3 · 1 of 3 threads)" in text
    assert "handed to a human): *33.3%* · 33.3% (1 of 3 · 1 of 3 threads)" in text
