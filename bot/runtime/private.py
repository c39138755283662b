"""Telling one person something privately, wherever they are in Slack.

``chat.postEphemeral`` fails in every channel the bot has not joined and in DMs between
people; a payload's ``response_url`` (Bolt's ``respond``) works in all of them. When a
payload has none, or the hook fails (an error status, or no answer within
``HOOK_WITHIN``: Slack's hooks answer in well under a second), the person's DM with the
bot is the fallback.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from typing import Any, Final
from urllib.parse import urlsplit

from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

SLACK_HOOK_HOSTS: Final = frozenset({"hooks.slack.com", "hooks.slack-gov.com"})
_HOOK_PATH: Final = re.compile(r"/[A-Za-z0-9/_.%-]{1,400}")
RESPONSE_URL_MAX: Final = 500
HOOK_WITHIN: Final = 5.0  # seconds; a stalled hook must not keep the person waiting


def trusted_response_url(url: object, api_url: str) -> str | None:
    """``url`` when it is a Slack ``response_url`` (https on Slack's hook hosts, or on the
    host of the configured Web API: GovSlack proxies, tests), else None. A response URL
    that travelled through a view's metadata is checked before the bot POSTs to it, so
    nothing can make the bot send a message somewhere else."""
    if not isinstance(url, str) or len(url) > RESPONSE_URL_MAX:
        return None
    try:
        parts, api = urlsplit(url), urlsplit(api_url)
    except ValueError:
        return None
    if parts.username or parts.password or parts.query or parts.fragment:
        return None
    if not _HOOK_PATH.fullmatch(parts.path or ""):
        return None
    on_slack = parts.scheme == "https" and parts.netloc in SLACK_HOOK_HOSTS
    on_api_host = (parts.scheme, parts.netloc) == (api.scheme, api.netloc) and bool(api.netloc)
    return url if on_slack or on_api_host else None


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
            async with asyncio.timeout(HOOK_WITHIN):
                sent = await respond(
                    text=text, blocks=blocks, response_type="ephemeral", replace_original=False
                )
        except Exception as exc:  # an unreachable, stalled or expired hook: the DM still works
            log.info("response_url failed (%s): answering in the DM", type(exc).__name__)
        else:
            if sent.status_code == 200:
                return
            log.info("response_url answered %s: answering in the DM", sent.status_code)
    dm = await client.conversations_open(users=user)
    await client.chat_postMessage(channel=str(dm["channel"]["id"]), text=text, blocks=blocks)
