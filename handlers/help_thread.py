"""Help threads on Slack: run a conversation step and post the turn in its thread.

Shared by the message listeners (``handlers.events``) and the help buttons
(``handlers.actions.help``). A thread is named by ``bot.conversation.help_thread_key``
(``channel:thread_ts``), so a button only needs that key to find its thread again.
"""

from __future__ import annotations

import contextlib
import logging
import re
import time
from typing import Final

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import conversation, messages
from bot.conversation.asker import remember_asker
from bot.conversation.context import ThreadContext
from bot.conversation.turns import Turn, TurnKind
from bot.errors import StoreUnavailable
from bot.helpdesk.feedback import QUESTION_MAX, Feedback, ReviewReason
from bot.helpdesk.threads import HelpThreads
from bot.helpdesk.webhook import escalation_body, start_delivery
from bot.redaction import redact_credentials
from bot.runtime.deps import Deps
from bot.store import keys
from bot.store.base import Documents
from handlers.blocks import kit, turns
from knowledge import CONFIDENCE_FLOOR, KnowledgeBase, search

log = logging.getLogger(__name__)

FAQ_SHOWN: Final = 6
ESCALATION_TTL: Final = 30 * 24 * 3600.0
_MENTION: Final = re.compile(r"<@[A-Z0-9]+>")
# Words that open a chat rather than ask something: answered with the common questions.
_GREETING: Final = re.compile(
    r"\s*(hi|hello|hey|help|faq|menu|start|common questions|what can you do)\W*", re.I
)


def split_key(key: str) -> tuple[str, str]:
    """(channel, thread_ts) of a thread key."""
    channel, _, ts = key.partition(":")
    return channel, ts


def strip_mentions(text: str) -> str:
    """The message without mentions of anyone (the bot's own included)."""
    return _MENTION.sub(" ", text).strip()


def is_greeting(text: str) -> bool:
    return _GREETING.fullmatch(text) is not None


def faq(deps: Deps) -> list[tuple[str, str]]:
    return conversation.common_questions(deps.kb, FAQ_SHOWN)


FAQ_PAGE: Final = 8  # questions a page: two buttons and the rest in the menu


def faq_page(
    kb: KnowledgeBase, page: int, size: int = FAQ_PAGE
) -> tuple[list[tuple[str, str]], int, int]:
    """Page ``page`` (clamped) of the common questions: (questions, page, pages)."""
    pages = turns.pages_of(conversation.faq_count(kb), size)
    page = min(max(page, 0), pages - 1)
    return conversation.common_questions(kb, size, start=page * size), page, pages


QUESTION_FIELD: Final = "question"  # the thread's last question, redacted, for feedback
TARGET_FIELD: Final = "live_target"  # a server named in the thread, for the live check
LAST_TURN_FIELD: Final = "last_turn"  # the thread's newest message with buttons: ts, text
COLLAPSED_TEXT_MAX: Final = 1000


async def post(
    client: AsyncWebClient,
    key: str,
    text: str,
    body: list[kit.Block],
    *,
    store: Documents | None = None,
) -> None:
    """Post into the thread. With ``store``, a message with buttons retires the buttons
    of the thread's previous one (collapsed to its text), so only the newest acts."""
    channel, ts = split_key(key)
    posted = await client.chat_postMessage(channel=channel, thread_ts=ts, text=text, blocks=body)
    if store is None or not any(b.get("type") == "actions" for b in body):
        return
    try:
        state = await store.get_thread(key)
        await store.update_thread(
            key,
            {LAST_TURN_FIELD: {"ts": str(posted["ts"]), "text": text[:COLLAPSED_TEXT_MAX]}},
        )
    except StoreUnavailable:
        return  # old buttons stay; each click is still checked
    previous = state.get(LAST_TURN_FIELD)
    if isinstance(previous, dict) and previous.get("ts"):
        old = str(previous.get("text") or "")
        collapsed = [kit.section(kit.escape(old)), kit.context(messages.TURN_RETIRED)]
        with contextlib.suppress(SlackApiError):  # a deleted message keeps nothing to retire
            await client.chat_update(
                channel=channel, ts=str(previous["ts"]), text=old, blocks=collapsed
            )


async def post_turn(
    client: AsyncWebClient, deps: Deps, key: str, turn: Turn, *, redacted: bool = False
) -> None:
    """Render ``turn`` into its thread; ``redacted`` says a password was hidden first."""
    text, body = turns.render_turn(turn, key, faq=faq(deps))
    if redacted:
        body.insert(0, kit.context(messages.REDACTED_NOTE))
    await post(client, key, text, body[: kit.MESSAGE_BLOCKS_MAX], store=deps.store)
    with contextlib.suppress(StoreUnavailable):  # the answer is out; the count can miss
        await HelpThreads(deps.store).started(key)  # counted once, on the first answer


async def last_question(store: Documents, key: str) -> str | None:
    """The thread's last question (already redacted when it was stored)."""
    value = (await store.get_thread(key)).get(QUESTION_FIELD)
    return value if isinstance(value, str) and value else None


async def _remember_question(deps: Deps, key: str, text: str, turn: Turn) -> None:
    """Keep the (redacted) question for a later vote; list an unsure answer's question."""
    await deps.store.update_thread(key, {QUESTION_FIELD: text[:QUESTION_MAX]})
    if turn.kind is TurnKind.LOW_CONFIDENCE:
        await Feedback(deps.store).review(text, ReviewReason.NOT_CONFIDENT)


