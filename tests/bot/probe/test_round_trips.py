"""Round trips of one STARTTLS + AUTH PLAIN probe, through bench/delay_proxy.py.

The figure bench/probe.py prints, as a regression gate: (fastest run through a proxy
that delays each direction by ONE_WAY - fastest run direct) / RTT. The protocol needs
5.5 through this proxy (greeting 0.5, EHLO, STARTTLS, TLS 1.3 handshake, EHLO, AUTH);
a client that waits for QUIT's reply pays 6.5. A long RTT keeps the 0.5 margin far
above what a busy machine adds to one run; bare aiosmtplib, which does wait for QUIT,
is measured the same way to show the figure tells the two apart.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Awaitable, Callable

import aiosmtplib

from bench.delay_proxy import delay_proxy
from bot.config import Settings
from bot.probe import Collaborators, Outcome, build_request, farewell, run_probe
from tests.bot.probe.conftest import ALL_PORTS
from tests.support.smtp_server import PASSWORD, USER, Certs, smtp_server

ONE_WAY = 0.1
RTT = 2 * ONE_WAY
RUNS = 3


async def _fastest_s(action: Callable[[], Awaitable[None]]) -> float:
    best = float("inf")
    for _ in range(RUNS):
        started = time.perf_counter()
        await action()
        best = min(best, time.perf_counter() - started)
        await farewell.settle(2.0)  # a QUIT still under way is not the next run's
    return best


def _clients(
    port: int, settings: Settings, certs: Certs
) -> dict[str, Callable[[], Awaitable[None]]]:
    request = build_request(
        host="127.0.0.1",
        port=port,
        security="starttls",
        mechanism="plain",
        username=USER,
        password=PASSWORD,
        allowed_ports=ALL_PORTS,
    )
    collaborators = Collaborators.from_settings(settings, ca_files=[certs.ca_file])
    context = ssl.create_default_context(cafile=str(certs.ca_file))
    context.check_hostname = False

    async def smtpcheck() -> None:
        report = await run_probe(request, collaborators=collaborators)
        assert report.outcome is Outcome.AUTHENTICATED, report.steps

    async def bare() -> None:
        smtp = aiosmtplib.SMTP(
            hostname="127.0.0.1", port=port, tls_context=context, start_tls=True,
            local_hostname="[127.0.0.1]", timeout=10,
        )  # fmt: skip
        await smtp.connect()
        await smtp.ehlo()
        await smtp.auth_plain(USER, PASSWORD)
        await smtp.quit()

    return {"smtpcheck": smtpcheck, "aiosmtplib": bare}


async def test_starttls_auth_plain_costs_at_most_six_round_trips(
    settings: Settings, certs: Certs
) -> None:
    async with smtp_server(context=certs.good) as server:
        with delay_proxy(("127.0.0.1", server.port), ONE_WAY) as proxied:
            direct, delayed = (
                _clients(server.port, settings, certs),
                _clients(proxied, settings, certs),
            )
            trips = {
                name: (await _fastest_s(delayed[name]) - await _fastest_s(direct[name])) / RTT
                for name in direct
            }
    assert trips["smtpcheck"] <= 6.0, trips
    assert trips["aiosmtplib"] >= trips["smtpcheck"] + 0.6, trips  # QUIT's reply, waited for
