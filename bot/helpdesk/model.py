"""The helpdesk numbers as plain data: what ``HelpdeskMetrics.summary`` returns.

Pure, frozen values so the Slack side, the text renderer and the Prometheus
export all read the same figures and can be tested without a store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, Final


class Statistic(StrEnum):
    """Which average ``resolution_seconds`` is."""

    MEDIAN = "median"
    MEAN = "mean"


@dataclass(frozen=True, slots=True)
class ErrorCount:
    """One error reply (a reply pattern id or finding) and how often it was seen."""

    reply: str
    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Episode:
    """A user's open problem: from the first question or failed check until resolved."""

    token: str
    started_at: float  # epoch seconds
    origin: str  # "question" or "check"
    thread_key: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DailySeries:
    """Per-day figures, oldest day first, for the trend charts."""

    days: tuple[date, ...]
    checks: tuple[int, ...]
    auth_attempts: tuple[int, ...]
    failed_logins: tuple[int, ...]
    questions: tuple[int, ...]
    resolutions: tuple[int, ...]
    users_affected: tuple[int, ...]  # distinct users per day

    @property
    def auth_failure_rate(self) -> tuple[float | None, ...]:
        """Failed AUTH / AUTH attempts per day; None on days without attempts."""
        return tuple(
            failed / attempts if attempts else None
            for failed, attempts in zip(self.failed_logins, self.auth_attempts, strict=True)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "days": [day.isoformat() for day in self.days],
            "checks": list(self.checks),
            "auth_attempts": list(self.auth_attempts),
            "failed_logins": list(self.failed_logins),
            "auth_failure_rate": list(self.auth_failure_rate),
            "questions": list(self.questions),
            "resolutions": list(self.resolutions),
            "users_affected": list(self.users_affected),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ThreadOutcomes:
    """Help threads started in a window and what became of them (``bot.helpdesk.threads``
    defines deflected and escalated)."""

    threads: int
    deflected: int
    escalated: int

    @property
    def deflection_rate(self) -> float | None:
        return min(1.0, max(0, self.deflected) / self.threads) if self.threads else None

    @property
    def escalation_rate(self) -> float | None:
        return min(1.0, self.escalated / self.threads) if self.threads else None


NO_THREADS: Final = ThreadOutcomes(threads=0, deflected=0, escalated=0)


@dataclass(frozen=True, slots=True, kw_only=True)
class HelpdeskStats:
    """The five helpdesk numbers over ``days`` UTC days ending with ``end`` (inclusive).

    Ratios are fractions (0.125, not 12.5) and None when the denominator is zero,
    so "no data" is never shown as 0%.
    """

    days: int
    start: date
    end: date
    checks: int
    auth_attempts: int  # checks that reached AUTH
    failed_logins: int  # checks whose AUTH was refused
    questions: int
    resolutions: int
    resolution_seconds: float | None  # the headline average, see resolution_statistic
    resolution_statistic: Statistic
    resolution_mean_seconds: float | None
    resolution_median_seconds: float | None  # None when some samples were not kept
    users_active: int  # distinct users who ran a check, asked or otherwise used the bot
    users_affected: int  # distinct users with a failed check or a question
    top_errors: tuple[ErrorCount, ...]
    series: DailySeries
    threads: ThreadOutcomes = NO_THREADS  # help threads started in the window

    @property
    def auth_failure_rate(self) -> float | None:
        """Failed AUTH checks / checks that reached AUTH."""
        return self.failed_logins / self.auth_attempts if self.auth_attempts else None

    @property
    def users_affected_share(self) -> float | None:
        """Users affected / users who used the bot."""
        return self.users_affected / self.users_active if self.users_active else None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: dates as ISO strings, enums as their values."""
        return {
            "days": self.days,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "checks": self.checks,
            "auth_attempts": self.auth_attempts,
            "failed_logins": self.failed_logins,
            "auth_failure_rate": self.auth_failure_rate,
            "questions": self.questions,
            "resolutions": self.resolutions,
            "resolution_seconds": self.resolution_seconds,
            "resolution_statistic": self.resolution_statistic.value,
            "resolution_mean_seconds": self.resolution_mean_seconds,
            "resolution_median_seconds": self.resolution_median_seconds,
            "users_active": self.users_active,
            "users_affected": self.users_affected,
            "users_affected_share": self.users_affected_share,
            "top_errors": [{"reply": e.reply, "count": e.count} for e in self.top_errors],
            "series": self.series.as_dict(),
            "help_threads": self.threads.threads,
            "deflected": self.threads.deflected,
            "escalated": self.threads.escalated,
            "deflection_rate": self.threads.deflection_rate,
            "escalation_rate": self.threads.escalation_rate,
        }
