"""Message shortcut "Explain SMTP error": explains the SMTP replies in a message,
privately to the person who used it (ephemeral)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages
from bot.runtime.deps import deps_of
from handlers.blocks import kit
from knowledge import KnowledgeBase
from knowledge.explain import MAX_INPUT, explain_text

CALLBACK_ID = "explain_error"


def explanation(kb: KnowledgeBase, text: str) -> str:
    """Each recognised reply with its cause and the articles to read."""
    explained = explain_text(kb, text)
    matches = explained.matches
    cut = [messages.EXPLAIN_CUT.format(limit=MAX_INPUT)] if explained.truncated else []
    if not matches:
        nothing = (
            messages.EXPLAIN_NOTHING_WITH_CODE if explained.has_code else messages.EXPLAIN_NOTHING
        )
        return "\n\n".join([nothing, *cut])
    parts = []
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


async def handle_explain_message(
    ack: AsyncAck, shortcut: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    await ack()
    text = explanation(deps_of(context).kb, str(shortcut.get("message", {}).get("text", "")))
    await client.chat_postEphemeral(
        channel=shortcut["channel"]["id"], user=shortcut["user"]["id"], text=text
    )


def register(app: AsyncApp) -> None:
    app.shortcut(CALLBACK_ID)(handle_explain_message)
