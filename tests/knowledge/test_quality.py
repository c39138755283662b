"""Quality gates on the real knowledge base: search and explain against knowledge/eval."""

from __future__ import annotations

import pytest

from knowledge import KnowledgeBase, get_knowledge, search
from knowledge.evaluation import (
    EVAL_ROOT,
    load_questions,
    load_replies,
    score_explain,
    score_search,
)

TOP1 = 0.90
TOP3 = 0.97
EXPLAIN = 0.95


@pytest.fixture(scope="module")
def real_kb() -> KnowledgeBase:
    return get_knowledge()


@pytest.mark.skipif(not (EVAL_ROOT / "questions.yaml").exists(), reason="no eval questions yet")
def test_search_quality(real_kb: KnowledgeBase) -> None:
    """Top-1 >= 0.90 and top-3 >= 0.97 on the labelled questions."""
    questions = load_questions(real_kb)
    assert len(questions) >= 80
    result = score_search(
        questions, lambda q: [a.article.id for a in search(real_kb, q, limit=3).answers]
    )
    misses = "\n".join(f"{q!r} -> {got}" for q, got in result.misses)
    assert result.top1 >= TOP1, f"top-1 {result.top1:.3f}; misses:\n{misses}"
    assert result.top3 >= TOP3, f"top-3 {result.top3:.3f}; misses:\n{misses}"


@pytest.mark.skipif(not (EVAL_ROOT / "replies.yaml").exists(), reason="no eval replies yet")
def test_explain_quality(real_kb: KnowledgeBase) -> None:
    """The first match is the labelled reply for at least 95% of the labelled reply texts."""
    replies = load_replies(real_kb)
    assert len(replies) >= 40
    assert score_explain(real_kb, replies) >= EXPLAIN
