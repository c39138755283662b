"""The bot's ``GET /oauth/google/callback``: the browser brings Google's answer here.

``add_oauth_routes`` is the one call the HTTP server makes. The page says only
whether to go back to Slack; the code goes to ``PendingSignIns.deliver`` and is
never logged (aiohttp's access log is clamped like the other chatty loggers,
and the query string is read here, once).
"""

from __future__ import annotations

import logging
from typing import Final

from aiohttp import web

from bot import messages
from bot.errors import StoreUnavailable
from bot.oauth.pending import Delivery, PendingSignIns
from bot.oauth.settings import GOOGLE_CALLBACK_PATH

log = logging.getLogger(__name__)

_PAGES: Final = {
    Delivery.DONE: (200, messages.OAUTH_PAGE_DONE),
    Delivery.FAILED: (200, messages.OAUTH_PAGE_FAILED),
    Delivery.UNKNOWN: (400, messages.OAUTH_PAGE_UNKNOWN),
    Delivery.USED: (400, messages.OAUTH_PAGE_UNKNOWN),
    Delivery.ELSEWHERE: (409, messages.OAUTH_PAGE_ELSEWHERE),
}


def add_oauth_routes(app: web.Application, pending: PendingSignIns) -> None:
    """Serve the Google callback on ``app``."""

    async def callback(request: web.Request) -> web.Response:
        query = request.query
        try:
            delivery = await pending.deliver(
                query.get("state", ""), code=query.get("code"), error=query.get("error")
            )
        except StoreUnavailable:
            return web.Response(status=503, text=messages.OAUTH_PAGE_UNAVAILABLE)
        log.info("google sign-in callback: %s", delivery.value)
        status, text = _PAGES[delivery]
        return web.Response(status=status, text=text)

    app.router.add_get(GOOGLE_CALLBACK_PATH, callback)
