"""Helpdesk metrics: recording, the five numbers over 7/30 days, rendering, Prometheus."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.helpdesk.model import Statistic
from bot.helpdesk.prometheus import render_prometheus
from bot.helpdesk.recorder import HelpdeskMetrics
from bot.helpdesk.text import (
    format_count,
    format_duration,
    format_ratio,
    render_stats_text,
    sparkline,
)
from bot.store import MemoryStore, Store
from tests.bot.store.support import FakeClock, StoreCase, open_case

TODAY = date(2025, 3, 20)
GMAIL = "gmail-app-password-required"
M365 = "m365-smtp-auth-disabled"
REFUSED = "connect_refused"
USERS = [f"UHD{n:04d}X" for n in range(1, 10)]
U1, U2, U3, U4, U5, U6, U7, U8, U9 = USERS


def at(days_ago: int, hour: int, minute: int = 0) -> float:
    """Epoch seconds of ``hour:minute`` UTC, ``days_ago`` days before TODAY."""
    day = TODAY - timedelta(days=days_ago)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC).timestamp()


def noon_today() -> float:
    return at(0, 12)


@pytest.fixture(params=["memory", "redis"])
async def case(request: pytest.FixtureRequest) -> AsyncIterator[StoreCase]:
    """A fresh store of each kind (Redis in its own namespace, dropped afterwards)."""
    async for value in open_case(request.param):
        yield value


def metrics_on(store: Store) -> HelpdeskMetrics:
    return HelpdeskMetrics(store, clock=noon_today)


@pytest.fixture
def memory() -> HelpdeskMetrics:
    """Metrics on an in-memory store with a fixed store clock."""
    return metrics_on(MemoryStore(clock=FakeClock()))


async def failed(
    m: HelpdeskMetrics, user: str, when: float | None, reply: str | None = GMAIL
) -> None:
    await m.record_check(user, outcome="auth_rejected", auth_failed=True, reply_key=reply, at=when)


async def succeeded(m: HelpdeskMetrics, user: str, when: float) -> bool:
    return await m.record_check(user, outcome="authenticated", auth_failed=False, at=when)


async def seed(m: HelpdeskMetrics) -> None:
    """The scenario the exact-figure tests check (see the expected values below)."""
    # Inside the 7-day window (days 0..6 ago).
    await m.record_question(U1, thread_key="D1:100.1", at=at(1, 9))
    await failed(m, U1, at(1, 10))
    assert await succeeded(m, U1, at(1, 12, 10))  # resolved after 3 h 10 min
    await failed(m, U2, at(2, 8))
    await failed(m, U2, at(2, 9), M365)
    assert await m.record_resolved(U2, at=at(2, 10))  # 2 h
    assert await succeeded(m, U3, at(3, 12)) is False  # never failed: nothing to resolve
    await m.record_question(U9, thread_key="C9:900.1", at=at(4, 10))
    assert await m.record_resolved(U9, at=at(4, 10, 20))  # 20 min
    await m.record_check(
        U6, outcome="connect_error", auth_failed=False, reply_key=REFUSED, at=at(5, 7)
    )
    await m.record_check(U8, outcome="reachable", auth_failed=False, at=at(0, 8))
    # Day 8 (7 days ago) and later: inside 30 days only.
    await failed(m, U4, at(7, 10), M365)
    assert await succeeded(m, U4, at(7, 11))  # 1 h
    await m.record_question(U5, at=at(10, 9))
    assert await m.record_resolved(U5, at=at(10, 9, 30))  # 30 min
    # 30 days ago: outside both windows.
    await failed(m, U7, at(30, 12), "old-error")
    await m.record_question(U7, at=at(30, 13))


async def test_seven_day_figures_are_exact(case: StoreCase) -> None:
    """Seeded events give the exact 7-day failure rate, logins, resolution, share, errors."""
    m = metrics_on(case.store)
    await seed(m)
    s = await m.summary(7, today=TODAY)
    assert (s.start, s.end, s.days) == (TODAY - timedelta(days=6), TODAY, 7)
    assert (s.checks, s.auth_attempts, s.failed_logins) == (7, 5, 3)
    assert s.auth_failure_rate == pytest.approx(0.6)
    assert s.questions == 2
    assert s.resolutions == 3
    assert s.resolution_statistic is Statistic.MEDIAN
    assert s.resolution_median_seconds == pytest.approx(7200)
    assert s.resolution_seconds == pytest.approx(7200)
    assert s.resolution_mean_seconds == pytest.approx((11400 + 7200 + 1200) / 3)
    assert (s.users_active, s.users_affected) == (6, 4)
    assert s.users_affected_share == pytest.approx(4 / 6)
    assert [(e.reply, e.count) for e in s.top_errors] == [(GMAIL, 2), (REFUSED, 1), (M365, 1)]


async def test_thirty_day_figures_include_day_eight(case: StoreCase) -> None:
    """Day 8 and day 11 count in the 30-day window; 30 days ago counts in neither."""
    m = metrics_on(case.store)
    await seed(m)
    s = await m.summary(30, today=TODAY)
    assert s.start == TODAY - timedelta(days=29)
    assert (s.checks, s.auth_attempts, s.failed_logins) == (9, 7, 4)
    assert s.auth_failure_rate == pytest.approx(4 / 7)
    assert s.questions == 3
    assert s.resolutions == 5
    assert s.resolution_median_seconds == pytest.approx(3600)
    assert s.resolution_mean_seconds == pytest.approx((11400 + 7200 + 1200 + 3600 + 1800) / 5)
    assert (s.users_active, s.users_affected) == (8, 6)
    assert [(e.reply, e.count) for e in s.top_errors] == [(GMAIL, 2), (M365, 2), (REFUSED, 1)]


async def test_window_boundary_is_utc_midnight(case: StoreCase) -> None:
    """23:59 UTC on day 8 is outside the 7-day window; 00:00 on day 7 is inside."""
    m = metrics_on(case.store)
    await failed(m, U1, at(7, 23, 59), "day-eight")
    await failed(m, U2, at(6, 0, 0), "day-seven")
    s7, s8 = await m.summary(7, today=TODAY), await m.summary(8, today=TODAY)
    assert (s7.failed_logins, s7.users_affected) == (1, 1)
    assert [e.reply for e in s7.top_errors] == ["day-seven"]
    assert (s8.failed_logins, s8.users_affected) == (2, 2)


async def test_daily_series_oldest_first(case: StoreCase) -> None:
    """The trend series hold one value per day, oldest first, matching the seed."""
    m = metrics_on(case.store)
    await seed(m)
    series = (await m.summary(7, today=TODAY)).series
    assert series.days == tuple(TODAY - timedelta(days=n) for n in range(6, -1, -1))
    assert series.failed_logins == (0, 0, 0, 0, 2, 1, 0)
    assert series.auth_attempts == (0, 0, 0, 1, 2, 2, 0)
    assert series.checks == (0, 1, 0, 1, 2, 2, 1)
    assert series.questions == (0, 0, 1, 0, 0, 1, 0)
    assert series.resolutions == (0, 0, 1, 0, 1, 1, 0)
    assert series.users_affected == (0, 1, 1, 0, 1, 1, 0)
    assert series.auth_failure_rate == (None, None, None, 0.0, 1.0, 0.5, None)


async def test_resolution_counted_once_per_episode(case: StoreCase) -> None:
    """Repeated and concurrent "That fixed it" clicks close an episode exactly once."""
    m = metrics_on(case.store)
    await failed(m, U1, at(0, 8))
    results = await asyncio.gather(*(m.record_resolved(U1, at=at(0, 9)) for _ in range(5)))
    assert sorted(results) == [False] * 4 + [True]
    assert await succeeded(m, U1, at(0, 10)) is False  # already resolved
    assert await m.record_resolved(U1, at=at(0, 11)) is False
    s = await m.summary(7, today=TODAY)
    assert s.resolutions == 1
    assert s.resolution_seconds == pytest.approx(3600)


async def test_new_problem_after_resolution_is_a_new_episode(case: StoreCase) -> None:
    """After a resolution, the next failure starts a fresh episode that resolves again."""
    m = metrics_on(case.store)
    await failed(m, U1, at(1, 8))
    assert await succeeded(m, U1, at(1, 9))
    await m.record_question(U1, thread_key="D1:5.5", at=at(0, 8))
    assert await succeeded(m, U1, at(0, 8, 30))
    s = await m.summary(7, today=TODAY)
    assert s.resolutions == 2
    assert s.resolution_median_seconds == pytest.approx((3600 + 1800) / 2)


async def test_episode_starts_at_first_event(memory: HelpdeskMetrics) -> None:
    """The episode keeps its first start; a late-arriving earlier event moves it back."""
    await memory.record_question(U1, thread_key="D1:1.1", at=at(0, 9))
    await failed(memory, U1, at(0, 10))
    episode = await memory.episode(U1)
    assert episode is not None
    assert episode.started_at == at(0, 9)
    assert (episode.origin, episode.thread_key) == ("question", "D1:1.1")
    await failed(memory, U1, at(0, 7))  # recorded late by another process
    episode = await memory.episode(U1)
    assert episode is not None
    assert (episode.started_at, episode.origin) == (at(0, 7), "check")
    assert await memory.record_resolved(U1, at=at(0, 11))
    assert await memory.episode(U1) is None
    assert (await memory.summary(1, today=TODAY)).resolution_seconds == pytest.approx(4 * 3600)


async def test_success_without_problem_and_neutral_outcomes(memory: HelpdeskMetrics) -> None:
    """Reachable/policy outcomes neither open nor close episodes; checks still count."""
    await memory.record_check(U1, outcome="policy_refused", auth_failed=False, at=at(0, 8))
    await memory.record_check(U1, outcome="reachable", auth_failed=False, at=at(0, 9))
    assert await memory.episode(U1) is None
    assert await memory.record_resolved(U1, at=at(0, 10)) is False
    s = await memory.summary(7, today=TODAY)
    assert (s.checks, s.auth_attempts, s.users_active, s.users_affected) == (2, 0, 1, 0)
    assert s.auth_failure_rate is None
    assert s.resolution_seconds is None


async def test_activity_counts_users_who_used_the_bot(memory: HelpdeskMetrics) -> None:
    """record_activity widens the denominator of the share of users affected."""
    await memory.record_question(U1, at=at(0, 8))
    await memory.record_activity(U2, at=at(0, 9))
    await memory.record_activity(U3, at=at(0, 9))
    await memory.record_activity(U1, at=at(0, 9))
    s = await memory.summary(7, today=TODAY)
    assert (s.users_affected, s.users_active) == (1, 3)
    assert s.users_affected_share == pytest.approx(1 / 3)


async def test_median_falls_back_to_mean_when_samples_are_missing(case: StoreCase) -> None:
    """A duration without its kept sample makes the summary report the exact mean."""
    m = metrics_on(case.store)
    await failed(m, U1, at(0, 8))
    assert await succeeded(m, U1, at(0, 9))
    await case.store.record_duration("helpdesk.resolution", TODAY, 7200.0)  # sample not kept
    s = await m.summary(7, today=TODAY)
    assert s.resolution_statistic is Statistic.MEAN
    assert s.resolution_median_seconds is None
    assert s.resolution_seconds == pytest.approx(5400)
    assert "Time to resolution (mean)" in render_stats_text(s, s)


async def test_top_errors_are_five_by_count_then_name(memory: HelpdeskMetrics) -> None:
    """Only the five most frequent error replies are listed, ties in name order."""
    counts = {"e-a": 1, "e-b": 4, "e-c": 2, "e-d": 2, "e-e": 3, "e-f": 1, "e-g": 5}
    for reply, n in counts.items():
        for _ in range(n):
            await failed(memory, U1, at(0, 8), reply)
    s = await memory.summary(7, today=TODAY)
    assert [(e.reply, e.count) for e in s.top_errors] == [
        ("e-g", 5),
        ("e-b", 4),
        ("e-e", 3),
        ("e-c", 2),
        ("e-d", 2),
    ]


async def test_reply_key_must_be_an_identifier(memory: HelpdeskMetrics) -> None:
    """Free text (server replies, addresses) is refused as a reply key before recording."""
    for bad in ("535 5.7.8 Username and Password not accepted", "alice@example.com", ""):
        with pytest.raises(ValueError, match="reply_key"):
            await failed(memory, U1, at(0, 8), bad)
    assert (await memory.summary(7, today=TODAY)).checks == 0


async def test_window_length_is_bounded(memory: HelpdeskMetrics) -> None:
    """Windows outside 1..40 days (the metrics TTL) are refused."""
    for days in (0, 41):
        with pytest.raises(ValueError, match="days"):
            await memory.summary(days, today=TODAY)


async def test_defaults_come_from_the_clock() -> None:
    """Without ``at``/``today`` the injected wall clock decides the UTC day."""
    m = HelpdeskMetrics(MemoryStore(clock=FakeClock()), clock=lambda: at(0, 23, 59))
    await failed(m, U1, None)  # at=None means "now"
    s = await m.summary(1)
    assert (s.end, s.failed_logins) == (TODAY, 1)


def test_sparkline_shapes() -> None:
    """Bars scale to the maximum; zeros are flat; None is a gap; small values show."""
    assert sparkline([]) == ""
    assert sparkline([0, 0, 0]) == "▁▁▁"
    assert sparkline([0, 1, 2, 4, 8]) == "▁▂▃▅█"
    assert sparkline([5, 5]) == "██"
    assert sparkline([1, 1000]) == "▂█"
    assert sparkline([None, 0.5, None, 0.0]) == "·█·▁"
    assert sparkline([1, 2, 3, 4, 5, 6, 7]) == "▂▃▄▅▆▇█"
    assert sparkline([3, 7, 0.1]) == "▄█▂"
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            sparkline([1, bad])


def test_human_formats() -> None:
    """Ratios, durations and counts read as people write them; no data is a dash."""
    assert [format_ratio(r) for r in (0.125, 0.5, 0, 1, 2 / 3, None)] == [
        "12.5%",
        "50%",
        "0%",
        "100%",
        "66.7%",
        "—",
    ]
    assert [format_duration(s) for s in (0, 45, 59.6, 720, 3570, 3600, 11400, 187200)] == [
        "0 s",
        "45 s",
        "1 min",
        "12 min",
        "1 h",
        "1 h",
        "3 h 10 min",
        "2 d 4 h",
    ]
    assert format_duration(None) == "—"
    assert format_count(12345) == "12,345"


async def test_render_text_shows_both_periods(memory: HelpdeskMetrics) -> None:
    """The stats message carries the five numbers for 7 and 30 days, trends and errors."""
    await seed(memory)
    s7, s30 = await memory.summary(7, today=TODAY), await memory.summary(30, today=TODAY)
    text = render_stats_text(s7, s30)
    assert "Authentication failure rate: *60%* · 57.1%" in text
    assert "Failed login attempts: *3* · 4" in text
    assert "Time to resolution (median): *2 h* · 1 h (3 · 5 resolved)" in text
    assert "Users affected: *66.7% (4 of 6)* · 75% (6 of 8)" in text
    assert f"1. `{GMAIL}`: 2" in text
    assert f"2. `{M365}`: 2" in text
    assert f"3. `{REFUSED}`: 1" in text
    rate_chart = sparkline(s30.series.auth_failure_rate)
    assert len(rate_chart) == 30
    assert f"auth failure rate: latest 50%, peak 100% `{rate_chart}`" in text
    failed = s30.series.failed_logins
    figures = f"latest {failed[-1]}, peak {max(failed)}, total {sum(failed)}"
    assert f"failed logins: {figures} `{sparkline(failed)}`" in text
    assert not any(user in text for user in USERS)


async def test_render_text_without_data(memory: HelpdeskMetrics) -> None:
    """An empty store renders dashes and flat charts, never 0% or a crash."""
    s7, s30 = await memory.summary(7, today=TODAY), await memory.summary(30, today=TODAY)
    text = render_stats_text(s7, s30)
    assert "Authentication failure rate: *—* · —" in text
    assert "Users affected: *—* · —" in text
    assert "Time to resolution (median): *—* · —" in text
    assert "none recorded" in text
    assert "failed logins: latest 0, peak 0, total 0 `" + "▁" * 30 + "`" in text
    assert "auth failure rate: — `" in text


async def test_as_dict_is_json_ready(memory: HelpdeskMetrics) -> None:
    """as_dict carries the derived ratios and ISO dates."""
    await seed(memory)
    data = (await memory.summary(7, today=TODAY)).as_dict()
    assert data["auth_failure_rate"] == pytest.approx(0.6)
    assert data["resolution_statistic"] == "median"
    assert data["series"]["days"][-1] == TODAY.isoformat()
    assert data["top_errors"][0] == {"reply": GMAIL, "count": 2}


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_prometheus_text_parses_with_the_figures(case: StoreCase) -> None:
    """The exposition parses and carries the seeded 7- and 30-day values."""
    m = metrics_on(case.store)
    await seed(m)
    text = (await render_prometheus(m, today=TODAY)).decode()
    samples = _samples(text)
    p = "smtpcheck_helpdesk_"

    def value(name: str, **labels: str) -> float:
        return samples[(p + name, tuple(sorted(labels.items())))]

    assert value("auth_failure_ratio", window="7d") == pytest.approx(0.6)
    assert value("auth_failure_ratio", window="30d") == pytest.approx(4 / 7)
    assert value("failed_logins", window="7d") == 3
    assert value("failed_logins", window="30d") == 4
    assert value("time_to_resolution_seconds", window="7d", statistic="median") == 7200
    assert value("time_to_resolution_seconds", window="30d", statistic="median") == 3600
    assert value("time_to_resolution_seconds", window="30d", statistic="mean") == 5040
    assert value("users_affected_ratio", window="30d") == pytest.approx(0.75)
    assert value("error_replies", reply=GMAIL, window="7d") == 2
    assert value("error_replies", reply=M365, window="30d") == 2
    assert not any(dict(labels).get("reply") == "old-error" for _, labels in samples)


async def test_prometheus_has_no_user_labels(memory: HelpdeskMetrics) -> None:
    """Only window/statistic/reply labels appear; no user id is anywhere in the text."""
    await seed(memory)
    text = (await render_prometheus(memory, today=TODAY)).decode()
    label_names = {
        name
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        for name in sample.labels
    }
    assert label_names == {"window", "statistic", "reply"}
    assert not any(user in text for user in USERS)
    assert all(
        re.fullmatch(r"smtpcheck_helpdesk_[a-z_]+", family.name)
        for family in text_string_to_metric_families(text)
    )


async def test_prometheus_omits_undefined_ratios(memory: HelpdeskMetrics) -> None:
    """With no data, counts are 0 and ratios/averages are absent rather than NaN or 0."""
    samples = _samples((await render_prometheus(memory, today=TODAY)).decode())
    names = {name for name, _ in samples}
    assert "smtpcheck_helpdesk_failed_logins" in names
    assert "smtpcheck_helpdesk_auth_failure_ratio" not in names
    assert "smtpcheck_helpdesk_users_affected_ratio" not in names
    assert "smtpcheck_helpdesk_time_to_resolution_seconds" not in names
    assert all(value == 0 for value in samples.values())


async def test_stats_is_frozen(memory: HelpdeskMetrics) -> None:
    """HelpdeskStats is an immutable value."""
    stats = await memory.summary(7, today=TODAY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        stats.checks = 1  # type: ignore[misc]  # the point: assignment must fail
