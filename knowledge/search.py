"""Rank articles for a question in users' own words.

Ranking = BM25 (``knowledge.bm25``, plain Python) over each article's fields with field weights
+ BM25 over the articles' example questions taken one by one (the closest
example question speaks for its article) + a strong boost for the articles of
any SMTP reply recognised in the question (pasted errors go through explain); then a
naive Bayes classifier trained on all example questions (``knowledge.classifier``) reorders the best
few, and provider/client steering (``knowledge.steering``) has the last word.
Typos are corrected against the index vocabulary with rapidfuzz; synonyms are
folded by ``knowledge.text``. Every per-token score vector is computed once per
knowledge base, so a query is a few dictionary look-ups and vector sums.

Confidence answers "does the best article cover what was asked?": the share of
the question's information (IDF-weighted tokens) found in the best article,
tempered by how clearly it beats the runner-up. Off-topic questions share
almost no informative token with any article and land near zero.
"""

from __future__ import annotations

import math
import re
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Final

from knowledge.bm25 import term_scores
from knowledge.classifier import NaiveBayes, add_classifier
from knowledge.directory import provider_for_domain
from knowledge.explain import explain_reply
from knowledge.mentions import EMAIL, Mentions, find_mentions
from knowledge.model import Answer, Article, KnowledgeBase, Match, PatternRole, SearchResult
from knowledge.names import Vocabulary, first_phrase, vocabulary
from knowledge.steering import chinese_text, foreign_text, steer
from knowledge.text import STOP_WORDS, SYNONYMS, tokens

Vector = Mapping[int, float]  # document index -> score (sparse)

# How much each article field counts in the article-level BM25.
FIELD_WEIGHTS: Final[Mapping[str, float]] = {
    "title": 2.0,
    "tags": 2.5,
    "questions": 1.5,
    "summary": 1.0,
    "steps": 0.4,
}
# Share of the whole-article idf in each field's BM25 (the rest: the field's own idf).
# Measured on both halves of the real dev split and the own questions: 0.25 helps or is
# neutral on all three; whole-article idf alone (1.0) loses top-1.
SHARED_IDF: Final = 0.25
ARTICLE_WEIGHT: Final = (
    0.6  # share of the article-level BM25 in the final score (asked-CV, dev, own)
)
QUESTION_WEIGHT: Final = 0.4  # share of the closest example question
# Below this confidence the answer is "not sure": candidates and a human, never a guess.
# Measured on knowledge/eval/questions.yaml (169 labelled questions): right top answers
# 100% >= 0.3, 95.6% >= 0.4; of the 9 wrong top answers none is below 0.3, three below
# 0.4; off-topic probes between the two include "how do I change my slack password"
# (0.39). A cautious threshold costs one click (the right article is still the first
# candidate), a lax one costs a made-up answer, so 0.4.
CONFIDENCE_FLOOR: Final = 0.4
MATCH_BOOST: Final = (1.5, 0.6, 0.3)  # for the 1st, 2nd, 3rd article of a recognised reply
GENERIC_IDF: Final = 0.25  # idf below it: a token most articles use (send, smtp, password, email)
OTHER_WORD_WEIGHT: Final = 0.35  # a shared non-topical word, relative to a topical one
SINGLE_WORD_FACTOR: Final = 0.45  # one shared word is thin evidence, however topical
CONFIDENCE_EXPONENT: Final = 0.6  # spreads mid-range coverage over 0..1
# A reply whose wording names the cause is strong evidence; one known only by its code
# class (a fallback) or a client's own wrapper message says less than the question's words.
ROLE_WEIGHT: Final[Mapping[PatternRole, float]] = {
    PatternRole.REPLY: 1.0,
    PatternRole.FALLBACK: 0.25,
    PatternRole.WRAPPER: 0.15,
}
QUOTE_SHARE_FLOOR: Final = 0.5  # a reply quoted inside a long question keeps half its boost
PASTED_WORDS: Final = 6  # words of recognised reply text that count as a full paste
MAX_QUESTION: Final = 2_000  # characters searched; pasted bounces are explained in full
FUZZY_MIN_LENGTH: Final = 4
# A question in a language we have no vocabulary for gets at most this (below the floor).
FOREIGN_CONFIDENCE: Final = 0.3
_STOP_LIST: Final = tuple(sorted(w for w in STOP_WORDS if len(w) >= 4))


@dataclass(frozen=True, slots=True)
class _Index:
    articles: tuple[Article, ...]
    article_vectors: Mapping[str, Vector]  # token -> weighted BM25 score per article
    question_vectors: Mapping[str, Vector]  # token -> BM25 score per example question
    question_owner: tuple[int, ...]  # article index of each example question
    positions: Mapping[str, int]  # article id -> index
    idf: Mapping[str, float]  # token -> idf over articles, for confidence
    mean_idf: float
    anchors: frozenset[str]  # topical tokens: tags, provider/client names, synonym targets
    article_tokens: tuple[frozenset[str], ...]
    vocabulary: tuple[str, ...]
    classifier: NaiveBayes


