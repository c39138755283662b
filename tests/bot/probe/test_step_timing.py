"""Each step is published when its stage ends: with implicit TLS the ``tls`` step comes
when the handshake is done, not together with the greeting that follows it."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.probe import Stage, Status, StepResult
from tests.bot.probe.conftest import Probe
from tests.support.slow_tls import GREETING_DELAY, slow_greeting_tls_server
from tests.support.smtp_server import Certs


async def test_the_tls_step_is_published_when_the_handshake_ends(
    probe: Probe, certs: Certs
) -> None:
    seen: list[tuple[Stage, Status, float]] = []

    async def on_step(step: StepResult) -> None:
        seen.append((step.stage, step.status, time.monotonic()))

    async with slow_greeting_tls_server(certs.good) as port:
        started = time.monotonic()
        await probe(port=port, security="tls", on_step=on_step)
    stages = [stage for stage, _, _ in seen]
    assert stages[:4] == [Stage.RESOLVE, Stage.CONNECT, Stage.TLS, Stage.BANNER]
    tls_at, banner_at = seen[2][2] - started, seen[3][2] - started
    assert seen[2][1] is Status.OK and seen[3][1] is Status.OK
    assert tls_at < GREETING_DELAY / 2, "the tls step waited for the greeting"
    assert banner_at >= GREETING_DELAY * 0.9


@pytest.mark.parametrize("slow", [False, True])
async def test_published_steps_keep_their_order_and_a_slow_callback(
    probe: Probe, certs: Certs, slow: bool
) -> None:
    """A slow ``on_step`` (Slack) delays neither the handshake nor the greeting's timer, and
    the steps still arrive once each, in stage order."""
    seen: list[Stage] = []

    async def on_step(step: StepResult) -> None:
        if slow:
            await asyncio.sleep(0.2)
        seen.append(step.stage)

    async with slow_greeting_tls_server(certs.good) as port:
        report = await probe(port=port, security="tls", on_step=on_step)
    assert seen == [step.stage for step in report.steps]
    assert seen[:4] == [Stage.RESOLVE, Stage.CONNECT, Stage.TLS, Stage.BANNER]
    assert len(seen) == len(set(seen))
