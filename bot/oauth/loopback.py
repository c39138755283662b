"""The CLI's RFC 8252 loopback redirect: a one-request listener on 127.0.0.1, random port.

``LoopbackRedirect`` listens before the sign-in link is printed, answers the one
browser request that carries our ``state`` (anything else gets 400 and changes
nothing), and hands the code over as a ``Secret``. A provider's ``error`` is a
final answer (``access_denied`` -> denied).
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import Final

from aiohttp import web

from bot import messages
from bot.oauth.errors import SignInFailed, provider_error
from bot.oauth.pkce import same_state
from bot.secret import Secret

CALLBACK_PATH: Final = "/callback"


class LoopbackRedirect:
    """``async with LoopbackRedirect(state) as redirect: ... await redirect.code()``."""

    def __init__(self, state: str) -> None:
        self._state = state
        self._result: asyncio.Future[Secret] | None = None
        self._runner: web.AppRunner | None = None
        self.redirect_uri = ""

    async def __aenter__(self) -> LoopbackRedirect:
        self._result = asyncio.get_running_loop().create_future()
        app = web.Application()
        app.router.add_get(CALLBACK_PATH, self._callback)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and isinstance(server, asyncio.Server)
        port = server.sockets[0].getsockname()[1]
        self.redirect_uri = f"http://127.0.0.1:{port}{CALLBACK_PATH}"
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def code(self, *, within: float) -> Secret:
        """The authorization code, or ``SignInFailed``; ``TimeoutError`` after ``within`` s."""
        assert self._result is not None
        async with asyncio.timeout(within):
            return await asyncio.shield(self._result)

    async def _callback(self, request: web.Request) -> web.Response:
        assert self._result is not None
        query = request.query
        if self._result.done() or not same_state(self._state, query.get("state", "")):
            return web.Response(status=400, text=messages.OAUTH_PAGE_UNKNOWN)
        code, error = query.get("code"), query.get("error")
        if error is not None or not code:
            failure = SignInFailed.from_error(provider_error({"error": error}))
            self._result.set_exception(failure)
            return web.Response(text=messages.OAUTH_PAGE_FAILED)
        self._result.set_result(Secret(code))
        return web.Response(text=messages.OAUTH_PAGE_DONE)
