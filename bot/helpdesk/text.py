"""Helpdesk numbers for people: Unicode sparklines, human formats, the stats message.

Pure functions of ``HelpdeskStats``. The text is Slack mrkdwn that also reads as
plain text (``/smtpcheck stats`` posts it; the App Home dashboard reuses the
formatters). Wording is kept here, in one place, as data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final

from bot.helpdesk.model import HelpdeskStats, Statistic

BARS: Final = "▁▂▃▄▅▆▇█"
NO_DATA: Final = "—"
GAP: Final = "·"  # a day with nothing to measure (e.g. no AUTH attempt for a rate)

TITLE: Final = "*Helpdesk numbers*"
PERIODS: Final = "last 7 days · last 30 days (UTC, to {end})"
LABEL_FAILURE_RATE: Final = "Authentication failure rate"
LABEL_FAILED_LOGINS: Final = "Failed login attempts"
LABEL_RESOLUTION: Final = "Time to resolution ({statistic})"
RESOLVED_COUNTS: Final = "({days7} · {days30} resolved)"
LABEL_AFFECTED: Final = "Users affected"
LABEL_DEFLECTION: Final = 'Deflection (help threads solved by "That fixed it", no human)'
LABEL_ESCALATION: Final = "Escalation (help threads handed to a human)"
THREAD_COUNTS: Final = "({part7} of {all7} · {part30} of {all30} threads)"
LABEL_TOP_ERRORS: Final = "Most common error replies"
LABEL_TRENDS: Final = "Trends, last {days} days (oldest → newest)"
TREND_FAILURE_RATE: Final = "auth failure rate"
TREND_FAILED_LOGINS: Final = "failed logins"
TREND_AFFECTED: Final = "users affected"
TREND_QUESTIONS: Final = "questions"
TREND_RESOLUTIONS: Final = "resolutions"
TREND_RATE: Final = "latest {latest}, peak {peak}"
TREND_COUNT: Final = "latest {latest}, peak {peak}, total {total}"
ERROR_LINE: Final = "    {rank}. `{reply}`: {count}"
NO_ERRORS: Final = "    none recorded"


def sparkline(values: Sequence[float | None]) -> str:
    """One bar per value, scaled to the largest; 0 is the lowest bar, None a gap.

    Positive values fall into seven equal slices up to the largest (the second bar
    and up), so a small count never looks like zero. All zeros draw a flat line.
    """
    for value in values:
        if value is not None and (not math.isfinite(value) or value < 0):
            raise ValueError(f"sparkline values must be finite and >= 0, got {value!r}")
    top = max((v for v in values if v is not None), default=0.0)
    bars = []
    for value in values:
        if value is None:
            bars.append(GAP)
        elif value <= 0 or top <= 0:
            bars.append(BARS[0])
        else:
            # Seven equal slices of (0, top]; rounding first keeps float noise such as
            # 3 / 7 * 7 = 3.0000000000000004 from climbing a bar.
            bars.append(BARS[max(1, math.ceil(round(value / top * (len(BARS) - 1), 9)))])
    return "".join(bars)


def format_ratio(ratio: float | None) -> str:
    """0.125 -> "12.5%", 0.5 -> "50%", None -> "—"."""
    if ratio is None:
        return NO_DATA
    return f"{ratio * 100:.1f}".removesuffix(".0") + "%"


def format_duration(seconds: float | None) -> str:
    """Rounded to what a person cares about: "45 s", "12 min", "3 h 10 min", "2 d 4 h"."""
    if seconds is None:
        return NO_DATA
    if seconds < 59.5:
        return f"{round(seconds)} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 24 * 60:
        hours, rest = divmod(minutes, 60)
        return f"{hours} h {rest} min" if rest else f"{hours} h"
    days, hours = divmod(round(seconds / 3600), 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def format_count(value: int) -> str:
    """Thousands separated: 1234 -> "1,234"."""
    return f"{value:,}"


def _escape(text: str) -> str:
    # Slack mrkdwn control characters; reply keys are identifiers, but be safe.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _affected(stats: HelpdeskStats) -> str:
    share = format_ratio(stats.users_affected_share)
    if stats.users_active == 0:
        return share
    return f"{share} ({stats.users_affected} of {stats.users_active})"


def _resolution(stats7: HelpdeskStats, stats30: HelpdeskStats) -> str:
    # One statistic for both periods so they compare; a period without any
    # resolution has no say. If a period had to fall back to the mean, use means.
    median = all(
        s.resolution_median_seconds is not None or s.resolutions == 0 for s in (stats7, stats30)
    )

    def figure(stats: HelpdeskStats) -> str:
        seconds = stats.resolution_median_seconds if median else stats.resolution_mean_seconds
        return format_duration(seconds)

    label = LABEL_RESOLUTION.format(statistic=Statistic.MEDIAN if median else Statistic.MEAN)
    counts = RESOLVED_COUNTS.format(
        days7=format_count(stats7.resolutions), days30=format_count(stats30.resolutions)
    )
    return f"{label}: *{figure(stats7)}* · {figure(stats30)} {counts}"


def render_stats_text(stats7: HelpdeskStats, stats30: HelpdeskStats) -> str:
    """The ``/smtpcheck stats`` message: five numbers for 7 and 30 days, trends, top errors."""
    lines = [TITLE, PERIODS.format(end=stats30.end.isoformat()), ""]
    lines.append(
        f"• {LABEL_FAILURE_RATE}: *{format_ratio(stats7.auth_failure_rate)}* · "
        f"{format_ratio(stats30.auth_failure_rate)}"
    )
    lines.append(
        f"• {LABEL_FAILED_LOGINS}: *{format_count(stats7.failed_logins)}* · "
        f"{format_count(stats30.failed_logins)}"
    )
    lines.append(f"• {_resolution(stats7, stats30)}")
    lines.append(f"• {LABEL_AFFECTED}: *{_affected(stats7)}* · {_affected(stats30)}")
    lines += thread_lines(stats7, stats30)
    lines.append(f"• {LABEL_TOP_ERRORS} (30 days):")
    if stats30.top_errors:
        lines.extend(
            ERROR_LINE.format(rank=rank, reply=_escape(e.reply), count=format_count(e.count))
            for rank, e in enumerate(stats30.top_errors, start=1)
        )
    else:
        lines.append(NO_ERRORS)
    series = stats30.series
    lines += ["", LABEL_TRENDS.format(days=stats30.days)]
    for values, name, rate in (
        (series.auth_failure_rate, TREND_FAILURE_RATE, True),
        (series.failed_logins, TREND_FAILED_LOGINS, False),
        (series.users_affected, TREND_AFFECTED, False),
        (series.questions, TREND_QUESTIONS, False),
        (series.resolutions, TREND_RESOLUTIONS, False),
    ):
        # The numbers come first, so a screen reader says them rather than only
        # reading out block characters.
        lines.append(f"{name}: {trend_figures(values, rate=rate)} `{sparkline(values)}`")
    return "\n".join(lines)


def thread_lines(stats7: HelpdeskStats, stats30: HelpdeskStats) -> list[str]:
    """Deflection and escalation rates of the help threads started in each window, with
    the counts they come from (a rate of three threads reads differently from 300)."""
    week, month = stats7.threads, stats30.threads
    out = []
    for label, rate7, rate30, part7, part30 in (
        (
            LABEL_DEFLECTION,
            week.deflection_rate,
            month.deflection_rate,
            week.deflected,
            month.deflected,
        ),
        (
            LABEL_ESCALATION,
            week.escalation_rate,
            month.escalation_rate,
            week.escalated,
            month.escalated,
        ),
    ):
        counts = THREAD_COUNTS.format(
            part7=format_count(max(0, part7)),
            all7=format_count(week.threads),
            part30=format_count(max(0, part30)),
            all30=format_count(month.threads),
        )
        out.append(f"• {label}: *{format_ratio(rate7)}* · {format_ratio(rate30)} {counts}")
    return out


def trend_figures(values: Sequence[float | None], *, rate: bool) -> str:
    """The numbers a sparkline draws, in words: latest day, peak and (counts) total."""
    known = [v for v in values if v is not None]
    if not known:
        return NO_DATA
    latest = next((v for v in reversed(values) if v is not None), 0.0)
    if rate:
        return TREND_RATE.format(latest=format_ratio(latest), peak=format_ratio(max(known)))
    return TREND_COUNT.format(
        latest=format_count(round(latest)),
        peak=format_count(round(max(known))),
        total=format_count(round(sum(known))),
    )
