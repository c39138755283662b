"""Knowledge search and explain benchmark: accuracy and per-query latency on knowledge/eval.

Runs our search and, in the same process, a plain BM25 baseline (rank_bm25 over
each article's concatenated text, lower-cased whitespace tokens, no synonyms,
typo correction, field weights or explain) so the gain is measured, not claimed.
The last line is JSON: {"top1", "top3", "p99_ms", "baseline_top1", "explain_accuracy"}.

    python bench/kb.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from rank_bm25 import BM25Okapi

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from knowledge import KnowledgeBase, get_knowledge, search
from knowledge.evaluation import (
    load_questions,
    load_replies,
    score_explain,
    score_search,
)

_WORD = re.compile(r"\w+")


def plain_bm25(kb: KnowledgeBase) -> tuple[BM25Okapi, list[str]]:
    ids = list(kb.articles)
    corpus = [
        _WORD.findall(" ".join([a.title, a.summary, *a.steps, *a.questions, *a.tags]).lower())
        for a in kb.articles.values()
    ]
    return BM25Okapi(corpus), ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="passes over the questions")
    args = parser.parse_args()
    kb = get_knowledge()
    questions = load_questions(kb) * max(1, args.repeat)
    replies = load_replies(kb)
    for question in questions[:20]:  # warm caches the way a running bot has them
        search(kb, question.question)

    ours = score_search(questions, lambda q: [a.article.id for a in search(kb, q).answers])
    bm25, ids = plain_bm25(kb)

    def baseline(question: str) -> list[str]:
        scores = bm25.get_scores(_WORD.findall(question.lower()))
        return [ids[i] for i in sorted(range(len(ids)), key=lambda i: -scores[i])[:5]]

    base = score_search(questions, baseline)
    explain_accuracy = score_explain(kb, replies)
    distinct = len(questions) // max(1, args.repeat)
    print(f"questions: {distinct} (x{args.repeat} passes), replies: {len(replies)}")
    print(f"{'':14}{'top-1':>8}{'top-3':>8}{'p50 ms':>9}{'p99 ms':>9}")
    for name, score in (("smtpcheck", ours), ("plain BM25", base)):
        print(f"{name:14}{score.top1:8.3f}{score.top3:8.3f}{score.p50_ms:9.3f}{score.p99_ms:9.3f}")
    print(f"explain accuracy: {explain_accuracy:.3f}")
    print(
        json.dumps(
            {
                "top1": round(ours.top1, 3),
                "top3": round(ours.top3, 3),
                "p99_ms": round(ours.p99_ms, 3),
                "baseline_top1": round(base.top1, 3),
                "explain_accuracy": round(explain_accuracy, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
