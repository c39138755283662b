"""Questions asked in a DM with the bot or in a mention get a knowledge answer in
the thread. (Event retries are deduplicated by a global middleware in ``bot.app``.)"""

from __future__ import annotations

import re
from typing import Any, Final

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from handlers.answers import answer
from handlers.deps import deps_of

_MENTION: Final = re.compile(r"<@[A-Z0-9]+>")


async def answer_question(
    event: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    """Answer the question in the event's thread."""
    question = _MENTION.sub(" ", str(event.get("text", ""))).strip()
    if not question:
        return
    text, body = answer(deps_of(context).kb, question)
    await client.chat_postMessage(
        channel=event["channel"],
        thread_ts=event.get("thread_ts") or event["ts"],
        text=text,
        blocks=body,
    )


async def direct_message(
    event: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    """Only people's own messages in the DM: no edits, joins or bot posts."""
    if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
        return
    await answer_question(event, client, context)


def register(app: AsyncApp) -> None:
    app.event("app_mention")(answer_question)
    app.event("message")(direct_message)
