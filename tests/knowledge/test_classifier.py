"""The naive Bayes classifier in search and the cross-validation that chose its weight."""

from __future__ import annotations

import dataclasses

import pytest

from knowledge import KnowledgeBase, search
from knowledge.classifier import (
    CLASSIFIER_REORDERS,
    CLASSIFIER_WEIGHT,
    NaiveBayes,
    add_classifier,
)
from knowledge.evaluation import LabelledQuestion, cross_validate_asked

TEXTS = [
    (0, ["printer", "scan", "email"]),
    (0, ["scanner", "scan", "fail"]),
    (1, ["tenant", "admin", "email"]),
    (1, ["tenant", "security", "default"]),
]


def test_the_article_whose_examples_share_the_words_is_most_likely() -> None:
    bayes = NaiveBayes.train(TEXTS, 2)
    scan = bayes.probabilities(["scan", "fail"])
    assert scan[0] == 1.0 and scan[1] < 0.5
    tenant = bayes.probabilities(["tenant", "admin"])
    assert tenant[1] == 1.0 and tenant[0] < 0.5


def test_a_word_every_article_uses_tells_nothing() -> None:
    bayes = NaiveBayes.train(TEXTS, 2)
    both = bayes.probabilities(["email"])
    assert abs(both[0] - both[1]) < 0.05


def test_words_no_example_has_give_no_evidence() -> None:
    assert NaiveBayes.train(TEXTS, 2).probabilities(["weather", "lunch"]) == [0.0, 0.0]


def test_neighbour_pairs_are_features_too() -> None:
    """ "app password" in that order is telling beyond "app" and "password" apart."""
    texts = [(0, ["app", "password"]), (1, ["password", "app", "store"]), (1, ["app"])]
    bayes = NaiveBayes.train(texts, 2)
    assert bayes.probabilities(["app", "password"])[0] == 1.0


def test_the_classifier_reorders_the_best_few_and_never_lifts_an_outsider() -> None:
    n = CLASSIFIER_REORDERS + 2
    texts = [(i, [f"word{i}"]) for i in range(n)]
    bayes = NaiveBayes.train(texts, n)
    score = [float(n - i) for i in range(n)]  # article 0 best, article n-1 worst
    add_classifier(bayes, score, [f"word{n - 1}"])  # evidence for the worst only
    assert 1.0 <= score[0] < 1.0 + CLASSIFIER_WEIGHT  # relative to the best, little evidence
    assert max(range(n), key=lambda i: score[i]) == 0
    assert score[n - 1] == 1 / n  # an outsider keeps its place and gets nothing

    score = [1.0, 0.95, *([0.5] * (n - 2))]
    add_classifier(bayes, score, ["word1"])  # the runner-up has the evidence
    assert score[1] == pytest.approx(0.95 + CLASSIFIER_WEIGHT)
    assert score[1] > score[0]


def test_cross_validation_asks_questions_the_index_has_not_seen(kb: KnowledgeBase) -> None:
    """A question whose only words are in its own example is found when indexed, and not
    when its fold is left out: the figure measures questions the index never saw."""
    first, second = list(kb.articles)[:2]
    asked = {first: "quuxfrobnicate zorblaxing", second: "flimflammery wobbulator"}
    articles = {
        article_id: dataclasses.replace(article, questions=(*article.questions, asked[article_id]))
        if article_id in asked
        else article
        for article_id, article in kb.articles.items()
    }
    trained = dataclasses.replace(kb, articles=articles)
    entries = [LabelledQuestion(q, frozenset({a})) for a, q in asked.items()]
    for entry in entries:
        assert [a.article.id for a in search(trained, entry.question).answers][:1] == [
            *entry.acceptable
        ]
    crossed = cross_validate_asked(trained, entries, folds=2)
    assert (crossed.top1, crossed.top3) == (0.0, 0.0)
    assert len(crossed.misses) == 2
