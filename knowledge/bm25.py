"""Okapi BM25 in plain Python: the search index's scorer and the benchmark's baseline.

The formula is the classic one (and rank_bm25's ``BM25Okapi``, which this replaces so
that importing the search no longer imports numpy): for a term t in document d,

    idf(t) * f(t, d) * (k1 + 1) / (f(t, d) + k1 * (1 - b + b * |d| / avgdl))

with idf(t) = log((N - n(t) + 0.5) / (n(t) + 0.5)), and terms in more than half the
documents (negative idf) floored at ``epsilon`` times the mean idf.

``term_scores`` gives each term's per-document contribution once, sparsely, so a
query is a few dictionary look-ups; ``PlainBM25`` is the baseline ``bench/kb.py``
reports: whole-text documents, lower-cased word tokens, nothing else.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Final

K1: Final = 1.5
B: Final = 0.75
EPSILON: Final = 0.25

Postings = Mapping[int, float]  # document index -> this term's score in it
_WORD: Final = re.compile(r"\w+")


def term_scores(
    corpus: Sequence[Sequence[str]],
    *,
    weight: float = 1.0,
    k1: float = K1,
    b: float = B,
    idf: Mapping[str, float] | None = None,
    blend: float = 1.0,
) -> dict[str, dict[int, float]]:
    """term -> {document index: weighted BM25 contribution} for every term of ``corpus``.

    ``idf``: the terms' idf taken from elsewhere (for one field of a document, the idf
    over whole documents, so a word common everywhere but rare in titles is not rare),
    mixed in at ``blend`` (1: only it, 0: only this corpus's own idf).
    """
    if not corpus:
        return {}
    lengths = [len(doc) for doc in corpus]
    avgdl = sum(lengths) / len(corpus) or 1.0
    counts = [Counter(doc) for doc in corpus]
    df: Counter[str] = Counter()
    for count in counts:
        df.update(count.keys())
    n = len(corpus)
    own = {term: math.log((n - freq + 0.5) / (freq + 0.5)) for term, freq in df.items()}
    if idf is not None:
        own = {
            term: blend * idf.get(term, value) + (1 - blend) * value for term, value in own.items()
        }
    floor = EPSILON * (sum(own.values()) / len(own)) if own else 0.0
    result: dict[str, dict[int, float]] = {}
    for index, count in enumerate(counts):
        norm = k1 * (1 - b + b * lengths[index] / avgdl)
        for term, freq in count.items():
            value = own[term] if own[term] >= 0 else floor
            score = weight * value * freq * (k1 + 1) / (freq + norm)
            result.setdefault(term, {})[index] = score
    return result


class PlainBM25:
    """The plain-BM25 baseline: ``get_scores(query_terms)`` -> one score per document."""

    def __init__(self, corpus: Sequence[Sequence[str]]) -> None:
        self._size = len(corpus)
        self._terms = term_scores(corpus)

    @staticmethod
    def words(text: str) -> list[str]:
        """The baseline's tokens: lower-cased ``\\w+`` runs, no synonyms or stemming."""
        return _WORD.findall(text.lower())

    def get_scores(self, query: Sequence[str]) -> list[float]:
        scores = [0.0] * self._size
        for term in query:
            for index, value in self._terms.get(term, {}).items():
                scores[index] += value
        return scores

    def rank(self, query: Sequence[str], limit: int = 5) -> list[int]:
        """Document indexes, best first (ties in corpus order)."""
        scores = self.get_scores(query)
        return sorted(range(self._size), key=lambda i: -scores[i])[:limit]
