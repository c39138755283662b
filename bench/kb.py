"""Knowledge search and explain benchmark: the project's own sets and the real-world corpus.

Runs our search and, in the same process, a plain BM25 baseline (knowledge.bm25 over
each article's concatenated text, lower-cased whitespace tokens, no synonyms,
typo correction, field weights or explain) so the gain is measured, not claimed.

Six columns: ``own`` (knowledge/eval/questions.yaml and replies.yaml, written by the
project), ``dev`` and ``test`` (knowledge/eval/real, the held-out ``test`` split is
reported as aggregate figures only), ``wild`` (knowledge/eval/real/wild.yaml, pastes
from other public threads, tuning material like dev), ``programs``
(knowledge/eval/real/programs.yaml, the messages mail programs, libraries and servers
print, taken from their source code; tuning material too) and ``fresh``
(knowledge/eval/real/fresh.yaml, questions from other public threads that the index has
never seen; not tuned on, so like the held-out split only its aggregates are printed).
Explain top-1 on the real corpus is the first match's first article being acceptable (see
knowledge/evaluation.py); on ``own`` it is the first match being the labelled reply.
With ``dev``, a ``reader`` block follows the table: the reader baseline
(knowledge/eval/real/reader.yaml, one support person's picks from the question text and
the article list alone; dev only) scored against the labels, the share of questions the
reader marked unclear, and our search's top-1 on the clear and the unclear ones apart.
With ``dev``, also the 5-fold cross-validation on ``knowledge/data/asked.yaml``: each
fold's real questions are left out of the index and asked (tuning material, the figure
weights may be chosen on; ``knowledge.evaluation.cross_validate_asked``).
The last line is JSON: {"own": {...}, "dev": {...}, "test": {...}, "wild": {...},
"programs": {...}, "fresh": {...}, "reader": {...}, "asked cv": {...}}.

    python bench/kb.py [--repeat N] [--dev-misses] [--wild-misses] [--programs-misses]
                       [--splits own,dev,test,wild,programs,fresh]

``--splits own,dev,wild,programs`` leaves the held-out and fresh splits out (for tuning runs:
run test and fresh only when reporting).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from knowledge import KnowledgeBase, get_knowledge, search
from knowledge.evaluation import (
    LabelledQuestion,
    SearchScore,
    Split,
    asked_questions,
    cross_validate_asked,
    load_questions,
    load_real,
    load_replies,
    plain_bm25,
    real_questions,
    score_explain,
    score_explain_real,
    score_search,
)
from knowledge.loader import DEFAULT_ROOT
from knowledge.reader import ReaderScore, load_reader, score_reader

ROWS = (
    "explain top-1",
    "explain none",
    "ask top-1",
    "ask top-3",
    "BM25 top-1",
    "BM25 top-3",
    "ask p50 ms",
    "ask p99 ms",
    "explain p99 ms",
)


COLUMNS = ("own", *(split.value for split in Split))

READER_ROWS = (
    "reader top-1",
    "reader top-3",
    "reader unclear",
    "ask top-1 clear",
    "ask top-1 unclear",
)


def _ask(kb: KnowledgeBase, questions: Sequence[LabelledQuestion], repeat: int) -> SearchScore:
    return score_search(
        tuple(questions) * repeat, lambda q: [a.article.id for a in search(kb, q).answers]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="passes over the questions")
    parser.add_argument(
        "--dev-misses", action="store_true", help="list dev misses (never test ones)"
    )
    parser.add_argument(
        "--wild-misses", action="store_true", help="list wild misses (tuning material)"
    )
    parser.add_argument(
        "--programs-misses", action="store_true", help="list programs misses (tuning material)"
    )
    parser.add_argument(
        "--splits",
        default=",".join(COLUMNS),
        help=f"comma-separated columns to run: {', '.join(COLUMNS)} (default: all)",
    )
    args = parser.parse_args()
    repeat = max(1, args.repeat)
    wanted = {name.strip() for name in args.splits.split(",") if name.strip()}
    unknown = wanted - set(COLUMNS)
    if unknown or not wanted:
        parser.error(f"--splits takes {', '.join(COLUMNS)}; got {args.splits!r}")
    kb = get_knowledge()
    baseline = plain_bm25(kb)

    own_questions = load_questions(kb)
    for question in own_questions[:20]:  # warm caches the way a running bot has them
        search(kb, question.question)
    figures: dict[str, dict[str, float | None]] = {}
    counts: dict[str, str] = {}
    reader: ReaderScore | None = None
    if "own" in wanted:
        ours = _ask(kb, own_questions, repeat)
        base = score_search(own_questions, baseline)
        replies = load_replies(kb)
        figures["own"] = _column(score_explain(kb, replies), 0.0, ours, base, 0.0)
        counts["own"] = f"{len(replies)} replies, {len(own_questions)} questions"
    for split in Split:
        if split.value not in wanted:
            continue
        items = load_real(kb, split)
        questions = real_questions(items)
        explained = score_explain_real(kb, items)
        ours = _ask(kb, questions, repeat)
        base = score_search(questions, baseline)
        figures[split.value] = _column(
            explained.top1,
            explained.unexplained,
            ours,
            base,
            explained.p99_ms,
            has_questions=bool(questions),
            has_errors=len(items) > len(questions),
        )
        counts[split.value] = f"{len(items) - len(questions)} errors, {len(questions)} questions"
        if split is Split.DEV:
            reader = score_reader(
                items, load_reader(kb), lambda q: [a.article.id for a in search(kb, q).answers]
            )
        wants_misses = {
            Split.DEV: args.dev_misses,
            Split.WILD: args.wild_misses,
            Split.PROGRAMS: args.programs_misses,
        }
        if wants_misses.get(split):  # tuning splits only, never the held-out one
            for item_id, shown in explained.misses:
                print(f"{split.value} explain miss {item_id}: first article {shown}")
            for asked, got in ours.misses[: len(ours.misses) // repeat]:
                print(f"{split.value} ask miss {asked[:70]!r} -> {list(got)}")
    for name, text in counts.items():
        print(f"{name}: {text} (questions x{repeat} passes)")
    print(f"{'':16}" + "".join(f"{name:>10}" for name in figures))
    for row in ROWS:
        print(f"{row:16}" + "".join(_cell(column[row]) for column in figures.values()))
    output: dict[str, dict[str, float | None]] = dict(figures)
    if reader is not None:
        output["reader"] = _reader_rows(reader)
        print(
            f"reader (dev only, one reader): {reader.clear_count} clear, "
            f"{reader.unclear_count} unclear questions"
        )
        for row, value in output["reader"].items():
            print(f"{row:18}{value:8.3f}")
    if "dev" in wanted:
        crossed = cross_validate_asked(kb, asked_questions(DEFAULT_ROOT))
        output["asked cv"] = {
            "ask top-1": round(crossed.top1, 3),
            "ask top-3": round(crossed.top3, 3),
        }
        print(
            f"asked.yaml, 5-fold cross-validation (each fold left out of the index): "
            f"ask top-1 {crossed.top1:.3f}, top-3 {crossed.top3:.3f}"
        )
    print(json.dumps(output))


def _reader_rows(reader: ReaderScore) -> dict[str, float | None]:
    values = (
        reader.top1,
        reader.top3,
        reader.unclear,
        reader.ours_clear_top1,
        reader.ours_unclear_top1,
    )
    return {row: round(value, 3) for row, value in zip(READER_ROWS, values, strict=True)}


def _cell(value: float | None) -> str:
    return f"{'-':>10}" if value is None else f"{value:10.3f}"


def _column(
    explain: float,
    unexplained: float,
    ours: SearchScore,
    base: SearchScore,
    explain_p99: float,
    *,
    has_questions: bool = True,
    has_errors: bool = True,
) -> dict[str, float | None]:
    """One column; a split without questions (wild: pastes only) shows "-" for ask rows,
    one without pastes (fresh: questions only) "-" for explain rows."""
    values = (
        explain,
        unexplained,
        ours.top1,
        ours.top3,
        base.top1,
        base.top3,
        ours.p50_ms,
        ours.p99_ms,
        explain_p99,
    )
    asks = {"ask top-1", "ask top-3", "BM25 top-1", "BM25 top-3", "ask p50 ms", "ask p99 ms"}
    return {
        row: None
        if (row in asks and not has_questions) or (row not in asks and not has_errors)
        else round(value, 3)
        for row, value in zip(ROWS, values, strict=True)
    }


if __name__ == "__main__":
    main()
