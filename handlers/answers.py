"""Knowledge answers rendered for Slack (pure: a question in, text and blocks out).

Shared by ``/smtpcheck <question>`` and questions asked in a DM or a mention.
"""

from __future__ import annotations

from bot import messages
from bot.conversation import LOW_CONFIDENCE
from handlers import blocks
from knowledge import KnowledgeBase, search


def answer(kb: KnowledgeBase, question: str) -> tuple[str, list[blocks.Block]]:
    """The best article's summary and steps (provider/client variant when the
    question names one), the meaning of any pasted error, and other candidates."""
    result = search(kb, question, limit=4)
    if not result.answers:
        return messages.NO_ANSWER, [blocks.section(messages.NO_ANSWER)]
    best = result.answers[0].article
    text, body = blocks.answer_message(
        best.title,
        best.summary,
        best.steps_for(result.provider, result.client),
        unsure=result.confidence < LOW_CONFIDENCE,
        more=[a.article.title for a in result.answers[1:]],
    )
    if result.matches:
        cause = blocks.escape(result.matches[0].cause)
        body.insert(0, blocks.section(f"*What the error means:* {cause}"))
    return text, body
