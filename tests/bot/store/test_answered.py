"""Contract: the question behind an answer with no thread, kept under a random token
for a later "Not helpful" vote. Runs against MemoryStore and RedisStore alike."""

from __future__ import annotations

from bot.helpdesk.feedback import QUESTION_MAX, Feedback, new_answer_token
from bot.store import RedisStore
from tests.bot.store.support import StoreCase, dump_keys, redis_client, scan_ttls

CANARY = "Canary-Pw-44710"


async def test_question_is_kept_redacted_clipped_and_read_by_another_process(
    case: StoreCase,
) -> None:
    """Another process finds the question by its token; the password never reaches the
    store; the text is one line, at most QUESTION_MAX characters; tokens differ."""
    token = new_answer_token()
    assert token != new_answer_token() and len(token) == 16
    question = f"outlook  keeps\nasking, password={CANARY} " + "x" * 400
    await Feedback(case.store).remember_answered(token, question)
    peer = await case.open_peer()
    try:
        kept = await Feedback(peer).answered(token)
    finally:
        if peer is not case.store:
            await peer.close()
    assert kept is not None and kept.startswith("outlook keeps asking, password=[redacted] x")
    assert len(kept) == QUESTION_MAX and CANARY not in kept
    assert await Feedback(case.store).answered(new_answer_token()) is None
    if isinstance(case.store, RedisStore):
        client = redis_client()
        try:
            dumped = await dump_keys(client, f"{case.namespace}:*")
        finally:
            await client.aclose()
        assert "answered:" in dumped and CANARY not in dumped
        ttls = await scan_ttls(case.namespace)
        assert all(0 < ttl <= 7 * 24 * 3600 * 1000 for ttl in ttls.values()), ttls


async def test_question_expires_with_its_ttl(case: StoreCase) -> None:
    token = new_answer_token()
    feedback = Feedback(case.store)
    await feedback.remember_answered(token, "why does gmail refuse my login", ttl=1.0)
    assert await feedback.answered(token) == "why does gmail refuse my login"
    await case.timeline.advance(1.3)
    assert await feedback.answered(token) is None


async def test_forged_tokens_and_empty_questions_touch_nothing(case: StoreCase) -> None:
    """A value that is not a token (spaces, key separators, too short) is never looked
    up nor stored; a question with no words is not kept."""
    feedback = Feedback(case.store)
    for forged in ("", "short", "../../thread:D1:1.2", "a b c d e f g h i j", "x" * 60):
        await feedback.remember_answered(forged, "a real question")
        assert await feedback.answered(forged) is None
    token = new_answer_token()
    await feedback.remember_answered(token, "  ?!  ")
    assert await feedback.answered(token) is None
