"""Keeps slow or numerous clients from starving the HTTP server.

aiohttp has no limit on how long a client may take to send its request headers, nor
on how many connections it holds open: a few hundred half-open requests (slow loris)
used to take the bot off Slack and off its own health check. ``GuardedServer`` wraps
aiohttp's protocol factory: at most ``cap`` connections at once (more are closed on
arrival), and a connection whose request has not reached a handler within
``header_timeout`` seconds is closed. Such conditions are logged once per interval
(``LogOnce``), never once per connection.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Final

from aiohttp import web

log = logging.getLogger(__name__)

CONNECTION_CAP: Final = 512
"""Open connections at most (well under the usual 1024 file descriptors)."""
HEADER_TIMEOUT: Final = 10.0
"""Seconds a client has to deliver its request line and headers."""
BODY_TIMEOUT: Final = 10.0
"""Seconds a client has to deliver the body once its headers arrived."""
LOG_EVERY: Final = 60.0
"""At most one line per condition per this many seconds."""


class LogOnce:
    """One log line per condition per interval, saying how often it happened meanwhile."""

    def __init__(self, every: float = LOG_EVERY, clock: Any = time.monotonic) -> None:
        self._every = every
        self._clock = clock
        self._last: dict[str, float] = {}
        self._since: dict[str, int] = {}

    def warning(self, condition: str, text: str) -> None:
        now = self._clock()
        self._since[condition] = self._since.get(condition, 0) + 1
        last = self._last.get(condition)
        if last is not None and now - last < self._every:
            return
        count, self._since[condition] = self._since[condition], 0
        self._last[condition] = now
        log.warning("%s (%d time(s) in the last %.0f s)", text, count, self._every)


class _Guarded(asyncio.Protocol):
    """aiohttp's request handler behind a watchman (a proxy: the handler has slots)."""

    def __init__(self, guard: GuardedServer, handler: Any) -> None:
        self._guard = guard
        self._handler = handler
        self._timer: asyncio.TimerHandle | None = None
        self.transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self._handler.connection_made(transport)
        if not self._guard.admit(self):
            self._guard.notes.warning("cap", "too many open HTTP connections: closing new ones")
            transport.close()
            return

    @property
    def waiting(self) -> bool:
        """Connected, but no request being handled: what a slow client looks like."""
        return self._timer is not None

    def arm(self) -> None:
        """Expect a request's headers within the timeout (again, after each response)."""
        self.disarm()
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._guard.header_timeout, self._too_slow)

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _too_slow(self) -> None:
        self._guard.notes.warning("slow", "HTTP clients too slow to send their request: closed")
        if self.transport is not None:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        self._handler.data_received(data)

    def eof_received(self) -> bool | None:
        result: bool | None = self._handler.eof_received()
        return result

    def connection_lost(self, exc: Exception | None) -> None:
        self.disarm()
        self._guard.leave(self)
        self._handler.connection_lost(exc)

    def pause_writing(self) -> None:
        self._handler.pause_writing()

    def resume_writing(self) -> None:
        self._handler.resume_writing()


class GuardedServer:
    """aiohttp's ``web.Server`` (a protocol factory) with a connection cap and a
    header timeout; everything else is the wrapped server's."""

    def __init__(
        self,
        server: web.Server,
        *,
        cap: int = CONNECTION_CAP,
        header_timeout: float = HEADER_TIMEOUT,
        notes: LogOnce | None = None,
    ) -> None:
        self._server = server
        self.cap = cap
        self.header_timeout = header_timeout
        self.notes = notes or LogOnce()
        self._open: dict[asyncio.BaseTransport, _Guarded] = {}

    def __call__(self) -> _Guarded:
        return _Guarded(self, self._server())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._server, name)

    def admit(self, guarded: _Guarded) -> bool:
        """Room for ``guarded``? At the cap, the oldest connection still waiting for its
        request makes room (a slow client never keeps a prompt one out); only when every
        connection is busy with a request is the new one refused."""
        if guarded.transport is None:
            return False
        if len(self._open) >= self.cap:
            idle = next((g for g in self._open.values() if g.waiting), None)
            if idle is None:
                return False
            self.notes.warning("evict", "too many open HTTP connections: closing idle ones")
            idle.disarm()
            if idle.transport is not None:
                self._open.pop(idle.transport, None)
                idle.transport.close()
        self._open[guarded.transport] = guarded
        guarded.arm()
        return True

    def leave(self, guarded: _Guarded) -> None:
        if guarded.transport is not None:
            self._open.pop(guarded.transport, None)

    def request_started(self, transport: asyncio.BaseTransport | None) -> None:
        guarded = self._open.get(transport) if transport is not None else None
        if guarded is not None:
            guarded.disarm()

    def request_done(self, transport: asyncio.BaseTransport | None) -> None:
        guarded = self._open.get(transport) if transport is not None else None
        if guarded is not None:
            guarded.arm()


class GuardedRunner(web.AppRunner):
    """``web.AppRunner`` serving through a ``GuardedServer``; its middleware tells the
    guard when a request reached a handler (headers complete) and when it is done."""

    def __init__(self, app: web.Application, *, guard: dict[str, Any], **kwargs: Any) -> None:
        self._guard_args = guard
        self.guard: GuardedServer | None = None

        @web.middleware
        async def watch(request: web.Request, handler: Any) -> web.StreamResponse:
            if self.guard is not None:
                self.guard.request_started(request.transport)
            try:
                response: web.StreamResponse = await handler(request)
                return response
            finally:
                if self.guard is not None:
                    self.guard.request_done(request.transport)

        app.middlewares.append(watch)
        super().__init__(app, **kwargs)

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        self.guard = GuardedServer(server, **self._guard_args)
        return self.guard  # type: ignore[return-value]  # a proxy with the same interface


def quiet_accept_errors(loop: asyncio.AbstractEventLoop, notes: LogOnce) -> None:
    """asyncio reports every failed accept() (EMFILE under a flood) with a traceback:
    keep one line per interval instead."""
    previous = loop.get_exception_handler()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if str(context.get("message", "")).startswith("socket.accept() out of system resource"):
            notes.warning("accept", "cannot accept more connections (out of file descriptors)")
            return
        if previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
