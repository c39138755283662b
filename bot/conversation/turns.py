"""What the conversation engine answers with: one ``Turn`` per message or button.

A turn is data, not wording: the Slack side (``handlers/``, ``bot/messages.py``)
renders it into Block Kit. Article text comes from the knowledge base and is cut to
lengths a Slack block can show; everything else is ids, numbers and enums.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from bot.conversation.context import ThreadContext
from knowledge import Match
from knowledge.model import MAX_SUMMARY as MAX_SUMMARY  # the ref's limit is ours
from knowledge.model import ArticleRef

MAX_STEP: Final = 1_000
MAX_QUESTION: Final = 75  # a button label's limit
MAX_MATCHES: Final = 3
CANDIDATE_PAGE: Final = 3  # candidates shown at once (low confidence, "Not what I meant")


class TurnKind(StrEnum):
    ANSWER = "answer"  # an article for a question: summary and its first step
    EXPLANATION = "explanation"  # a pasted SMTP error: cause, fix (first step), article
    LOW_CONFIDENCE = "low_confidence"  # no sure answer: candidates and a human
    NEXT_STEP = "next_step"  # "Still failing": the current article's next step
    RELATED = "related"  # steps exhausted: related articles to try
    CANDIDATES = "candidates"  # "Not what I meant": the next search candidates
    RESOLVED = "resolved"  # "That fixed it"
    FAQ = "faq"  # a common question's answer, with the natural next question
    HUMAN = "human"  # nothing left to try here: offer a person
    NOTED = "noted"  # the message only said which provider/client/address; nothing asked


class Offer(StrEnum):
    """Buttons that make sense under a turn."""

    FIXED = "fixed"
    STILL_FAILING = "still_failing"
    LIVE_CHECK = "live_check"
    HUMAN = "human"
    NOT_WHAT_I_MEANT = "not_what_i_meant"


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    text: str
    index: int  # 0-based
    total: int

    @property
    def number(self) -> int:
        """1-based, for "Step 2 of 5"."""
        return self.index + 1

    @property
    def last(self) -> bool:
        return self.index + 1 >= self.total


@dataclass(frozen=True, slots=True, kw_only=True)
class Variant:
    """The provider or client whose version of the steps is shown."""

    id: str
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Question:
    """A question a button can ask: the article it opens and the words on the button."""

    article_id: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class KnownSettings:
    """What the live-check modal can be filled with from what the thread knows."""

    host: str | None = None
    port: int | None = None
    security: str | None = None  # starttls | tls
    email: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Turn:
    kind: TurnKind
    context: ThreadContext  # the thread's state after this turn (already stored)
    article: ArticleRef | None = None
    step: Step | None = None
    variant: Variant | None = None
    candidates: tuple[ArticleRef, ...] = ()
    matches: tuple[Match, ...] = ()
    offers: tuple[Offer, ...] = ()
    prefill: KnownSettings | None = None
    next_question: Question | None = None
    confidence: float | None = None  # the search's confidence, where a search ran
    repeat: bool = False  # RESOLVED only: the thread was already resolved (count it once)
