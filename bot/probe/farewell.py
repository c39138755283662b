"""QUIT after the verdict: the report never waits for the server's goodbye.

Once AUTH is answered the verdict is known; waiting for QUIT's reply would
only add a round trip to every probe. ``send_off`` hands the connection to a
background task that says QUIT, waits for the reply at most ``budget``
seconds and closes. ``settle`` waits (bounded) for the ones still under way:
the CLI before it exits, the bot on shutdown.

Imports no aiosmtplib: the engine passes in the coroutine that does the talking.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)

_pending: set[asyncio.Task[None]] = set()


def send_off(farewell: Coroutine[Any, Any, None]) -> None:
    """Run ``farewell`` in the background; it must bound itself and close its connection."""
    task = asyncio.get_running_loop().create_task(farewell)
    _pending.add(task)
    task.add_done_callback(_done)


def _done(task: asyncio.Task[None]) -> None:
    _pending.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.warning("QUIT after a probe failed", exc_info=task.exception())


def pending() -> int:
    """How many goodbyes are still under way."""
    return len(_pending)


async def settle(within: float) -> None:
    """Wait up to ``within`` seconds for the goodbyes under way (each bounds itself too)."""
    tasks = [task for task in _pending if task.get_loop() is asyncio.get_running_loop()]
    if tasks:
        await asyncio.wait(tasks, timeout=within)
