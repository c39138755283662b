"""Message shortcut "Explain SMTP error": explains the SMTP replies in a message,
privately to the person who used it.

The answer goes through the payload's ``response_url`` (Bolt's ``respond``), which works
in every conversation the shortcut can be used in, including channels the bot has not
joined and DMs between people, where ``chat.postEphemeral`` fails. Without a usable
``response_url`` it falls back to the person's DM with the bot.
"""

from __future__ import annotations

import contextlib
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages
from bot.errors import StoreUnavailable
from bot.helpdesk.feedback import Feedback, ReviewReason, new_answer_token
from bot.redaction import redact_credentials
from bot.runtime.deps import deps_of
from bot.runtime.private import tell_privately
from handlers.blocks import kit, turns
from knowledge import KnowledgeBase
from knowledge.explain import explain_text
from knowledge.paste import HEAD_READ, MAX_REPLIES_READ, TAIL_READ

CALLBACK_ID = "explain_error"


def explanation(kb: KnowledgeBase, text: str) -> str:
    """Each recognised reply with its cause and the articles to read."""
    redacted = redact_credentials(text)
    explained = explain_text(kb, redacted.text)
    matches = explained.matches
    cut = (
        [messages.EXPLAIN_CUT.format(head=HEAD_READ, tail=TAIL_READ, replies=MAX_REPLIES_READ)]
        if explained.truncated
        else []
    )
    hidden = [messages.REDACTED_NOTE] if redacted.hidden else []
    if not matches:
        nothing = (
            messages.EXPLAIN_NOTHING_WITH_CODE if explained.has_code else messages.EXPLAIN_NOTHING
        )
        return "\n\n".join([*hidden, nothing, *cut])
    parts = hidden
    for match in matches:
        code = " ".join(str(p) for p in (match.code, match.enhanced) if p)
        part = messages.EXPLAIN_MATCH.format(
            code=code, excerpt=kit.code(match.excerpt), cause=kit.escape(match.cause)
        )
        titles = [kb.articles[a].title for a in match.articles if a in kb.articles]
        if titles:
            part += "\n" + messages.EXPLAIN_READ.format(
                titles=", ".join(f"_{kit.escape(t)}_" for t in titles)
            )
        parts.append(part)
    return kit.clip("\n\n".join([*cut, *parts]), kit.SECTION_MAX)


def explain_message(
    kb: KnowledgeBase, pasted: str, token: str | None = None
) -> tuple[str, list[kit.Block], bool]:
    """The private answer (fallback text, blocks with Helpful / Not helpful carrying
    ``token``) and whether any reply in ``pasted`` was recognised."""
    text = explanation(kb, pasted)
    found = explain_text(kb, redact_credentials(pasted).text).matches
    article = next((a for m in found for a in m.articles if a in kb.articles), None)
    return text, [kit.section(text), turns.feedback(article, token)], bool(found)


async def handle_explain_message(
    ack: AsyncAck,
    shortcut: dict[str, Any],
    client: AsyncWebClient,
    respond: AsyncRespond,
    context: dict[str, Any],
) -> None:
    """The explanation privately, with Helpful / Not helpful like every answer; a paste
    nothing explains goes on the admins' review list (redacted, no names). The answer is
    ephemeral (no thread): its "Not helpful" finds the paste by a random token."""
    await ack()
    deps = deps_of(context)
    pasted = str(shortcut.get("message", {}).get("text", ""))
    token = new_answer_token()
    text, blocks, found = explain_message(deps.kb, pasted, token)
    redacted = redact_credentials(pasted).text
    with contextlib.suppress(StoreUnavailable):  # the answer matters more than the list
        feedback = Feedback(deps.store)
        await feedback.remember_answered(token, redacted)
        if not found and redacted.strip():
            await feedback.review(redacted, ReviewReason.NOT_CONFIDENT)
    await tell_privately(respond, client, str(shortcut["user"]["id"]), text, blocks)


def register(app: AsyncApp) -> None:
    app.shortcut(CALLBACK_ID)(handle_explain_message)