_indexes: weakref.WeakKeyDictionary[KnowledgeBase, _Index] = weakref.WeakKeyDictionary()


def _bm25_vectors(
    corpus: Sequence[list[str]], weight: float, idf: Mapping[str, float] | None = None
) -> dict[str, dict[int, float]]:
    """token -> this corpus's BM25 contribution per document (Okapi, ``knowledge.bm25``)."""
    if not any(corpus):
        return {}
    docs = [doc or ["\x00"] for doc in corpus]
    return term_scores(docs, weight=weight, idf=idf, blend=SHARED_IDF)


def _merge(target: dict[str, dict[int, float]], source: Mapping[str, Mapping[int, float]]) -> None:
    for token, vector in source.items():
        merged = target.setdefault(token, {})
        for doc, value in vector.items():
            merged[doc] = merged.get(doc, 0.0) + value


def _build(kb: KnowledgeBase) -> _Index:
    articles = tuple(kb.articles.values())
    fields = {
        "title": [tokens(a.title) for a in articles],
        "tags": [tokens(" ".join(a.tags)) for a in articles],
        "questions": [tokens(" ".join(a.questions)) for a in articles],
        "summary": [tokens(a.summary) for a in articles],
        "steps": [tokens(" ".join(a.steps)) for a in articles],
    }
    # Each field's idf leans towards the idf over whole articles (BM25F-like): a word most
    # articles use but few titles ("mail", "server") is not a rare, telling title word.
    whole = [[t for corpus in fields.values() for t in corpus[i]] for i in range(len(articles))]
    shared_idf = _okapi_idf(whole)
    article_vectors: dict[str, dict[int, float]] = {}
    for name, corpus in fields.items():
        _merge(article_vectors, _bm25_vectors(corpus, FIELD_WEIGHTS[name], shared_idf))

    questions = [(i, tokens(q)) for i, a in enumerate(articles) for q in a.questions]
    question_vectors = _bm25_vectors([q for _, q in questions], 1.0)
    owner = tuple(i for i, _ in questions)

    all_tokens = [
        frozenset(t for corpus in fields.values() for t in corpus[i]) for i in range(len(articles))
    ]
    n = len(articles)
    frequency = _document_frequency(all_tokens)
    idf = {token: math.log(1 + (n - df + 0.5) / (df + 0.5)) for token, df in frequency.items()}
    providers = {p.id: (p.name, *p.domains) for p in kb.providers.values()}
    clients = {c.id: (c.name, *c.aliases) for c in kb.clients.values()}
    anchors = {t for tokens_ in fields["tags"] for t in tokens_}
    anchors.update(
        t for phrases in (*providers.values(), *clients.values()) for t in tokens(" ".join(phrases))
    )
    anchors.update(t for _, canonical in SYNONYMS for t in canonical.split())
    anchors.update(str(r.code) for r in kb.replies if r.code is not None)
    anchors.update(r.enhanced for r in kb.replies if r.enhanced is not None)
    # A word nearly every article uses ("smtp", "email", "send") names no topic, whatever its
    # source: "email smtp" alone is not a question any one article answers.
    anchors.difference_update(t for t, value in idf.items() if value < GENERIC_IDF)
    texts = [
        *questions,
        *((i, [*tokens(a.title), *fields["tags"][i]]) for i, a in enumerate(articles)),
        *enumerate(fields["summary"]),
    ]
    return _Index(
        articles=articles,
        classifier=NaiveBayes.train(texts, len(articles)),
        article_vectors=article_vectors,
        question_vectors=question_vectors,
        question_owner=owner,
        positions={a.id: i for i, a in enumerate(articles)},
        idf=idf,
        mean_idf=sum(idf.values()) / max(1, len(idf)),
        anchors=frozenset(anchors),
        article_tokens=tuple(all_tokens),
        # Typos are corrected towards words the articles share or anchor on, not towards
        # a word of one example question ("lunch" is not "bunch").
        vocabulary=tuple(sorted(t for t, df in frequency.items() if df > 1 or t in anchors)),
    )


def _okapi_idf(docs: Sequence[Sequence[str]]) -> dict[str, float]:
    n = len(docs)
    return {
        token: math.log((n - df + 0.5) / (df + 0.5))
        for token, df in _document_frequency([frozenset(d) for d in docs]).items()
    }


