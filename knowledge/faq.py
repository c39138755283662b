"""``faq.yaml``: the question each article answers (its "common question" label) and
who can apply its fix, validated.

The file is optional for a knowledge root (test fixtures have none); when present,
every entry must name an existing article, ask a grammatical question that fits on a
button, and say who fixes it. ``tests/knowledge`` checks the shipped base covers every
article.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from bot.errors import KnowledgeError
from knowledge.entries import Entry, read_yaml
from knowledge.model import FaqEntry, FixedBy

FAQ_FILE: Final = "faq.yaml"
FAQ_FIELDS: Final = frozenset({"question", "fixed_by"})
QUESTION_MAX: Final = 75  # a button label's limit
_QUESTION: Final = re.compile(r"[A-Z\"].*\?")


def _parse(article_id: str, data: object) -> FaqEntry:
    entry = Entry(FAQ_FILE, article_id, data, FAQ_FIELDS)
    question = entry.text("question")
    if len(question) > QUESTION_MAX:
        entry.fail(f"'question' is {len(question)} characters; a button shows {QUESTION_MAX}")
    if not _QUESTION.fullmatch(question):
        entry.fail("'question' must start with a capital letter and end with '?'")
    fixed_by = entry.text("fixed_by")
    if fixed_by not in set(FixedBy):
        entry.fail(f"'fixed_by' must be one of {', '.join(FixedBy)}, not {fixed_by!r}")
    return FaqEntry(question=question, fixed_by=FixedBy(fixed_by))


def load_faq(root: Path, articles: Mapping[str, object]) -> dict[str, FaqEntry]:
    """Article id -> its FAQ entry (empty when the root has no faq.yaml)."""
    path = root / FAQ_FILE
    if not path.is_file():
        return {}
    data = read_yaml(path, FAQ_FILE)
    if not isinstance(data, dict):
        raise KnowledgeError(source=FAQ_FILE, entry=None, reason="must map article ids to entries")
    faq: dict[str, FaqEntry] = {}
    for article_id, raw in data.items():
        if article_id not in articles:
            raise KnowledgeError(
                source=FAQ_FILE, entry=str(article_id), reason="no article has this id"
            )
        faq[str(article_id)] = _parse(str(article_id), raw)
    return faq
