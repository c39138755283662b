"""Buttons that open an article in a modal ("Read more", "Also see", "Show all steps").

Reading is not acting on anyone's thread, so anyone may open any article; the value
is only an article id, and an unknown one opens nothing.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime.deps import deps_of
from handlers.blocks.article import ACTION_OPEN, article_modal


async def handle_open(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    await ack()
    article = deps_of(context).kb.articles.get(str(body["actions"][0].get("value", "")))
    if article is not None:
        await client.views_open(trigger_id=body["trigger_id"], view=article_modal(article))


def routes() -> list[tuple[re.Pattern[str], Callable[..., Awaitable[None]]]]:
    """For the "More" menu: an option standing for an article button opens it too."""
    return [(re.compile(rf"{ACTION_OPEN}(_\d+)?"), handle_open)]


def register(app: AsyncApp) -> None:
    app.action(re.compile(rf"^{ACTION_OPEN}(_\d+)?$"))(handle_open)
