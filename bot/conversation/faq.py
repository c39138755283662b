"""Common questions: the articles the content itself marks as central, phrased as questions."""

from __future__ import annotations

import weakref
from collections import Counter
from collections.abc import Mapping
from typing import Final

from bot.conversation.turns import (
    MAX_QUESTION,
    Question,
)
from knowledge import Article, KnowledgeBase, explain_reply
from knowledge.model import one_line

FAQ_LIMIT: Final = 25

_faq_cache: weakref.WeakKeyDictionary[KnowledgeBase, tuple[tuple[str, Question], ...]] = (
    weakref.WeakKeyDictionary()
)


def _centrality(kb: KnowledgeBase) -> Mapping[str, int]:
    """How central an article is: articles pointing to it plus reply patterns leading with it.

    Both are editorial judgements already in the data ("see also" links, "this error is
    explained by"), so the FAQ follows the content without a list of its own.
    """
    score: Counter[str] = Counter()
    score.update(r for a in kb.articles.values() for r in a.related if r != a.id)
    score.update(p.articles[0] for p in kb.replies if p.articles)
    return score


def faq_question(kb: KnowledgeBase, article: Article) -> Question:
    """The article's question as written in ``faq.yaml``; for a knowledge base without
    one, its first example question that reads as a question (not a pasted error) and
    fits on a button, or the title when none does."""
    written = kb.faq.get(article.id)
    if written is not None:
        return Question(article_id=article.id, text=written.question)
    fitting = [q for q in article.questions if len(q) <= MAX_QUESTION and not explain_reply(kb, q)]
    text = fitting[0] if fitting else article.title
    text = text[:1].upper() + text[1:]
    if fitting and not text.endswith("?"):
        text += "?"
    return Question(article_id=article.id, text=one_line(text, MAX_QUESTION))


def _faq(kb: KnowledgeBase) -> tuple[tuple[str, Question], ...]:
    found = _faq_cache.get(kb)
    if found is None:
        score = _centrality(kb)
        order = {article_id: i for i, article_id in enumerate(kb.articles)}
        ranked = sorted(kb.articles, key=lambda a: (-score[a], order[a]))
        found = _faq_cache[kb] = tuple((a, faq_question(kb, kb.articles[a])) for a in ranked)
    return found


def common_questions(kb: KnowledgeBase, n: int = 8, *, start: int = 0) -> list[tuple[str, str]]:
    """The ``n`` (at most ``FAQ_LIMIT``) most central articles as (article id, question),
    from the ``start``-th on (a page of the list)."""
    n = max(0, min(n, FAQ_LIMIT))
    start = max(0, start)
    return [(article_id, question.text) for article_id, question in _faq(kb)[start : start + n]]


def faq_count(kb: KnowledgeBase) -> int:
    """How many common questions there are (one per article): the pages to offer."""
    return len(_faq(kb))
