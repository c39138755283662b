"""Process metrics: Prometheus counters for checks, refusals, commands and errors."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class Metrics:
    """Prometheus counters for the bot, in a registry of their own (one per app)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.checks = Counter(
            "smtpcheck_checks",
            "Live checks finished, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.refusals = Counter(
            "smtpcheck_check_refusals",
            "Live checks refused, by reason",
            ["reason"],
            registry=self.registry,
        )
        self.commands = Counter(
            "smtpcheck_commands",
            "/smtpcheck invocations, by kind",
            ["kind"],
            registry=self.registry,
        )
        self.errors = Counter(
            "smtpcheck_errors", "Unexpected errors, by where", ["where"], registry=self.registry
        )
        self.in_flight = Gauge(
            "smtpcheck_checks_in_flight", "Checks running in this process", registry=self.registry
        )
