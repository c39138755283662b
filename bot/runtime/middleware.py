"""Bolt middleware: inject the dependencies, drop redelivered events, one error handler."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, Final

import aiohttp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages
from bot.errors import StoreUnavailable
from bot.runtime.deps import DEPS_KEY, Deps
from bot.runtime.metrics import Metrics
from bot.runtime.private import tell_privately
from bot.store import keys
from bot.store.base import Claims

log = logging.getLogger(__name__)

EVENT_DEDUPE_TTL: Final = 3600.0  # Slack retries within minutes; an hour is plenty
RESPOND_WITHIN: Final = 10.0


class InjectDeps(AsyncMiddleware):
    """Puts this process's dependencies into every request's context.

    A middleware class rather than a function: Bolt calls a function middleware
    through its keyword-injection layer, which builds a ~30-entry argument dict
    (payload views, say/respond helpers) per call, on the ack's critical path.
    """

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        req.context[DEPS_KEY] = self._deps
        await next()
        return None


class DedupeEvents(AsyncMiddleware):
    """A retried delivery of an event (same event_id) has no second effect."""

    def __init__(self, store: Claims) -> None:
        self._store = store

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        body = req.body
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id:
            try:
                first = await self._store.claim(keys.event_claim(event_id), EVENT_DEDUPE_TTL)
            except StoreUnavailable:
                first = True  # answering twice beats not answering while the store is down
            if not first:
                return BoltResponse(status=200, body="")
        await next()
        return None


def error_handler(metrics: Metrics) -> Callable[..., Awaitable[None]]:
    async def on_error(
        error: Exception,
        body: dict[str, Any],
        client: AsyncWebClient,
        respond: AsyncRespond | None = None,
    ) -> None:
        """Log with a reference, tell the user that reference; never a traceback in chat.
        Privately: through the payload's ``response_url`` where it has one (ephemeral, works
        in any channel and while the Web API is unreachable), else the person's DM."""
        reference = secrets.token_hex(4)
        kind = str(body.get("type") or ("command" if "command" in body else "unknown"))
        log.error("unhandled %s error (reference %s)", kind, reference, exc_info=error)
        metrics.errors.labels(kind).inc()
        user = _id_of(body, "user")
        if user is None:
            return
        unexpected = messages.SLACK_UNAVAILABLE if _slack_failed(error) else messages.UNEXPECTED
        text = unexpected.format(ref=reference)
        try:
            # response_url where the payload has one (ephemeral, works in any channel and
            # while the Web API is down); otherwise the DM: postEphemeral fails where the
            # bot is no member.
            async with asyncio.timeout(RESPOND_WITHIN):
                await tell_privately(respond, client, user, text)
        except Exception:
            log.warning("could not tell %s about error %s", user, reference)

    return on_error


def _slack_failed(error: Exception) -> bool:
    """Whether Slack, not our code, failed the request: it stalled past the call's budget
    (``TimeoutError``: store and probe timeouts never get here as such), could not be
    reached, asked us to slow down, or answered with a server error."""
    if isinstance(error, TimeoutError | aiohttp.ClientError):
        return True
    if isinstance(error, SlackApiError):
        status = getattr(error.response, "status_code", 0)
        return error.response.get("error") == "ratelimited" or status == 429 or status >= 500
    return False


def _id_of(body: dict[str, Any], field: str) -> str | None:
    """The user or channel id of any payload kind: ``{field: {id}}`` (actions, views),
    ``{field}`` or ``{field}_id`` (commands), or the event's ``field``."""
    value = body.get(field)
    if isinstance(value, dict):
        value = value.get("id")
    value = value or body.get(f"{field}_id") or (body.get("event") or {}).get(field)
    return str(value) if value else None
