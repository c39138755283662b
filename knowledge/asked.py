"""``asked.yaml``: questions as real people asked them, added to their article's questions.

The articles' own ``questions`` were written with the articles and share their words;
real questions are vaguer, misspelt, in other languages, and tell a situation instead of
naming a cause. Each entry here is one such question, written in our own words from a
public thread whose answer established the cause, with the thread's URL and the article
that answers it. They are tuning material: the loader appends them to the article's
``questions`` (so search indexes them like the others), and none may come from the
held-out split of ``eval/real`` (``tests/knowledge/test_asked.py`` enforces that).

The file is optional for a knowledge root (test fixtures have none).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from bot.errors import KnowledgeError
from knowledge.entries import URL, Entry, read_yaml
from knowledge.model import Article

ASKED_FILE: Final = "asked.yaml"
ASKED_FIELDS: Final = frozenset({"article", "question", "source"})


def _key(question: str) -> str:
    return " ".join(question.casefold().split())


def with_asked(
    root: Path, articles: Mapping[str, tuple[str, Article]]
) -> dict[str, tuple[str, Article]]:
    """``articles`` with every ``asked.yaml`` question appended to its article's questions."""
    path = root / ASKED_FILE
    if not path.is_file():
        return dict(articles)
    data = read_yaml(path, ASKED_FILE)
    if not isinstance(data, list):
        raise KnowledgeError(source=ASKED_FILE, entry=None, reason="must be a list of entries")
    seen = {_key(q): f"articles/{a.id}" for _, a in articles.values() for q in a.questions}
    added: dict[str, list[str]] = {}
    for index, raw in enumerate(data):
        entry = Entry(ASKED_FILE, f"#{index}", raw, ASKED_FIELDS)
        article_id = entry.text("article")
        if article_id not in articles:
            entry.fail(f"article id {article_id!r} does not exist")
        question = entry.text("question")
        source = entry.text("source")
        if not URL.fullmatch(source):
            entry.fail(f"'source' {source!r} is not an http(s) URL")
        first = seen.setdefault(_key(question), f"#{index}")
        if first != f"#{index}":
            entry.fail(f"duplicate question (also in {first})")
        added.setdefault(article_id, []).append(question)
    return {
        article_id: (source, _extend(article, added.get(article_id, ())))
        for article_id, (source, article) in articles.items()
    }


def _extend(article: Article, questions: list[str] | tuple[()]) -> Article:
    if not questions:
        return article
    return dataclasses.replace(article, questions=(*article.questions, *questions))
