"""Who the bot is on Slack (``auth.test``), learned off the request path.

Bolt's single-workspace mode calls ``auth.test`` on the first request and again on
every request until it succeeds: while Slack is unreachable each slash command then
waited on Slack before its ack (and ended in HTTP 500 with a traceback). Here the
token is checked once at start-up (bounded); requests are authorized from what was
learned, and while nothing is known yet, with the configured token and a refresh in
the background, so the ack never waits on Slack.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any, Final

from slack_bolt.authorization import AuthorizeResult
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

AUTH_TEST_TIMEOUT: Final = 10.0
REFRESH_EVERY: Final = 30.0
REQUEST_WAIT: Final = 0.5
INVALID_TOKEN_ERRORS: Final = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)


class TokenCheck(StrEnum):
    VALID = "valid"
    INVALID = "invalid"  # Slack said so: stop
    UNREACHABLE = "unreachable"  # no answer: keep serving, try again later


class SlackIdentity:
    """The bot's ``auth.test`` result, once known; a Bolt ``authorize`` function."""

    def __init__(self, client: AsyncWebClient, *, timeout: float = AUTH_TEST_TIMEOUT) -> None:
        self._client = client
        self._timeout = timeout
        self._known: dict[str, Any] | None = None
        self._refreshing: asyncio.Task[TokenCheck] | None = None
        self._tried_at = -REFRESH_EVERY
        self.problem: str | None = None

    async def check(self) -> TokenCheck:
        """``auth.test`` once, bounded; ``problem`` says what went wrong."""
        self._tried_at = time.monotonic()
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._client.auth_test()
        except SlackApiError as exc:
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            error = str(data.get("error") or exc.response.status_code)
            self.problem = error
            return TokenCheck.INVALID if error in INVALID_TOKEN_ERRORS else TokenCheck.UNREACHABLE
        except (TimeoutError, OSError, Exception) as exc:
            self.problem = type(exc).__name__
            return TokenCheck.UNREACHABLE
        self._known = dict(response.data) if isinstance(response.data, dict) else {}
        self.problem = None
        return TokenCheck.VALID

    def authorizer(self) -> Callable[..., Awaitable[AuthorizeResult]]:
        """Bolt's ``authorize`` (a plain function: Bolt passes arguments by name)."""

        async def authorize(
            enterprise_id: str | None, team_id: str | None, user_id: str | None
        ) -> AuthorizeResult:
            if self._known is None:
                await self._refresh_briefly()
            known = self._known or {}
            return AuthorizeResult(
                enterprise_id=known.get("enterprise_id") or enterprise_id,
                team_id=known.get("team_id") or team_id,
                team=known.get("team"),
                url=known.get("url"),
                bot_user_id=known.get("user_id"),
                bot_id=known.get("bot_id"),
                bot_token=self._client.token,
                user_id=user_id,
            )

        return authorize

    async def _refresh_briefly(self) -> None:
        """Try again in the background (at most every REFRESH_EVERY s), waiting for it
        no longer than REQUEST_WAIT: the ack must not wait on an unreachable Slack."""
        if self._refreshing is None or self._refreshing.done():
            if time.monotonic() - self._tried_at < REFRESH_EVERY:
                return
            self._refreshing = asyncio.create_task(self.check())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._refreshing), REQUEST_WAIT)