def _document_frequency(docs: Sequence[frozenset[str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for doc in docs:
        for token in doc:
            counts[token] = counts.get(token, 0) + 1
    return counts


def _index(kb: KnowledgeBase) -> _Index:
    index = _indexes.get(kb)
    if index is None:
        index = _indexes[kb] = _build(kb)
        _correct.cache_clear()
    return index


def warm_up(kb: KnowledgeBase, *, cache_key: str | None = None) -> None:
    """Build the search index now (the loader calls this) instead of on the first question.

    With ``cache_key`` (the default knowledge base), the index is read from the knowledge
    cache, or built and written there (``knowledge.cache``)."""
    if cache_key is not None and kb not in _indexes:
        from knowledge import cache

        found = cache.load("search", cache_key, _Index, articles=kb.articles)
        if found is not None and found.articles == tuple(kb.articles.values()):
            _indexes[kb] = found
            _correct.cache_clear()
        else:
            ids = {id(article): article.id for article in kb.articles.values()}
            cache.store("search", cache_key, _index(kb), articles=ids)
    _index(kb)
    vocabulary(kb)


@lru_cache(maxsize=4096)
def _is_stop_word_typo(token: str) -> bool:
    """ "shoud", "wich": a misspelt filler word, dropped rather than "corrected" into content."""
    from rapidfuzz import fuzz, process  # only for a word no index knows: most never do

    found = process.extractOne(token, _STOP_LIST, scorer=fuzz.ratio, score_cutoff=85.0)
    return found is not None


@lru_cache(maxsize=4096)
def _correct(token: str, vocabulary: tuple[str, ...]) -> tuple[str, float] | None:
    """The vocabulary word a misspelt token most likely meant, with a trust in 0..1."""
    if len(token) < FUZZY_MIN_LENGTH or not token.isalpha():
        return None
    from rapidfuzz import fuzz, process  # loaded on the first unknown word only

    cutoff = 75.0 if len(token) <= 5 else 80.0
    found = process.extractOne(token, vocabulary, scorer=fuzz.ratio, score_cutoff=cutoff)
    # A typo changes a letter or two, not the length: "kiosk" is not "ios".
    if found is None or abs(len(found[0]) - len(token)) > max(1, len(token) // 4):
        return None
    return found[0], (found[1] - cutoff) / (100.0 - cutoff)


def _query_tokens(index: _Index, question: str) -> tuple[list[str], dict[str, float], int]:
    """Query tokens with typos corrected, how far each is trusted, how many stayed unknown.

    A corrected token ranks like the word it became, but counts for the confidence
    only as much as the spelling resembles it ("pasword" a lot, "weather" little).
    """
    words: list[str] = []
    trust: dict[str, float] = {}
    unknown = 0
    for token in tokens(question):
        if token in index.idf:
            words.append(token)
            trust[token] = 1.0
            continue
        if len(token) >= FUZZY_MIN_LENGTH and _is_stop_word_typo(token):
            continue
        corrected = _correct(token, index.vocabulary)
        if corrected is None:
            unknown += 1
        else:
            words.append(corrected[0])
            trust[corrected[0]] = max(trust.get(corrected[0], 0.0), corrected[1])
    return words, trust, unknown


def _relative(scores: list[float]) -> list[float]:
    top = max(scores, default=0.0)
    return [value / top for value in scores] if top > 0 else scores


def _confidence(
    index: _Index,
    trust: Mapping[str, float],
    unknown: int,
    best: int,
    named: frozenset[str] = frozenset(),
) -> float:
    """How much of the question's information the best article covers, in 0..1.

    Tokens are weighted by IDF (and by how much a typo correction is trusted); words
    no article knows count against it. Topical words (tags, provider and client
    names, synonym targets, reply codes) count fully; other shared words ("time",
    "good") count a third, and a question matching only one word is held back, so
    "what time is it" does not look like a confident answer.
    """
    weights = {token: index.idf.get(token, 0.0) for token in trust}
    total = sum(weights.values()) + unknown * index.mean_idf
    if total <= 0:
        return 0.0
    covered = [t for t in weights if t in index.article_tokens[best] or t in named]
    topical = sum(weights[t] * trust[t] for t in covered if t in index.anchors)
    other = sum(weights[t] * trust[t] for t in covered if t not in index.anchors)
    coverage = (topical + OTHER_WORD_WEIGHT * other) / total
    if topical == 0:
        coverage *= 0.5
    confidence = math.pow(min(1.0, coverage), CONFIDENCE_EXPONENT)
    if len(covered) < 2:
        confidence *= SINGLE_WORD_FACTOR
    return max(0.0, confidence)


def _scores(index: _Index, words: Sequence[str]) -> list[float]:
    """The blend of field-weighted article BM25 and the closest example question."""
    n = len(index.articles)
    article_score = [0.0] * n
    question_score: dict[int, float] = {}
    for word in words:
        for doc, value in index.article_vectors.get(word, {}).items():
            article_score[doc] += value
        for doc, value in index.question_vectors.get(word, {}).items():
            question_score[doc] = question_score.get(doc, 0.0) + value
    best_question = [0.0] * n
    for doc, value in question_score.items():
        owner = index.question_owner[doc]
        best_question[owner] = max(best_question[owner], value)
    articles = _relative(article_score)
    questions = _relative(best_question)
    return [
        ARTICLE_WEIGHT * a + QUESTION_WEIGHT * q for a, q in zip(articles, questions, strict=True)
    ]


def _boost_matches(
    index: _Index, score: list[float], matches: Sequence[Match], question: str
) -> None:
    total = max(1, len(question.split()))
    for rank, match in enumerate(matches[:3]):
        # A pasted reply ("535-5.7.8 Username and Password not accepted") is strong evidence;
        # a bare code mentioned in a question ("535 vs 530?") much less. The rest of the
        # question still counts: the boost adds to the text's own score, and the more the
        # person wrote around the reply, the more their own words weigh against it.
        quoted = len(match.excerpt.split())
        weight = ROLE_WEIGHT[match.role] * min(1.0, quoted / PASTED_WORDS) / (rank + 1)
        weight *= max(QUOTE_SHARE_FLOOR, min(1.0, quoted / total))
        for boost, article_id in zip(MATCH_BOOST, match.articles, strict=False):
            position = index.positions.get(article_id)
            if position is not None:
                score[position] += boost * weight


def _without_addresses(kb: KnowledgeBase, text: str) -> str:
    """``text`` with each address reduced to what it tells: a mailbox, at a known provider.

    "relay@relay.example.com" is not a question about relays; "me@qq.com" is one about QQ.
    """

    def keep(found: re.Match[str]) -> str:
        domain = found["domain"]
        return f" email {domain} " if provider_for_domain(kb, domain) is not None else " email "

    return EMAIL.sub(keep, text)


def _tailored_names(
    names: Vocabulary, words: Sequence[str], best: Article, mentions: Mentions
) -> frozenset[str]:
    """The words naming the provider or client that ``best`` has a variant for: the answer
    is written for what they name, so they are covered even where the article's own text
    never spells them."""
    named: set[str] = set()
    for phrases, key in ((names.providers, mentions.provider), (names.clients, mentions.client)):
        if key is None or key not in best.variants:
            continue
        for start, word in enumerate(words):
            for phrase, owner in phrases.get(word, ()):
                if owner == key and tuple(words[start : start + len(phrase)]) == phrase:
                    named.update(phrase)
    return frozenset(named)


def search(kb: KnowledgeBase, question: str, *, limit: int = 5) -> SearchResult:
    """Articles for ``question``, best first, with a confidence in 0..1."""
    index = _index(kb)
    matches: tuple[Match, ...] = explain_reply(kb, question)
    question = question[:MAX_QUESTION]
    mentions = find_mentions(kb, question, matches=matches)
    words, trust, unknown = _query_tokens(index, _without_addresses(kb, question))
    if not words and not matches:
        return SearchResult(answers=(), confidence=0.0, matches=())
    names = vocabulary(kb)
    if mentions.client is None or mentions.provider is None:
        # A misspelt name ("outlok") counts once corrected; corrections keep the length,
        # so a longer word that merely contains a name ("kiosk") never becomes one.
        mentions = replace(
            mentions,
            provider=mentions.provider or first_phrase(names.providers, words),
            client=mentions.client or first_phrase(names.clients, words),
        )
    score = _scores(index, words)
    _boost_matches(index, score, matches, question)
    add_classifier(index.classifier, score, words)
    chinese = chinese_text(question)
    steer(
        kb,
        index.positions,
        index.article_tokens,
        index.idf,
        score,
        mentions,
        words,
        chinese=chinese,
        text=question,
    )
    order = sorted(range(len(score)), key=lambda i: -score[i])[: max(0, limit)]
    top = score[order[0]] if order else 0.0
    answers = tuple(
        Answer(article=index.articles[i], score=score[i] / top if top > 0 else 0.0)
        for i in order
        if score[i] > 0
    )
    if not answers:
        return SearchResult(answers=(), confidence=0.0, matches=matches)
    tailored = _tailored_names(names, words, index.articles[order[0]], mentions)
    confidence = _confidence(index, trust, unknown, order[0], tailored)
    if any(match.role is PatternRole.REPLY for match in matches):
        confidence = max(confidence, 0.9)
    if foreign_text(question, names) or not (matches or any(c.isalpha() for c in question)):
        # Words we cannot read are not evidence, nor are numbers with no reply among
        # them ("3 4 1 2"): whatever ranked first is a guess.
        confidence = min(confidence, FOREIGN_CONFIDENCE)
    return SearchResult(
        answers=answers,
        confidence=confidence,
        matches=matches,
        provider=mentions.provider,
        client=mentions.client,
    )
