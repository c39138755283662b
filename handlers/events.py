"""Messages: questions in the DM with the bot and in mentions, and pasted SMTP errors
in triage channels. (Event retries are deduplicated by a middleware in ``bot.runtime.middleware``.)

Mentions are answered in exactly one place, ``app_mention``: Slack also sends a
``message.channels`` event for the same message, which is left alone here. In a DM
both ``message.im`` and ``app_mention`` can fire for one message: whichever arrives
first claims the message, so it is answered once.

Pasted text is redacted (``bot.redaction``) before anything reads it, so a password
in a message never reaches the engine, the store or a reply.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any, Final

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import conversation, messages
from bot.conversation.asker import remember_asker
from bot.errors import StoreUnavailable
from bot.helpdesk.feedback import QUESTION_MAX
from bot.redaction import redact_credentials
from bot.runtime.deps import Deps, deps_of
from bot.store import keys
from handlers import help_thread as threads
from handlers.blocks import kit, turns
from knowledge import explain_reply

log = logging.getLogger(__name__)

TRIAGE_TTL: Final = 30 * 24 * 3600.0  # one explanation per thread, for as long as it matters
# The events of one message (message.im + app_mention, and their retries) arrive within
# minutes of each other: an hour of memory per message is plenty.
MESSAGE_CLAIM_TTL: Final = 3600.0


def _thread_of(event: dict[str, Any]) -> str:
    return conversation.help_thread_key(
        str(event["channel"]), str(event.get("thread_ts") or event["ts"])
    )


def from_a_person(event: dict[str, Any], bot_user: str | None) -> bool:
    """A person's own new message: no bot posts, edits, joins or our own messages."""
    return not (
        event.get("subtype") or event.get("bot_id") or event.get("user") in (None, bot_user)
    )


async def first_answer(deps: Deps, event: dict[str, Any]) -> bool:
    """True for the first of the events that carry one message (DM + mention)."""
    try:
        claim = keys.message_claim(str(event["channel"]), str(event["ts"]))
        return await deps.store.claim(claim, MESSAGE_CLAIM_TTL)
    except StoreUnavailable:
        return True  # answering twice beats not answering while the store is down


async def handle_mention(
    event: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    """A mention anywhere: answer (or explain the pasted error) in its thread."""
    text = threads.strip_mentions(str(event.get("text", "")))
    if not text or not from_a_person(event, context.get("bot_user_id")):
        return
    deps = deps_of(context)
    if await first_answer(deps, event):
        await threads.answer_message(
            client, deps, key=_thread_of(event), user=str(event["user"]), text=text
        )


async def handle_message(
    event: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    """DMs are conversations; triage channels get explanations; the rest is ignored."""
    bot_user = context.get("bot_user_id")
    if not from_a_person(event, bot_user):
        return
    text = str(event.get("text", ""))
    if event.get("channel_type") == "im":
        text = threads.strip_mentions(text)
        deps = deps_of(context)
        if text and await first_answer(deps, event):
            await threads.answer_message(
                client, deps, key=_thread_of(event), user=str(event["user"]), text=text
            )
        return
    deps = deps_of(context)
    if event.get("channel") not in deps.settings.triage_channels or f"<@{bot_user}>" in text:
        return  # not a triage channel, or a mention (app_mention answers those)
    await triage(event, client, context)


async def triage(event: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]) -> None:
    """One threaded explanation per thread, only when the text holds a known SMTP reply."""
    deps = deps_of(context)
    redacted = redact_credentials(str(event.get("text", "")))
    if not explain_reply(deps.kb, redacted.text):
        return
    key = _thread_of(event)
    try:
        if not await deps.store.claim(keys.triage_claim(key), TRIAGE_TTL):
            return
    except StoreUnavailable:
        # Unasked-for help must not repeat itself or post errors into someone's
        # channel: without the store we cannot tell if this thread was explained.
        log.warning("triage skipped in %s: the store is unreachable", event.get("channel"))
        return
    await remember_asker(deps.store, key, str(event["user"]))
    turn = await conversation.respond(deps.kb, deps.store, key, redacted.text)
    # The paste is the thread's question: a "Not helpful" on the reply lists it.
    with contextlib.suppress(StoreUnavailable):  # the reply matters more than the list
        await deps.store.update_thread(key, {threads.QUESTION_FIELD: redacted.text[:QUESTION_MAX]})
    # Unasked-for help stays short: the cause, one line, and "Explain more".
    text, body = turns.triage_message(turn, key, redacted.text)
    if redacted.hidden:
        body.insert(0, kit.context(messages.REDACTED_NOTE))
    await threads.post(client, key, text, body, store=deps.store)


def register(app: AsyncApp) -> None:
    app.event("app_mention")(handle_mention)
    app.event("message")(handle_message)
