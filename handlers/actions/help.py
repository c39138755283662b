"""Buttons under help-thread answers: fixed, still failing, live check, human, not what
I meant, a candidate article, a common question.

A button value is the thread key (and an article id); the thread's state is in the
store, so any process can serve the click. Common questions clicked outside a thread
(App Home, ``/smtpcheck faq``) start a thread in the user's DM.

Every click is checked first: the value's thread must be the thread the clicked message
is in (a forged value cannot reach another conversation), and only the thread's asker
acts on it; anyone else is told, privately, how to start a conversation of their own.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot import conversation, messages
from bot.conversation.asker import asker_of, remember_asker
from bot.conversation.turns import Offer
from bot.errors import InputError, StoreUnavailable
from bot.helpdesk.feedback import QUESTION_MAX
from bot.helpdesk.threads import HelpThreads
from bot.runtime.deps import Deps, deps_of
from bot.runtime.private import tell_privately, trusted_response_url
from bot.store import Store, keys
from handlers import help_thread as threads
from handlers.blocks import kit, modal, turns
from handlers.blocks.home import home_pages
from handlers.check_thread import open_dm
from handlers.home import publish_home
from knowledge import KnowledgeBase

Clicked = tuple[Deps, str, str | None, str | None]


def _thread_clicked_in(body: dict[str, Any]) -> str | None:
    """The thread key of the message whose button was clicked (None outside messages)."""
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
    message = body.get("message") or {}
    ts = container.get("thread_ts") or message.get("thread_ts") or container.get("message_ts")
    if container.get("type") != "message" or not channel or not ts:
        return None
    return conversation.help_thread_key(str(channel), str(ts))


async def _refusal(deps: Deps, body: dict[str, Any], user: str, key: str) -> str | None:
    """Why ``user`` may not use this thread's button, or None when they may."""
    if key != _thread_clicked_in(body):
        return messages.BUTTON_ELSEWHERE
    asker = await asker_of(deps.store, key)
    if asker != user:
        return messages.NOT_YOUR_THREAD.format(asker=asker) if asker else messages.THREAD_GONE
    return None


