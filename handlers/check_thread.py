"""The Slack side of a check: a ``CheckSink`` that writes to the user's DM thread.

The parent message ("Checking host:port ...") is updated as stages complete; the
thread gets the stage details, then the verdict with diagnosis and buttons. When
the check was started from a channel, the user also gets a private pointer there
(threads in a channel are public, so the results themselves never go there),
through the opening payload's ``response_url``: unlike ``chat.postEphemeral`` it works
in channels the bot has not joined and in DMs between people. Without one (or when it
has expired), the DM is the fallback: the check's parent message there notifies.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

import aiohttp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages
from bot.checks.advice import Advice
from bot.oauth.errors import SignInFailed
from bot.oauth.service import SignInPrompt
from bot.probe.model import Outcome, ProbeReport, StepResult
from bot.store.base import CheckRecord
from handlers.blocks import check, kit
from knowledge import KnowledgeBase

log = logging.getLogger(__name__)

POINTER_WITHIN: Final = 3.0  # seconds; a stalled hook must not hold the check back


async def open_dm(client: AsyncWebClient, user_id: str) -> str:
    """The channel id of the user's DM with the bot."""
    response = await client.conversations_open(users=user_id)
    return str(response["channel"]["id"])


class SlackCheckSink:
    """Renders one check into its owner's DM."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        origin_channel: str | None,
        response_url: str | None = None,
        kb: KnowledgeBase | None = None,
    ) -> None:
        self._client = client
        self._origin = origin_channel
        self._response_url = response_url
        self._kb = kb  # titles for the articles of a failed sign-in

    async def started(self, record: CheckRecord) -> tuple[str, str]:
        channel = await open_dm(self._client, record.user_id)
        text, body = check.progress_message(record, ())
        parent = await self._client.chat_postMessage(channel=channel, text=text, blocks=body)
        ts = str(parent["ts"])
        if self._origin and self._origin != channel:
            await self._point(record, channel, ts)
        return channel, ts

    async def _point(self, record: CheckRecord, channel: str, ts: str) -> None:
        if not self._response_url:
            log.info("no response_url to point from the origin channel: the DM notifies")
            return
        try:
            link = await self._client.chat_getPermalink(channel=channel, message_ts=ts)
            text = messages.POINTER.format(
                target=kit.code(kit.target(record.host, record.port)),
                link=link["permalink"],
            )
            respond = AsyncRespond(response_url=self._response_url)
            async with asyncio.timeout(POINTER_WITHIN):  # the check waits for this
                sent = await respond(text=text, response_type="ephemeral", replace_original=False)
            if sent.status_code != 200:
                log.info("pointer not delivered (HTTP %s): the DM notifies", sent.status_code)
        except (SlackApiError, OSError, TimeoutError, aiohttp.ClientError) as exc:
            # An expired or unreachable hook: the DM with the whole check is what matters.
            log.info("pointer not delivered (%s): the DM notifies", type(exc).__name__)

    async def progress(self, record: CheckRecord, steps: tuple[StepResult, ...]) -> None:
        text, body = check.progress_message(record, steps)
        await self._client.chat_update(
            channel=str(record.channel), ts=str(record.thread_ts), text=text, blocks=body
        )

    async def finished(self, record: CheckRecord, report: ProbeReport, advice: Advice) -> None:
        channel, ts = str(record.channel), str(record.thread_ts)
        text, body = check.finished_parent(record, report)
        await self._client.chat_update(channel=channel, ts=ts, text=text, blocks=body)
        text, body = check.steps_message(report)
        await self._client.chat_postMessage(channel=channel, thread_ts=ts, text=text, blocks=body)
        # The parent's edit notifies nobody and a reply in the bot's own thread only its
        # followers: the verdict is also sent to the conversation, so it notifies.
        text, body = check.verdict_message(record, report, advice)
        await self._client.chat_postMessage(
            channel=channel, thread_ts=ts, text=text, blocks=body, reply_broadcast=True
        )

    async def crashed(self, record: CheckRecord, reference: str) -> None:
        await self.plain(record, messages.CHECK_CRASHED.format(ref=reference))
        await close_parent(self._client, record, Outcome.CRASHED)

    async def withheld(self, record: CheckRecord, reason: str) -> None:
        target = kit.escape(kit.target(record.host, record.port))
        await self.plain(record, messages.WITHHELD.format(target=target, reason=reason))
        await close_parent(self._client, record, Outcome.WITHHELD)

    async def plain(self, record: CheckRecord, text: str) -> None:
        """How the check ended, in its thread and (like the verdict) in the conversation."""
        if record.channel and record.thread_ts:
            await self._client.chat_postMessage(
                channel=record.channel, thread_ts=record.thread_ts, text=text, reply_broadcast=True
            )
        else:
            await self._client.chat_postMessage(channel=record.user_id, text=text)

    async def sign_in_prompt(self, record: CheckRecord, prompt: SignInPrompt) -> None:
        """The link (and code) to sign in with, in the check's private thread."""
        await self._client.chat_postMessage(
            channel=str(record.channel),
            thread_ts=str(record.thread_ts),
            text=check.sign_in_prompt(prompt),
        )

    async def sign_in_failed(self, record: CheckRecord, failure: SignInFailed) -> None:
        titles = [
            self._kb.articles[a].title
            for a in failure.articles
            if self._kb is not None and a in self._kb.articles
        ]
        text = check.sign_in_failed(failure, titles)
        channel, ts = str(record.channel), str(record.thread_ts)
        await self._client.chat_update(channel=channel, ts=ts, text=text)
        await self._client.chat_postMessage(channel=channel, thread_ts=ts, text=text)


async def notify_interrupted(client: AsyncWebClient, record: CheckRecord) -> None:
    """Tell the owner (once, the caller ensures) that a restart cut their check short;
    whether the sign-in may have reached the server decides what is said."""
    wording = (
        messages.INTERRUPTED if record.auth_booked_at is None else messages.INTERRUPTED_AFTER_AUTH
    )
    text = wording.format(target=kit.code(kit.target(record.host, record.port)))
    if record.channel and record.thread_ts:
        await client.chat_postMessage(
            channel=record.channel, thread_ts=record.thread_ts, text=text, reply_broadcast=True
        )
        await close_parent(client, record, Outcome.INTERRUPTED)
    else:
        await client.chat_postMessage(channel=await open_dm(client, record.user_id), text=text)


async def close_parent(client: AsyncWebClient, record: CheckRecord, outcome: Outcome) -> None:
    """Edit the check's parent message (still "Checking host:port ...") to say how the
    check ended. Best effort, after the thread got the notice: a failed edit is logged,
    never retried (that would post the notice twice)."""
    if not (record.channel and record.thread_ts):
        return
    text, body = check.closed_parent(record, outcome)
    try:
        await client.chat_update(
            channel=record.channel, ts=record.thread_ts, text=text, blocks=body
        )
    except (SlackApiError, OSError, TimeoutError, aiohttp.ClientError) as exc:
        log.info("parent of check %s not closed (%s)", record.check_id, type(exc).__name__)
