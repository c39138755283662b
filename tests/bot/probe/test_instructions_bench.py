"""bench/instructions.py: the arithmetic, callgrind's total, and each client's run.

The clients are the ones the bench counts under callgrind; here each runs once, without
valgrind, against an aiosmtpd server with STARTTLS and AUTH, so a client that stopped
authenticating (and would be counted failing, or not at all) is caught by the suite.
"""

from __future__ import annotations

import pytest

from bench.instructions import CLIENTS, MORE, client_action, collected, per_run
from bot.probe import farewell
from tests.support.smtp_server import Certs, smtp_server


def test_per_run_is_the_difference_over_the_extra_runs() -> None:
    assert MORE == 5
    # 4 runs and 20 runs: 16 extra runs cost 160 instructions
    assert per_run(1_000, 1_160, 4) == 10.0
    with pytest.raises(ValueError, match="at least 1"):
        per_run(1, 2, 0)


def test_collected_reads_callgrind_total_and_refuses_output_without_one() -> None:
    stderr = "==123== Events    : Ir\n==123== Collected : 1714775048\n==123==\n"
    assert collected(stderr) == 1_714_775_048
    with pytest.raises(RuntimeError, match="no callgrind total"):
        collected("valgrind: command not found")


@pytest.mark.parametrize("name", CLIENTS)
async def test_each_client_authenticates_against_a_starttls_server(name: str, certs: Certs) -> None:
    async with smtp_server(context=certs.good) as server:
        await client_action(name, server.port, certs.ca_file)()
        await farewell.settle(2.0)


async def test_a_probe_that_cannot_authenticate_fails_the_run(certs: Certs) -> None:
    async with smtp_server(context=certs.good, users={"someone-else": "x"}) as server:
        with pytest.raises(RuntimeError, match="probe failed"):
            await client_action("smtpcheck", server.port, certs.ca_file)()
    await farewell.settle(2.0)