async def _clicked(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> Clicked | None:
    """Ack first, then (deps, user, thread key, article id) of the clicked button, or
    None when the click was refused (the clicker is told why, privately)."""
    await ack()
    deps, user = deps_of(context), str(body["user"]["id"])
    key, article = turns.parse_value(str(body["actions"][0].get("value", "")))
    if key is not None:
        refusal = await _refusal(deps, body, user, key)
        if refusal is not None:
            respond = AsyncRespond(response_url=body.get("response_url"))
            await tell_privately(respond, client, user, refusal)
            return None
    return deps, user, key, article


async def handle_fixed(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    """Resolve the thread; the resolution is counted once, however often it is clicked."""
    clicked = await _clicked(ack, body, client, context)
    if clicked is None:
        return
    deps, user, key, _ = clicked
    if key is None:
        return
    turn = await conversation.fixed(deps.kb, deps.store, key)
    if not turn.repeat:
        await deps.helpdesk.record_resolved(user)
        outcomes = HelpThreads(deps.store)
        await outcomes.started(key)  # a short triage reply that fixed it is a thread too
        await outcomes.fixed(key)
    await threads.post_turn(client, deps, key, turn)


def _turn_button(
    step: Callable[[KnowledgeBase, Store, str], Awaitable[conversation.Turn]],
) -> Callable[..., Awaitable[None]]:
    """A button whose click is just ``step`` on the thread, its turn posted there."""

    async def on_click(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
    ) -> None:
        clicked = await _clicked(ack, body, client, context)
        if clicked is None:
            return
        deps, _, key, _ = clicked
        if key is not None:
            await threads.post_turn(client, deps, key, await step(deps.kb, deps.store, key))

    return on_click


handle_still_failing = _turn_button(conversation.still_failing)
handle_not_what_i_meant = _turn_button(conversation.not_what_i_meant)


async def handle_live_check(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    """The probe modal, prefilled with what the thread learned (never a password)."""
    clicked = await _clicked(ack, body, client, context)
    if clicked is None:
        return
    deps, _, key, _ = clicked
    known = (
        conversation.prefill_for(deps.kb, await conversation.load_context(deps.store, key))
        if key
        else None
    )
    prefill = modal.Prefill()
    named = await threads.named_target(deps.store, key) if key else None
    if known is not None:
        prefill = modal.Prefill(
            email=known.email,
            host=known.host,
            port=known.port,
            security=known.security or "auto",
            username=known.email,
        )
    if named is not None and prefill.host is None:  # a server named in the thread
        host, port = named
        prefill = modal.Prefill(host=host, port=port, security="tls" if port == 465 else "auto")
    origin = threads.split_key(key)[0] if key else None
    view = modal.probe_modal(
        prefill,
        origin_channel=origin,
        sign_in=deps.sign_in_choices(prefill.host),
        response_url=trusted_response_url(body.get("response_url"), deps.settings.slack_api_url),
    )
    await client.views_open(trigger_id=body["trigger_id"], view=view)


async def handle_talk_to_human(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    """A secret-free summary of the thread to the helpdesk channel, once per thread."""
    clicked = await _clicked(ack, body, client, context)
    if clicked is None:
        return
    deps, user, key, _ = clicked
    if key is None:
        return
    state = await conversation.load_context(deps.store, key)
    summary = await threads.thread_summary(client, deps, key, user, state)
    reply = await threads.escalate(client, deps, claim=keys.thread_escalation(key), summary=summary)
    if reply == messages.HELPDESK_SENT:
        await HelpThreads(deps.store).escalated(key)
    await threads.post(client, key, reply, [kit.section(reply)])


async def handle_open_article(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    """A candidate, related article or common question the person picked."""
    clicked = await _clicked(ack, body, client, context)
    if clicked is None:
        return
    deps, user, key, article = clicked
    if article is None or article not in deps.kb.articles:
        return
    faq = str(body["actions"][0]["action_id"]).startswith(turns.ACTION_FAQ)
    question = conversation.faq_question(deps.kb, deps.kb.articles[article]).text
    fresh = key is None
    if key is None:  # from App Home or an ephemeral list: start a thread in the DM
        channel = await open_dm(client, user)
        asked = messages.FAQ_ASKED.format(question=kit.escape(question))
        parent = await client.chat_postMessage(channel=channel, text=asked)
        key = conversation.help_thread_key(channel, str(parent["ts"]))
        await remember_asker(deps.store, key, user)
    try:
        turn = await conversation.choose(deps.kb, deps.store, key, article, faq=faq)
    except InputError:
        await threads.post(client, key, messages.THREAD_GONE, [kit.section(messages.THREAD_GONE)])
        return
    if faq or fresh:  # the common question picked is the thread's: "Not helpful" lists it
        with contextlib.suppress(StoreUnavailable):  # the answer matters more than the list
            await deps.store.update_thread(key, {threads.QUESTION_FIELD: question[:QUESTION_MAX]})
    await deps.helpdesk.record_activity(user)
    await threads.post_turn(client, deps, key, turn)


async def handle_explain_more(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    """The whole answer behind a short triage reply, in its thread."""
    clicked = await _clicked(ack, body, client, context)
    if clicked is None:
        return
    deps, _, key, article = clicked
    if key is None or article not in deps.kb.articles:
        return
    turn = await conversation.choose(deps.kb, deps.store, key, str(article))
    await threads.post_turn(client, deps, key, turn)


async def handle_faq_page(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    """ "Next questions": the same message (or Home tab) at the next page of the common
    questions. In a help thread only its asker turns the page."""
    clicked = await _clicked(ack, body, client, context)
    if clicked is None:
        return
    deps, user, key, target = clicked
    container = body.get("container") or {}
    if container.get("type") == "view":  # App Home: both lists' pages in the value
        faq_page, review_page = home_pages(target or "")
        await publish_home(client, deps, user, review_page, faq_page)
        return
    wanted = int(target) if target and target.isdigit() else 0
    questions, page, pages = threads.faq_page(deps.kb, wanted)
    blocks = turns.faq_blocks(key, questions, page=page, pages=pages)
    text = messages.COMMON_QUESTIONS.strip("*")
    if container.get("is_ephemeral") or key is None:  # /smtpcheck faq: only its hook edits it
        hook = trusted_response_url(body.get("response_url"), deps.settings.slack_api_url)
        if hook is not None:  # without one the list stays as it is (nothing to edit with)
            respond = AsyncRespond(response_url=hook)
            await respond(
                text=text, blocks=blocks, replace_original=True, response_type="ephemeral"
            )
        return
    channel, ts = str(container.get("channel_id")), str(container.get("message_ts"))
    await client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)


def routes() -> list[tuple[re.Pattern[str], Callable[..., Awaitable[None]]]]:
    """Every help button's action id (pattern) and listener."""
    actions = turns.OFFER_ACTIONS
    listeners = (
        (actions[Offer.FIXED], handle_fixed),
        (actions[Offer.STILL_FAILING], handle_still_failing),
        (actions[Offer.NOT_WHAT_I_MEANT], handle_not_what_i_meant),
        (actions[Offer.LIVE_CHECK], handle_live_check),
        (actions[Offer.HUMAN], handle_talk_to_human),
        (turns.ACTION_EXPLAIN_MORE, handle_explain_more),
        (turns.ACTION_FAQ_PAGE, handle_faq_page),
        (rf"({turns.ACTION_CHOOSE}|{turns.ACTION_FAQ})_\d+", handle_open_article),
    )
    return [(re.compile(pattern), listener) for pattern, listener in listeners]


def register(app: AsyncApp) -> None:
    for pattern, listener in routes():
        app.action(re.compile(f"^{pattern.pattern}$"))(listener)
