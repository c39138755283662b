"""Coalesces a running check's stage updates so the probe never waits on Slack."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from bot.probe.model import StepResult
from bot.store.base import CheckRecord

log = logging.getLogger(__name__)

ShowProgress = Callable[[CheckRecord, tuple[StepResult, ...]], Awaitable[None]]


class ProgressCoalescer:
    """Coalesces stage updates: the probe never waits on Slack, and a burst of
    stages becomes one update showing the latest state."""

    def __init__(self, show: ShowProgress, record: CheckRecord) -> None:
        self._show = show
        self._record = record
        self._steps: list[StepResult] = []
        self._dirty = asyncio.Event()
        self._closed = False
        self._task = asyncio.create_task(self._pump())

    async def on_step(self, step: StepResult) -> None:
        log.debug("check %s: %s %s", self._record.check_id, step.stage.value, step.status.value)
        self._steps.append(step)
        self._dirty.set()

    async def _pump(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            if self._closed:
                return
            try:
                await self._show(self._record, tuple(self._steps))
            except Exception:
                log.warning("progress update failed for check %s", self._record.check_id)

    async def close(self) -> None:
        """Stop updating (the final rendering replaces the progress message)."""
        self._closed = True
        self._dirty.set()
        with contextlib.suppress(Exception):
            await self._task
