"""The reader baseline: one support person's picks for the dev questions of the real corpus.

``eval/real/reader.yaml`` holds, for every ``kind: question`` item of the **dev** split,
three articles a careful reader picked from the question text and the article list alone
(``bench/reader_sheet.py`` shows exactly that), and whether the text determines the cause
at all (``clear: false``: several articles are equally plausible). Scoring it against the
``ok`` labels says how much of the labelled answer the question text carries; scoring our
search on the clear and the unclear items apart says where its misses are. There is no
reader file for the held-out split, and there must never be one (it would mean reading it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import yaml

from bot.errors import KnowledgeError
from knowledge.evaluation import REAL_ROOT, ItemKind, LabelledQuestion, Ranker, RealItem
from knowledge.evaluation import score_search as _score_search
from knowledge.model import KnowledgeBase

READER_FILE: Final = "reader.yaml"
MAX_PICKS: Final = 3
SHEET_FIELDS: Final = ("id", "text")  # all the reader may see of a question


@dataclass(frozen=True, slots=True)
class ReaderPick:
    id: str
    picks: tuple[str, ...]  # best first
    clear: bool  # False: the question text alone leaves several causes equally plausible


@dataclass(frozen=True, slots=True)
class ReaderScore:
    top1: float
    top3: float
    unclear: float  # share of items marked clear: false
    ours_clear_top1: float  # our search's top-1 on the items the reader found clear
    ours_unclear_top1: float  # ... and on the unclear ones
    clear_count: int
    unclear_count: int


def question_sheet(root: Path = REAL_ROOT) -> list[dict[str, str]]:
    """The dev ``kind: question`` items reduced to ``id`` and ``text``: no ``ok``, ``cause``,
    ``fix``, ``source``, ``provider`` or ``stack``. Only ever reads ``dev.yaml``."""
    items = yaml.safe_load((root / "dev.yaml").read_text(encoding="utf-8"))
    return [
        {name: str(item[name]) for name in SHEET_FIELDS}
        for item in items
        if item.get("kind") == ItemKind.QUESTION.value
    ]


def article_sheet(kb: KnowledgeBase) -> list[tuple[str, str, str]]:
    """Every article's id, title and summary (whitespace folded), sorted by id."""
    return [
        (article.id, article.title, " ".join(article.summary.split()))
        for article in sorted(kb.articles.values(), key=lambda a: a.id)
    ]


def load_reader(kb: KnowledgeBase, root: Path = REAL_ROOT) -> tuple[ReaderPick, ...]:
    """``reader.yaml``: [{id, picks: [1-3 distinct known article ids], clear: bool}]."""
    source = f"real/{READER_FILE}"
    data = yaml.safe_load((root / READER_FILE).read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise KnowledgeError(source=source, entry=None, reason="must be a list of mappings")
    rows = []
    seen: set[str] = set()
    for index, item in enumerate(data):
        entry = str(item.get("id", f"#{index}")) if isinstance(item, dict) else f"#{index}"
        if not isinstance(item, dict) or set(item) != {"id", "picks", "clear"}:
            raise KnowledgeError(source=source, entry=entry, reason="needs id, picks, clear")
        picks, clear = item["picks"], item["clear"]
        if not isinstance(item["id"], str) or entry in seen:
            raise KnowledgeError(source=source, entry=entry, reason="bad or duplicate id")
        seen.add(entry)
        if (
            not isinstance(picks, list)
            or not 1 <= len(picks) <= MAX_PICKS
            or len(set(picks)) != len(picks)
        ):
            raise KnowledgeError(source=source, entry=entry, reason="picks: 1-3 distinct ids")
        unknown = [a for a in picks if a not in kb.articles]
        if unknown:
            raise KnowledgeError(source=source, entry=entry, reason=f"unknown article {unknown[0]}")
        if not isinstance(clear, bool):
            raise KnowledgeError(source=source, entry=entry, reason="clear must be true/false")
        rows.append(ReaderPick(entry, tuple(picks), clear))
    return tuple(rows)


def score_reader(
    items: Sequence[RealItem], reader: Sequence[ReaderPick], rank: Ranker
) -> ReaderScore:
    """The reader's top-1/top-3 against ``ok``, the unclear share, and ``rank``'s top-1 on
    the clear and the unclear questions apart. The reader must cover exactly the
    questions of ``items`` (a partial file would score a chosen subset)."""
    questions = {item.id: item for item in items if item.kind is ItemKind.QUESTION}
    if {row.id for row in reader} != set(questions):
        raise KnowledgeError(
            source=f"real/{READER_FILE}", entry=None, reason="must cover exactly the questions"
        )
    top1 = sum(row.picks[0] in questions[row.id].ok for row in reader)
    top3 = sum(bool(set(row.picks[:3]) & set(questions[row.id].ok)) for row in reader)

    def ours(clear: bool) -> tuple[float, int]:
        subset = [
            LabelledQuestion(questions[row.id].text, frozenset(questions[row.id].ok))
            for row in reader
            if row.clear is clear
        ]
        return _score_search(subset, rank).top1, len(subset)

    clear_top1, clear_count = ours(True)
    unclear_top1, unclear_count = ours(False)
    total = max(1, len(reader))
    return ReaderScore(
        top1=top1 / total,
        top3=top3 / total,
        unclear=unclear_count / total,
        ours_clear_top1=clear_top1,
        ours_unclear_top1=unclear_top1,
        clear_count=clear_count,
        unclear_count=unclear_count,
    )
