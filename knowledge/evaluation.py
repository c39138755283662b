"""Measure search and explain against the labelled sets in ``knowledge/eval``.

Shared by the quality test and ``bench/kb.py`` so both count the same way:
top-k means one of the question's acceptable articles is among the first k
answers; explain accuracy (the project's own ``replies.yaml``) means the first
match is the labelled reply.

The real-world corpus (``eval/real/{dev,test}.yaml``, see its README) is labelled
with article ids, not reply ids, so explain is judged there by what the person
reads first: **explain top-1** is a hit when ``explain_reply`` returns at least one
match and the FIRST match's FIRST article (the cause-and-fix article the CLI and
Slack show first) is one of the item's ``ok`` ids. No match, or a first match whose
first article is not acceptable, is a miss. Ask top-1/top-3 on ``kind: question``
items are the first one/three ids of ``search`` answers.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Final

import yaml

from bot.errors import KnowledgeError
from knowledge.bm25 import PlainBM25
from knowledge.explain import explain_reply, explain_text
from knowledge.model import KnowledgeBase

EVAL_ROOT: Final = Path(__file__).resolve().parent / "eval"
REAL_ROOT: Final = EVAL_ROOT / "real"
REAL_FIELDS: Final = ("id", "kind", "text", "source", "stack", "provider", "cause", "fix", "ok")

Ranker = Callable[[str], Sequence[str]]  # question -> article ids, best first
_WORD: Final = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class LabelledQuestion:
    question: str
    acceptable: frozenset[str]


@dataclass(frozen=True, slots=True)
class LabelledReply:
    text: str
    reply_id: str


class Split(StrEnum):
    DEV = "dev"
    TEST = "test"  # held out: report its aggregate numbers only, never tune on it
    WILD = "wild"  # tuning material like dev: pastes from other public threads (README)
    PROGRAMS = "programs"  # tuning material: messages taken from mail programs' source code
    FRESH = "fresh"  # questions from other threads, never indexed nor tuned on (README)


class ItemKind(StrEnum):
    ERROR = "error"
    QUESTION = "question"


@dataclass(frozen=True, slots=True)
class RealItem:
    id: str
    kind: ItemKind
    text: str
    ok: tuple[str, ...]  # acceptable first articles, best first


@dataclass(frozen=True, slots=True)
class ExplainScore:
    top1: float
    unexplained: float  # share of pastes with no match at all (the rest matched something)
    p50_ms: float
    p99_ms: float
    # item id, first article shown (None: no match); kept out of repr so that a failing
    # held-out gate never prints which held-out items missed
    misses: tuple[tuple[str, str | None], ...] = field(repr=False)


@dataclass(frozen=True, slots=True)
class SearchScore:
    top1: float
    top3: float
    p50_ms: float
    p99_ms: float
    misses: tuple[tuple[str, tuple[str, ...]], ...] = field(repr=False)  # question, what came first


def _load(path: Path) -> list[dict[str, object]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise KnowledgeError(source=path.name, entry=None, reason="must be a list of mappings")
    return data


def load_questions(kb: KnowledgeBase, root: Path = EVAL_ROOT) -> tuple[LabelledQuestion, ...]:
    """questions.yaml: [{q, ok: [article ids]}]; every id must exist."""
    items = []
    for index, item in enumerate(_load(root / "questions.yaml")):
        question, ok = item.get("q"), item.get("ok")
        if not isinstance(question, str) or not isinstance(ok, list) or not ok:
            raise KnowledgeError(source="questions.yaml", entry=f"#{index}", reason="needs q, ok")
        unknown = [a for a in ok if a not in kb.articles]
        if unknown:
            raise KnowledgeError(
                source="questions.yaml", entry=f"#{index}", reason=f"unknown article {unknown[0]}"
            )
        items.append(LabelledQuestion(question, frozenset(ok)))
    return tuple(items)


def load_replies(kb: KnowledgeBase, root: Path = EVAL_ROOT) -> tuple[LabelledReply, ...]:
    """replies.yaml: [{text, reply_id}]; every reply id must exist."""
    known = {reply.id for reply in kb.replies}
    items = []
    for index, item in enumerate(_load(root / "replies.yaml")):
        text, reply_id = item.get("text"), item.get("reply_id")
        if not isinstance(text, str) or reply_id not in known:
            raise KnowledgeError(
                source="replies.yaml", entry=f"#{index}", reason=f"bad text or reply_id {reply_id}"
            )
        items.append(LabelledReply(text, str(reply_id)))
    return tuple(items)


def load_real(kb: KnowledgeBase, split: Split, root: Path = REAL_ROOT) -> tuple[RealItem, ...]:
    """One split of the real corpus; every field present and every ``ok`` id a known article.

    An item naming an article that does not exist yet fails the load (it is never
    skipped): a corpus that silently shrinks would make the figures look better.
    """
    source = f"real/{split.value}.yaml"
    items = []
    seen: set[str] = set()
    for index, item in enumerate(_load(root / f"{split.value}.yaml")):
        entry = str(item.get("id", f"#{index}"))
        missing = [name for name in REAL_FIELDS if name not in item]
        if missing:
            raise KnowledgeError(source=source, entry=entry, reason=f"missing {missing[0]}")
        text, kind, ok = item["text"], item["kind"], item["ok"]
        if entry in seen:
            raise KnowledgeError(source=source, entry=entry, reason="duplicate id")
        seen.add(entry)
        if kind not in {k.value for k in ItemKind}:
            raise KnowledgeError(source=source, entry=entry, reason=f"unknown kind {kind!r}")
        if not isinstance(text, str) or not text.strip():
            raise KnowledgeError(source=source, entry=entry, reason="text must be a string")
        if not isinstance(ok, list) or not ok or not all(isinstance(a, str) for a in ok):
            raise KnowledgeError(source=source, entry=entry, reason="ok must list article ids")
        unknown = [a for a in ok if a not in kb.articles]
        if unknown:
            raise KnowledgeError(source=source, entry=entry, reason=f"unknown article {unknown[0]}")
        items.append(RealItem(entry, ItemKind(kind), text, tuple(ok)))
    return tuple(items)


def real_questions(items: Sequence[RealItem]) -> tuple[LabelledQuestion, ...]:
    """The ``kind: question`` items, in the shape ``score_search`` takes."""
    return tuple(
        LabelledQuestion(item.text, frozenset(item.ok))
        for item in items
        if item.kind is ItemKind.QUESTION
    )


def score_explain_real(kb: KnowledgeBase, items: Sequence[RealItem]) -> ExplainScore:
    """Explain top-1 over the ``kind: error`` items (see the module docstring)."""
    hits = 0
    errors = [item for item in items if item.kind is ItemKind.ERROR]
    latencies: list[float] = []
    misses = []
    unexplained = 0
    for item in errors:
        started = time.perf_counter()
        matches = explain_text(kb, item.text).matches  # as `smtpcheck explain` sees a paste
        latencies.append((time.perf_counter() - started) * 1000)
        unexplained += not matches
        first = matches[0].articles[0] if matches and matches[0].articles else None
        if first is not None and first in item.ok:
            hits += 1
        else:
            misses.append((item.id, first))
    return ExplainScore(
        top1=hits / max(1, len(errors)),
        unexplained=unexplained / max(1, len(errors)),
        p50_ms=_percentile(latencies, 0.5),
        p99_ms=_percentile(latencies, 0.99),
        misses=tuple(misses),
    )


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def score_search(questions: Sequence[LabelledQuestion], rank: Ranker) -> SearchScore:
    """Top-1/top-3 accuracy and per-query latency of ``rank`` over ``questions``."""
    top1 = top3 = 0
    latencies: list[float] = []
    misses = []
    for item in questions:
        started = time.perf_counter()
        ids = tuple(rank(item.question))
        latencies.append((time.perf_counter() - started) * 1000)
        if ids[:1] and ids[0] in item.acceptable:
            top1 += 1
        else:
            misses.append((item.question, ids[:3]))
        top3 += bool(item.acceptable.intersection(ids[:3]))
    total = max(1, len(questions))
    return SearchScore(
        top1=top1 / total,
        top3=top3 / total,
        p50_ms=_percentile(latencies, 0.5),
        p99_ms=_percentile(latencies, 0.99),
        misses=tuple(misses),
    )


def score_explain(kb: KnowledgeBase, replies: Sequence[LabelledReply]) -> float:
    """Share of labelled replies whose first match is the labelled pattern."""
    hits = 0
    for item in replies:
        matches = explain_reply(kb, item.text)
        hits += bool(matches) and matches[0].reply_id == item.reply_id
    return hits / max(1, len(replies))


def plain_bm25(kb: KnowledgeBase) -> Ranker:
    """The baseline: plain BM25 (``knowledge.bm25``, rank_bm25's ``BM25Okapi`` formula)
    over each article's concatenated text, lower-cased word tokens, no synonyms, typo
    correction, field weights or explain."""
    ids = list(kb.articles)
    corpus = [
        _WORD.findall(" ".join([a.title, a.summary, *a.steps, *a.questions, *a.tags]).lower())
        for a in kb.articles.values()
    ]
    bm25 = PlainBM25(corpus)

    def rank(question: str) -> list[str]:
        scores = bm25.get_scores(_WORD.findall(question.lower()))
        return [ids[i] for i in sorted(range(len(ids)), key=lambda i: -scores[i])[:5]]

    return rank


def asked_questions(root: Path) -> tuple[LabelledQuestion, ...]:
    """The ``asked.yaml`` entries of knowledge ``root`` as labelled questions, in file order."""
    from knowledge.asked import ASKED_FILE

    return tuple(
        LabelledQuestion(str(item["question"]), frozenset({str(item["article"])}))
        for item in _load(root / ASKED_FILE)
    )


def cross_validate_asked(
    kb: KnowledgeBase, entries: Sequence[LabelledQuestion], folds: int = 5
) -> SearchScore:
    """Ask each ``asked.yaml`` question with its fold's questions left out of the index.

    Fold k holds every k-th entry. These are real questions the index has not seen, like
    the held-out split's, but tuning material: weights may be chosen on this figure,
    never on the held-out one. (Questions are unique: the loader refuses duplicates.)
    """
    from knowledge.search import search

    folds = max(2, folds)
    index_for: dict[str, KnowledgeBase] = {}
    for k in range(folds):
        left_out = {entry.question for entry in entries[k::folds]}
        articles = {
            article_id: dataclasses.replace(
                article, questions=tuple(q for q in article.questions if q not in left_out)
            )
            for article_id, article in kb.articles.items()
        }
        trained = dataclasses.replace(kb, articles=articles)
        index_for.update(dict.fromkeys(left_out, trained))
    return score_search(
        entries,
        lambda question: [a.article.id for a in search(index_for[question], question).answers],
    )
