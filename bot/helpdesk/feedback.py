"""The feedback loop: Helpful / Not helpful votes, escalations, and the questions the
knowledge base could not answer well, for admins to grow it from.

No Slack and no user names: a vote is a count per UTC day; a question to review is
its redacted text (``bot.redaction`` runs here, before anything is stored), why it is
listed, and when. The list is a store journal with a TTL: deduplicated on the
normalised text, newest first, capped, each addition one atomic store operation.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Final

from bot.helpdesk.model import NO_THREADS, ThreadOutcomes
from bot.helpdesk.webhook import Failure, recent_failures
from bot.redaction import redact_credentials
from bot.store import keys
from bot.store.base import HelpdeskStore

HELPFUL: Final = "feedback.helpful"
NOT_HELPFUL: Final = "feedback.not-helpful"
ESCALATED: Final = "feedback.escalated"
REVIEW_JOURNAL: Final = keys.feedback_review()
REVIEW_TTL: Final = 30 * 24 * 3600.0
REVIEW_KEPT: Final = 40  # entries kept: four pages of the admins' list
QUESTION_MAX: Final = 200
DEDUPE_MAX: Final = 200
# An answer with no thread (``/smtpcheck <question>``, the message shortcut) keeps its
# redacted question under a random token its "Not helpful" button carries: a vote finds
# the question without any typed text in the button, for as long as a vote is likely.
ANSWERED_TTL: Final = 7 * 24 * 3600.0
ANSWERED_FIELD: Final = "q"
_TOKEN: Final = re.compile(r"[A-Za-z0-9_-]{16,43}")


def new_answer_token() -> str:
    """A fresh random token for one answer (16 URL-safe characters, 96 bits)."""
    return secrets.token_urlsafe(12)


class ReviewReason(StrEnum):
    """Why a question is on the admins' list."""

    NOT_CONFIDENT = "not_confident"  # the search had no sure answer
    NOT_HELPFUL = "not_helpful"  # someone voted the answer "Not helpful"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewItem:
    question: str
    reason: ReviewReason
    at: float


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedbackSummary:
    """Votes and escalations over a window, beside the help threads' outcomes."""

    helpful: int
    not_helpful: int
    escalations: int  # every escalation: help threads and checks
    threads: ThreadOutcomes = NO_THREADS
    webhook_failures: tuple[Failure, ...] = ()  # escalations the ticketing webhook lost

    @property
    def deflection_rate(self) -> float | None:
        """Help threads solved by "That fixed it", never escalated / help threads."""
        return self.threads.deflection_rate

    @property
    def escalation_rate(self) -> float | None:
        """Help threads escalated / help threads."""
        return self.threads.escalation_rate


def _normal(text: str) -> str:
    return re.sub(r"\W+", " ", text).strip().lower()


def _clean(question: str) -> str:
    """One line, credentials redacted (before anything is stored), clipped."""
    return redact_credentials(" ".join(question.split())).text[:QUESTION_MAX]


def _day(at: float) -> date:
    return datetime.fromtimestamp(at, tz=UTC).date()


class Feedback:
    def __init__(self, store: HelpdeskStore, *, clock: Callable[[], float] = time.time) -> None:
        self._store = store
        self._clock = clock

    async def vote(self, *, helpful: bool, question: str | None) -> None:
        """Count a vote; a "Not helpful" puts its question (redacted) on the review list."""
        now = self._clock()
        await self._store.record_event(HELPFUL if helpful else NOT_HELPFUL, None, _day(now))
        if not helpful and question:
            await self.review(question, ReviewReason.NOT_HELPFUL)

    async def escalated(self) -> None:
        await self._store.record_event(ESCALATED, None, _day(self._clock()))

    async def remember_answered(
        self, token: str, question: str, *, ttl: float = ANSWERED_TTL
    ) -> None:
        """Keep ``question`` (redacted, clipped) under ``token`` for ``ttl`` seconds, for
        a "Not helpful" vote on an answer that has no thread to find it in."""
        text = _clean(question)
        if _TOKEN.fullmatch(token) and _normal(text):
            await self._store.update_thread(
                keys.answered_question(token), {ANSWERED_FIELD: text}, ttl=ttl
            )

    async def answered(self, token: str) -> str | None:
        """The question kept under ``token`` (None: unknown, expired or not a token)."""
        if not _TOKEN.fullmatch(token):
            return None
        value = (await self._store.get_thread(keys.answered_question(token))).get(ANSWERED_FIELD)
        return value if isinstance(value, str) and value else None

    async def review(self, question: str, reason: ReviewReason) -> None:
        """Put ``question`` on the list (newest first, once per wording), secrets removed.

        One atomic store step (``push_entry``): two processes listing questions at the
        same moment both keep theirs, and the same wording twice stays one entry."""
        text = _clean(question)
        normal = _normal(text)
        if not normal:
            return
        now = self._clock()
        await self._store.push_entry(
            REVIEW_JOURNAL,
            {"q": text, "r": reason.value, "at": now},
            dedupe=normal[:DEDUPE_MAX],
            at=now,
            keep=REVIEW_KEPT,
            ttl=REVIEW_TTL,
        )

    async def to_review(self) -> list[ReviewItem]:
        """The review list, newest first."""
        items: list[ReviewItem] = []
        for entry in await self._store.entries(REVIEW_JOURNAL, REVIEW_KEPT):
            question, reason, at = entry.get("q"), entry.get("r"), entry.get("at")
            if isinstance(question, str) and reason in set(ReviewReason):
                moment = float(at) if isinstance(at, int | float) else 0.0
                items.append(ReviewItem(question=question, reason=ReviewReason(reason), at=moment))
        return items

    async def summary(self, days: int, *, threads: ThreadOutcomes = NO_THREADS) -> FeedbackSummary:
        today = _day(self._clock())
        span: Sequence[date] = [today - timedelta(days=n) for n in range(days)]

        async def total(kind: str) -> int:
            return sum((await self._store.event_counts(kind, span)).values())

        return FeedbackSummary(
            helpful=await total(HELPFUL),
            not_helpful=await total(NOT_HELPFUL),
            escalations=await total(ESCALATED),
            threads=threads,
            webhook_failures=tuple(await recent_failures(self._store)),
        )
