"""Telling one person something privately, wherever they are in Slack.

``chat.postEphemeral`` fails in every channel the bot has not joined and in DMs between
people; a payload's ``response_url`` (Bolt's ``respond``) works in all of them. When a
payload has none, or the hook fails, the person's DM with the bot is the fallback.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


async def tell_privately(
    respond: AsyncRespond | None,
    client: AsyncWebClient,
    user: str,
    text: str,
    blocks: Sequence[dict[str, Any]] | None = None,
) -> None:
    """Ephemeral through ``response_url``; the user's DM with the bot when that fails."""
    if respond is not None and respond.response_url:
        try:
            sent = await respond(
                text=text, blocks=blocks, response_type="ephemeral", replace_original=False
            )
        except Exception as exc:  # an unreachable or expired hook: the DM still reaches them
            log.info("response_url failed (%s): answering in the DM", type(exc).__name__)
        else:
            if sent.status_code == 200:
                return
            log.info("response_url answered %s: answering in the DM", sent.status_code)
    dm = await client.conversations_open(users=user)
    await client.chat_postMessage(channel=str(dm["channel"]["id"]), text=text, blocks=blocks)
