"""Helpdesk numbers in Prometheus text exposition, for ``GET /metrics``.

The figures come from the store asynchronously, while prometheus_client collects
synchronously; so a snapshot is computed first and a throw-away registry with a
collector over that snapshot renders it. Every family is a gauge: a windowed
count falls as days leave the window, which a Prometheus counter must never do.

Labels are ``window`` ("7d", "30d"), ``statistic`` and ``reply`` (an identifier
checked on recording) only: no user id or username ever becomes a label.
The bytes can be appended to another registry's ``generate_latest`` output
(the process counters): every name here starts with ``smtpcheck_helpdesk_``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Final

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from bot.helpdesk.model import HelpdeskStats

if TYPE_CHECKING:
    from bot.helpdesk.recorder import HelpdeskMetrics

PREFIX: Final = "smtpcheck_helpdesk_"
WINDOWS: Final = (7, 30)
PROMETHEUS_TOP_ERRORS: Final = 20
"""Error replies exported per window; bounds label cardinality."""

CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"


def window_label(days: int) -> str:
    return f"{days}d"


def _gauge(name: str, documentation: str, labels: Iterable[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(PREFIX + name, documentation, labels=list(labels))


def helpdesk_families(snapshot: Mapping[int, HelpdeskStats]) -> list[Metric]:
    """Metric families for ``{window_days: stats}``; undefined ratios/averages are omitted."""
    checks = _gauge("checks", "Live checks finished in the window", ["window"])
    attempts = _gauge("auth_attempts", "Checks that reached AUTH in the window", ["window"])
    failed = _gauge("failed_logins", "Checks whose AUTH was refused in the window", ["window"])
    rate = _gauge("auth_failure_ratio", "Failed AUTH checks / checks that reached AUTH", ["window"])
    questions = _gauge("questions", "Questions asked in the window", ["window"])
    resolutions = _gauge("resolutions", "Episodes resolved in the window", ["window"])
    ttr = _gauge(
        "time_to_resolution_seconds",
        "From first question or failed check to resolution (statistic: median or mean)",
        ["window", "statistic"],
    )
    active = _gauge("users_active", "Distinct users who used the bot", ["window"])
    affected = _gauge(
        "users_affected", "Distinct users with a failed check or a question", ["window"]
    )
    share = _gauge("users_affected_ratio", "Users affected / users who used the bot", ["window"])
    errors = _gauge("error_replies", "Failed checks per error reply", ["reply", "window"])
    threads = _gauge("help_threads", "Help threads started in the window", ["window"])
    deflection = _gauge(
        "deflection_ratio",
        'Help threads solved by "That fixed it" and not escalated / help threads',
        ["window"],
    )
    escalation = _gauge("escalation_ratio", "Help threads escalated / help threads", ["window"])
    for days, stats in sorted(snapshot.items()):
        window = window_label(days)
        checks.add_metric([window], stats.checks)
        attempts.add_metric([window], stats.auth_attempts)
        failed.add_metric([window], stats.failed_logins)
        if stats.auth_failure_rate is not None:
            rate.add_metric([window], stats.auth_failure_rate)
        questions.add_metric([window], stats.questions)
        resolutions.add_metric([window], stats.resolutions)
        if stats.resolution_median_seconds is not None:
            ttr.add_metric([window, "median"], stats.resolution_median_seconds)
        if stats.resolution_mean_seconds is not None:
            ttr.add_metric([window, "mean"], stats.resolution_mean_seconds)
        active.add_metric([window], stats.users_active)
        affected.add_metric([window], stats.users_affected)
        if stats.users_affected_share is not None:
            share.add_metric([window], stats.users_affected_share)
        for error in stats.top_errors:
            errors.add_metric([error.reply, window], error.count)
        threads.add_metric([window], stats.threads.threads)
        if stats.threads.deflection_rate is not None:
            deflection.add_metric([window], stats.threads.deflection_rate)
        if stats.threads.escalation_rate is not None:
            escalation.add_metric([window], stats.threads.escalation_rate)
    return [
        checks,
        attempts,
        failed,
        rate,
        questions,
        resolutions,
        ttr,
        active,
        affected,
        share,
        errors,
        threads,
        deflection,
        escalation,
    ]


class _SnapshotCollector:
    """Yields the families of one precomputed snapshot (no I/O inside collect)."""

    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return iter(self._families)


async def render_prometheus(metrics: HelpdeskMetrics, *, today: date | None = None) -> bytes:
    """Prometheus text exposition (``CONTENT_TYPE``) of the 7- and 30-day numbers."""
    day = metrics.today() if today is None else today
    snapshot = {
        days: await metrics.summary(days, today=day, top_errors=PROMETHEUS_TOP_ERRORS)
        for days in WINDOWS
    }
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_SnapshotCollector(helpdesk_families(snapshot)))
    return generate_latest(registry)
