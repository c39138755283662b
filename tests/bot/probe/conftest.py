"""Fixtures for probe engine tests: certificates, settings that may reach loopback, a runner."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.probe import (
    Collaborators,
    Limits,
    ProbeReport,
    StepResult,
    build_request,
    farewell,
    run_probe,
)
from tests.support.smtp_server import Certs, make_certs

ALL_PORTS = frozenset(range(1, 65536))
# Short limits so fault tests finish fast; still generous for a busy 2-core machine.
FAST = Limits(dns=2.0, connect=2.0, banner=1.0, command=2.0, tls=2.0, quit=1.0, sniff=1.0)

Probe = Callable[..., Awaitable[ProbeReport]]


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def settings() -> Settings:
    """Loopback allowed (SMTPCHECK_ALLOW_NETWORKS=127.0.0.0/8) and any port, as tests need."""
    return Settings(allow_networks=(ipaddress.ip_network("127.0.0.0/8"),), allowed_ports=ALL_PORTS)


@pytest.fixture
def probe(settings: Settings, certs: Certs) -> Probe:
    """Build a request from raw fields and run it against the test CA."""

    async def run(
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ca_file: Path | None = None,
        deadline: float = 10.0,
        limits: Limits = FAST,
        probe_settings: Settings | None = None,
        on_step: Callable[[StepResult], Awaitable[None]] | None = None,
        **fields: Any,
    ) -> ProbeReport:
        request = build_request(host=host, port=port, allowed_ports=ALL_PORTS, **fields)
        report = await run_probe(
            request,
            collaborators=Collaborators.from_settings(
                probe_settings or settings, ca_files=[ca_file or certs.ca_file]
            ),
            deadline=deadline,
            limits=limits,
            on_step=on_step,
        )
        await farewell.settle(2.0)  # the QUIT said after the report, before the server stops
        return report

    return run