async def answer_message(
    client: AsyncWebClient, deps: Deps, *, key: str, user: str, text: str
) -> None:
    """A question or pasted error in a help thread: answer it and count the question.
    Credential-looking text is redacted before anything reads it."""
    redacted = redact_credentials(text)
    text = redacted.text
    with contextlib.suppress(StoreUnavailable):  # the answer matters more than the owner
        await remember_asker(deps.store, key, user)
    if is_greeting(text):
        questions, _, pages = faq_page(deps.kb, 0)
        reply, body = turns.greeting(key, questions, pages=pages)
        await post(client, key, reply, body, store=deps.store)
        return
    try:
        turn = await conversation.respond(deps.kb, deps.store, key, text)
    except StoreUnavailable:
        # Answers keep working without the store; only the thread's memory is lost.
        log.warning("store unreachable: answering without the thread's context")
        turn = conversation.reply_to(deps.kb, text, ThreadContext(), now=time.time())
    else:
        # A lost count must not throw away the answer already worked out in context.
        with contextlib.suppress(StoreUnavailable):
            await deps.helpdesk.record_question(user, thread_key=key)
            await _remember_question(deps, key, text, turn)
    await post_turn(client, deps, key, turn, redacted=redacted.hidden)


async def offer_check(
    client: AsyncWebClient, deps: Deps, *, key: str, user: str, host: str, port: int | None
) -> None:
    """A server named on its own ("smtp.example.com:587"): keep it with the thread and
    offer the live check, prefilled with it (the form asks for the password)."""
    with contextlib.suppress(StoreUnavailable):
        await remember_asker(deps.store, key, user)
        await deps.store.update_thread(key, {TARGET_FIELD: {"host": host, "port": port}})
    shown = kit.code(kit.target(host, port) if port else host)
    text = messages.ASSISTANT_OFFER_CHECK.format(target=shown)
    live = conversation.Offer.LIVE_CHECK
    button = kit.button(
        turns.OFFER_ACTIONS[live], messages.OFFER_LABELS[live.value], turns.button_value(key)
    )
    body = [kit.section(text), {"type": "actions", "block_id": "help-offers", "elements": [button]}]
    await post(client, key, kit.clip(text, kit.FALLBACK_TEXT_MAX), body, store=deps.store)


async def named_target(store: Documents, key: str) -> tuple[str, int | None] | None:
    """The server ``offer_check`` kept for the thread, if any."""
    kept = (await store.get_thread(key)).get(TARGET_FIELD)
    if not isinstance(kept, dict) or not isinstance(kept.get("host"), str):
        return None
    port = kept.get("port")
    return str(kept["host"]), port if isinstance(port, int) else None


async def escalate(
    client: AsyncWebClient, deps: Deps, *, claim: str, summary: tuple[str, list[kit.Block]]
) -> str:
    """Post ``summary`` to the helpdesk channel once per ``claim``; return what to tell
    the user (sent, already sent, or no channel configured)."""
    helpdesk, settings = deps.settings.helpdesk_channel, deps.settings
    webhook, secret = settings.escalation_webhook, settings.escalation_webhook_secret
    if helpdesk is None and webhook is None:
        return messages.HELPDESK_MISSING
    if not await deps.store.claim(claim, ESCALATION_TTL):
        return messages.HELPDESK_ALREADY
    text, body = summary
    if helpdesk is not None:
        await client.chat_postMessage(channel=helpdesk, text=text, blocks=body)
    if webhook is not None and secret is not None:
        kind = "thread" if claim.startswith(keys.thread_escalation("")) else "check"
        payload = escalation_body(text, kind=kind, at=time.time())
        start_delivery(webhook, secret, payload, store=deps.store)
    with contextlib.suppress(StoreUnavailable):  # sent matters more than counted
        await Feedback(deps.store).escalated()
    return messages.HELPDESK_SENT


async def thread_summary(
    client: AsyncWebClient, deps: Deps, key: str, user: str, context: ThreadContext
) -> tuple[str, list[kit.Block]]:
    """The secret-free summary of a help thread for the helpdesk (no typed text)."""
    channel, ts = split_key(key)
    try:
        link = str((await client.chat_getPermalink(channel=channel, message_ts=ts))["permalink"])
    except SlackApiError:
        link = "-"  # the summary still helps without the link
    article = deps.kb.articles.get(context.article or "")
    setup = [
        owner.name
        for owner in (
            deps.kb.provider(context.provider),
            deps.kb.clients.get(context.client or ""),
        )
        if owner is not None
    ]
    error = " ".join(str(p) for p in (context.code, context.enhanced, context.reply_id) if p)
    text = messages.HELPDESK_THREAD_SUMMARY.format(
        user=kit.escape(user),
        topic=kit.escape(article.title) if article else "-",
        setup=kit.escape(", ".join(setup)) or "-",
        error=kit.escape(error) or "-",
        steps=context.steps_done,
        link=link,
    )
    return kit.clip(text, kit.FALLBACK_TEXT_MAX), [kit.section(text)]


def answer(
    kb: KnowledgeBase, question: str, *, token: str | None = None
) -> tuple[str, list[kit.Block]]:
    """The best article's summary and steps (provider/client variant when the
    question names one), the meaning of any pasted error, and other candidates;
    ``token`` goes into its feedback buttons (see ``Feedback.remember_answered``)."""
    result = search(kb, question, limit=4)
    if not result.answers:
        return messages.NO_ANSWER, [kit.section(messages.NO_ANSWER)]
    best = result.answers[0].article
    text, body = turns.answer_message(
        best.title,
        best.summary,
        best.steps_for(result.provider, result.client),
        unsure=result.confidence < CONFIDENCE_FLOOR,
        article_id=best.id,
        more=[(a.article.id, a.article.title) for a in result.answers[1:]],
        token=token,
    )
    if result.matches:
        cause = kit.escape(result.matches[0].cause)
        body.insert(0, kit.section(f"*What the error means:* {cause}"))
    return text, body
