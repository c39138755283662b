"""A naive Bayes classifier over the articles' example questions, for ``knowledge.search``.

BM25 finds the article whose words a question shares, one example question at a time; the
classifier learns which words (and word pairs) tell one article from the others across all
of an article's example questions, most of them real ones (``asked.yaml``). Search adds its
probability to the best few articles of its own ranking (``add_classifier``).

Weights were chosen by 5-fold cross-validation on asked.yaml (each fold's questions left out
of the index and asked; ``knowledge.evaluation.cross_validate_asked``, printed by
``bench/kb.py``), with dev and the own questions, never on the held-out split.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

# Additive smoothing, and the classifier's share beside the ranked score (1.0 for the best).
BAYES_ALPHA: Final = 0.5
CLASSIFIER_WEIGHT: Final = 0.3
CLASSIFIER_REORDERS: Final = 5  # it reorders the best few only, never lifts an outsider


@dataclass(frozen=True, slots=True)
class NaiveBayes:
    """Multinomial naive Bayes over the example questions, titles and summaries.

    Each training text is a set of features weighted by idf and normalised, so a long text
    does not outvote short ones. Every article is equally likely beforehand: how many
    questions an article has says what collectors found, not what people ask (a prior from
    those counts cost own top-1 and helped nothing).
    """

    unseen: tuple[float, ...]  # log P(feature | article) of a feature the article never had
    idf: Mapping[str, float]
    log_likelihood: Mapping[str, Mapping[int, float]]  # feature -> article -> log P - unseen

    @classmethod
    def train(cls, texts: Sequence[tuple[int, list[str]]], n: int) -> NaiveBayes:
        mass = [0.0] * n
        counts: dict[str, dict[int, float]] = {}
        featured = [(owner, _features(words)) for owner, words in texts]
        df: dict[str, int] = {}
        for _, found in featured:
            for f in found:
                df[f] = df.get(f, 0) + 1
        idf = {f: math.log(len(featured) / d) for f, d in df.items()}
        for owner, found in featured:
            if not found:
                continue
            norm = math.sqrt(sum(idf[f] ** 2 for f in found)) or 1.0
            for feature in found:
                weight = idf[feature] / norm
                mass[owner] += weight
                row = counts.setdefault(feature, {})
                row[owner] = row.get(owner, 0.0) + weight
        size = len(counts)
        denominator = [math.log(mass[c] + BAYES_ALPHA * size) for c in range(n)]
        unseen = tuple(math.log(BAYES_ALPHA) - denominator[c] for c in range(n))
        return cls(
            unseen=unseen,
            idf=idf,
            log_likelihood={
                feature: {
                    c: math.log(value + BAYES_ALPHA) - denominator[c] - unseen[c]
                    for c, value in row.items()
                }
                for feature, row in counts.items()
            },
        )

    def probabilities(self, words: Sequence[str]) -> list[float]:
        """P(article | words) relative to the most likely article (0..1), or all 0."""
        found = [f for f in _features(words) if f in self.log_likelihood]
        if not found:
            return [0.0] * len(self.unseen)
        norm = math.sqrt(sum(self.idf[f] ** 2 for f in found)) or 1.0
        total = sum(self.idf[f] for f in found) / norm
        log_p = [total * u for u in self.unseen]
        for feature in found:
            weight = self.idf[feature] / norm
            for c, value in self.log_likelihood[feature].items():
                log_p[c] += weight * value
        top = max(log_p)
        return [math.exp(value - top) for value in log_p]


def _features(words: Sequence[str]) -> set[str]:
    """The classifier's features: the tokens and each pair of neighbours."""
    found = set(words)
    found.update(f"{a} {b}" for a, b in itertools.pairwise(words))
    return found


def add_classifier(classifier: NaiveBayes, score: list[float], words: Sequence[str]) -> None:
    """Scores relative to the best, the best few with the classifier's probability added."""
    ranked = sorted(range(len(score)), key=lambda i: -score[i])[:CLASSIFIER_REORDERS]
    top = score[ranked[0]] if ranked else 0.0
    if top <= 0:
        return
    probabilities = classifier.probabilities(words)
    for i in range(len(score)):
        score[i] /= top
    for i in ranked:
        if score[i] > 0:
            score[i] += CLASSIFIER_WEIGHT * probabilities[i]
