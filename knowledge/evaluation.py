"""Measure search and explain against the labelled sets in ``knowledge/eval``.

Shared by the quality test and ``bench/kb.py`` so both count the same way:
top-k means one of the question's acceptable articles is among the first k
answers; explain accuracy means the first match is the labelled reply.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import yaml

from bot.errors import KnowledgeError
from knowledge.explain import explain_reply
from knowledge.model import KnowledgeBase

EVAL_ROOT: Final = Path(__file__).resolve().parent / "eval"

Ranker = Callable[[str], Sequence[str]]  # question -> article ids, best first


@dataclass(frozen=True, slots=True)
class LabelledQuestion:
    question: str
    acceptable: frozenset[str]


@dataclass(frozen=True, slots=True)
class LabelledReply:
    text: str
    reply_id: str


@dataclass(frozen=True, slots=True)
class SearchScore:
    top1: float
    top3: float
    p50_ms: float
    p99_ms: float
    misses: tuple[tuple[str, tuple[str, ...]], ...]  # question, what came first


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
