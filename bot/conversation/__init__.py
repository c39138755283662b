"""Help threads, with no Slack imports: ``engine`` (the next turn for a message or a button),
``context`` (what a thread has learned), ``turns`` (what the bot says, as data) and ``faq``."""

from bot.conversation.context import ThreadContext
from bot.conversation.engine import (
    RELATED_LIMIT,
    after_failure,
    choose,
    fixed,
    help_thread_key,
    load_context,
    mark_fixed,
    next_candidates,
    not_what_i_meant,
    open_article,
    prefill_for,
    reply_to,
    respond,
    still_failing,
)
from bot.conversation.faq import FAQ_LIMIT, common_questions, faq_count, faq_question
from bot.conversation.turns import Offer, Question, Turn, TurnKind

__all__ = [
    "FAQ_LIMIT",
    "RELATED_LIMIT",
    "Offer",
    "Question",
    "ThreadContext",
    "Turn",
    "TurnKind",
    "after_failure",
    "choose",
    "common_questions",
    "faq_count",
    "faq_question",
    "fixed",
    "help_thread_key",
    "load_context",
    "mark_fixed",
    "next_candidates",
    "not_what_i_meant",
    "open_article",
    "prefill_for",
    "reply_to",
    "respond",
    "still_failing",
]
