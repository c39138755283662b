"""Live progress for ``smtpcheck probe`` on a terminal: each stage line as it finishes.

While a stage runs, the last line shows a spinner and the seconds since the
last stage finished, redrawn in place (``\\r`` + erase line); a finished stage
replaces it with its line, and the next spinner starts below. Used only when
stdout is a terminal and ``--json`` is off: pipes get the report in one piece,
as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Final, TextIO

from bot.probe.model import StepResult

_FRAMES: Final = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_ASCII_FRAMES: Final = "|/-\\"
_ERASE: Final = "\r\x1b[K"
_TICK: Final = 0.1


class LiveSteps:
    """Prints steps as ``on_step`` receives them, with a spinner for the running stage."""

    def __init__(self, stream: TextIO, line_of: Callable[[StepResult], str]) -> None:
        self._stream = stream
        self._line_of = line_of
        try:
            _FRAMES.encode(getattr(stream, "encoding", None) or "ascii")
            self._frames = _FRAMES
        except (UnicodeEncodeError, LookupError):
            self._frames = _ASCII_FRAMES
        self._since = time.monotonic()
        self._spinner: asyncio.Task[None] | None = None

    def start(self, header: str) -> None:
        self._write(header + "\n")
        self._since = time.monotonic()
        self._spinner = asyncio.get_running_loop().create_task(self._spin())

    async def on_step(self, step: StepResult) -> None:
        self._write(_ERASE + self._line_of(step) + "\n")
        self._since = time.monotonic()

    async def stop(self) -> None:
        if self._spinner is not None:
            self._spinner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._spinner
        self._write(_ERASE)

    async def _spin(self) -> None:
        frame = 0
        while True:
            elapsed = time.monotonic() - self._since
            self._write(f"{_ERASE}  {self._frames[frame % len(self._frames)]} {elapsed:5.1f} s")
            frame += 1
            await asyncio.sleep(_TICK)

    def _write(self, text: str) -> None:
        self._stream.write(text)
        self._stream.flush()
