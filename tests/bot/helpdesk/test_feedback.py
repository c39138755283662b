"""The feedback loop's store side: votes, escalations, rates and the review list."""

from __future__ import annotations

from bot.helpdesk.feedback import REVIEW_KEPT, Feedback, FeedbackSummary, ReviewReason
from bot.helpdesk.model import ThreadOutcomes
from bot.store import MemoryStore


async def test_review_list_is_redacted_deduplicated_newest_first_and_capped() -> None:
    """Secrets are removed before storing; the same wording is listed once (moved to the
    top); the list keeps the newest REVIEW_KEPT."""
    clock = iter(range(1_000, 2_000)).__next__
    feedback = Feedback(MemoryStore(), clock=lambda: float(clock()))
    await feedback.review("smtp fails pass: Canary-9", ReviewReason.NOT_CONFIDENT)
    await feedback.review("Other  question", ReviewReason.NOT_HELPFUL)
    await feedback.review("other question!", ReviewReason.NOT_CONFIDENT)
    items = await feedback.to_review()
    assert [i.question for i in items] == ["other question!", "smtp fails pass: [redacted]"]
    for n in range(REVIEW_KEPT + 5):
        await feedback.review(f"question {n}", ReviewReason.NOT_CONFIDENT)
    items = await feedback.to_review()
    assert len(items) == REVIEW_KEPT and items[0].question == f"question {REVIEW_KEPT + 4}"


async def test_votes_escalations_and_rates() -> None:
    """Counts per window; the rates are the help threads' (None without threads)."""
    feedback = Feedback(MemoryStore())
    await feedback.vote(helpful=True, question=None)
    await feedback.vote(helpful=False, question="why")
    await feedback.escalated()
    threads = ThreadOutcomes(threads=4, deflected=2, escalated=1)
    summary = await feedback.summary(7, threads=threads)
    assert (summary.helpful, summary.not_helpful, summary.escalations) == (1, 1, 1)
    assert summary.deflection_rate == 0.5 and summary.escalation_rate == 0.25
    assert [i.question for i in await feedback.to_review()] == ["why"]
    empty = FeedbackSummary(helpful=0, not_helpful=0, escalations=0)
    assert empty.deflection_rate is None and empty.escalation_rate is None
