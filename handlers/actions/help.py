"""Buttons under help-thread answers: fixed, still failing, live check, human, not what
I meant, a candidate article, a common question.

A button value is the thread key (and an article id); the thread's state is in the
store, so any process can serve the click. Common questions clicked outside a thread
(App Home, ``/smtpcheck faq``) start a thread in the user's DM.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import conversation, messages
from bot.conversation.turns import Offer
from bot.errors import InputError
from bot.runtime.deps import Deps, deps_of
from bot.store import Store, keys
from handlers import help_thread as threads
from handlers.blocks import kit, modal, turns
from handlers.check_thread import open_dm
from knowledge import KnowledgeBase


async def _clicked(
    ack: AsyncAck, body: dict[str, Any], context: dict[str, Any]
) -> tuple[Deps, str, str | None, str | None]:
    """Ack first, then (deps, user, thread key, article id) of the clicked button."""
    await ack()
    key, article = turns.parse_value(str(body["actions"][0].get("value", "")))
    return deps_of(context), str(body["user"]["id"]), key, article


async def handle_fixed(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    """Resolve the thread; the resolution is counted once, however often it is clicked."""
    deps, user, key, _ = await _clicked(ack, body, context)
    if key is None:
        return
    turn = await conversation.fixed(deps.kb, deps.store, key)
    if not turn.repeat:
        await deps.helpdesk.record_resolved(user)
    await threads.post_turn(client, deps, key, turn)


def _turn_button(
    step: Callable[[KnowledgeBase, Store, str], Awaitable[conversation.Turn]],
) -> Callable[..., Awaitable[None]]:
    """A button whose click is just ``step`` on the thread, its turn posted there."""

    async def on_click(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
    ) -> None:
        deps, _, key, _ = await _clicked(ack, body, context)
        if key is not None:
            await threads.post_turn(client, deps, key, await step(deps.kb, deps.store, key))

    return on_click


handle_still_failing = _turn_button(conversation.still_failing)
handle_not_what_i_meant = _turn_button(conversation.not_what_i_meant)


async def handle_live_check(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    """The probe modal, prefilled with what the thread learned (never a password)."""
    deps, _, key, _ = await _clicked(ack, body, context)
    known = (
        conversation.prefill_for(deps.kb, await conversation.load_context(deps.store, key))
        if key
        else None
    )
    prefill = modal.Prefill()
    if known is not None:
        prefill = modal.Prefill(
            email=known.email,
            host=known.host,
            port=known.port,
            security=known.security or "auto",
            username=known.email,
        )
    origin = threads.split_key(key)[0] if key else None
    view = modal.probe_modal(
        prefill, origin_channel=origin, sign_in=deps.sign_in_choices(prefill.host)
    )
    await client.views_open(trigger_id=body["trigger_id"], view=view)


async def handle_talk_to_human(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    """A secret-free summary of the thread to the helpdesk channel, once per thread."""
    deps, user, key, _ = await _clicked(ack, body, context)
    if key is None:
        return
    state = await conversation.load_context(deps.store, key)
    summary = await threads.thread_summary(client, deps, key, user, state)
    reply = await threads.escalate(client, deps, claim=keys.thread_escalation(key), summary=summary)
    await threads.post(client, key, reply, [kit.section(reply)])


async def handle_open_article(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    """A candidate, related article or common question the person picked."""
    deps, user, key, article = await _clicked(ack, body, context)
    if article is None or article not in deps.kb.articles:
        return
    faq = str(body["actions"][0]["action_id"]).startswith(turns.ACTION_FAQ)
    if key is None:  # from App Home or an ephemeral list: start a thread in the DM
        question = conversation.faq_question(deps.kb, deps.kb.articles[article]).text
        channel = await open_dm(client, user)
        asked = messages.FAQ_ASKED.format(question=kit.escape(question))
        parent = await client.chat_postMessage(channel=channel, text=asked)
        key = conversation.help_thread_key(channel, str(parent["ts"]))
    try:
        turn = await conversation.choose(deps.kb, deps.store, key, article, faq=faq)
    except InputError:
        await threads.post(client, key, messages.THREAD_GONE, [kit.section(messages.THREAD_GONE)])
        return
    await deps.helpdesk.record_activity(user)
    await threads.post_turn(client, deps, key, turn)


def register(app: AsyncApp) -> None:
    actions = turns.OFFER_ACTIONS
    app.action(actions[Offer.FIXED])(handle_fixed)
    app.action(actions[Offer.STILL_FAILING])(handle_still_failing)
    app.action(actions[Offer.NOT_WHAT_I_MEANT])(handle_not_what_i_meant)
    app.action(actions[Offer.LIVE_CHECK])(handle_live_check)
    app.action(actions[Offer.HUMAN])(handle_talk_to_human)
    app.action(re.compile(rf"^({turns.ACTION_CHOOSE}|{turns.ACTION_FAQ})_\d+$"))(
        handle_open_article
    )
