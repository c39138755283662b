"""Synonym folding by dictionary look-up gives exactly what the one big regex gives."""

from __future__ import annotations

import random
import re

import pytest

from knowledge import KnowledgeBase, get_knowledge, text
from knowledge.evaluation import load_questions, load_replies
from knowledge.phrases import at_boundary, expand, phrase_table
from knowledge.text import (
    FOREIGN_STOP_WORDS,
    SYNONYMS,
    fold_synonyms,
    normalise,
    synonym_pattern,
)


def _regex_fold(value: str) -> str:
    canonical = {f"s{i}": canon for i, (_, canon) in enumerate(SYNONYMS)}
    return synonym_pattern().sub(lambda m: f" {canonical[m.lastgroup or '']} ", value)


def test_the_synonym_table_is_folded_by_look_up() -> None:
    """Every phrase of the table is in the subset ``knowledge.phrases`` expands: no regex."""
    assert text._PHRASES is not None


def test_same_result_as_the_regex_on_the_real_texts() -> None:
    """Every article text and every question and paste of the own evaluation sets."""
    kb: KnowledgeBase = get_knowledge(index=False)
    texts = [
        value
        for a in kb.articles.values()
        for value in (a.title, a.summary, *a.steps, *a.questions, " ".join(a.tags))
    ]
    texts += [q.question for q in load_questions(kb)] + [r.text for r in load_replies(kb)]
    for value in map(normalise, texts):
        assert fold_synonyms(value) == _regex_fold(value), value


def test_same_result_as_the_regex_on_phrases_run_together() -> None:
    """Phrases glued to each other and to letters, digits, dots and dashes, where the
    leftmost-first and whole-word rules decide."""
    assert text._PHRASES is not None
    strings = sorted({s for entries in text._PHRASES.values() for s, _ in entries})
    rnd = random.Random(13)
    joints = [" ", "", "-", ".", "x", "_", "  ", "s ", "1", "ñ"]
    for _ in range(5_000):
        parts = rnd.sample(strings, 3)
        glue = [rnd.choice(joints) for _ in range(4)]
        value = "".join(g + p for g, p in zip(glue, [*parts, ""], strict=True))
        assert fold_synonyms(value) == _regex_fold(value), value


@pytest.mark.parametrize(
    ("pattern", "strings"),
    [
        (
            "time[sd]? ?out",
            ["times out", "timesout", "timed out", "timedout", "time out", "timeout"],
        ),
        ("outgoing (?:mail )?server|smtp", ["outgoing mail server", "outgoing server", "smtp"]),
        (r"mail\.app|g ?mail", ["mail.app", "g mail", "gmail"]),
        ("[ -]x", [" x", "-x"]),
        (r"yaz[\u0131i]c", ["yaz\u0131c", "yazic"]),  # a \uXXXX escape is one character
    ],
)
def test_expand_lists_strings_in_the_regex_engine_order(pattern: str, strings: list[str]) -> None:
    assert expand(pattern) == strings


@pytest.mark.parametrize(
    "pattern", ["pass+", "a*", r"\d+", "[a-z]", "(x)", "a??", "a{2}", ".", "a)", r"\u01", r"\u01zz"]
)
def test_expand_refuses_what_it_does_not_understand(pattern: str) -> None:
    assert expand(pattern) is None


def test_an_unsupported_phrase_falls_back_to_the_regex(monkeypatch: pytest.MonkeyPatch) -> None:
    """A phrase someone adds with a '+' keeps working, through the regex."""
    assert phrase_table([*SYNONYMS, ("pass+word", "password")]) is None
    assert phrase_table([(" leading space", "x")]) is None
    value = normalise("Outgoing server keeps timing out in Outlook.com")
    expected = fold_synonyms(value)
    monkeypatch.setattr(text, "_PHRASES", None)
    assert fold_synonyms(value) == expected == _regex_fold(value)


def test_at_boundary_is_regex_word_boundary() -> None:
    value = "ab c_d-ñ 1"
    word_boundaries = {m.start() for m in re.finditer(r"\b", value)}
    assert {i for i in range(len(value) + 1) if at_boundary(value, i)} == word_boundaries


def test_stop_words_never_swallow_a_provider_or_client_name() -> None:
    """A name phrase keeps every word: "outlook com" (the provider id) read as "outlook"
    would make the Outlook client a provider, as happened once "com" (Portuguese "with")
    was a stop word."""
    kb = get_knowledge()
    phrases = [p.id.replace("-", " ") for p in kb.providers.values()]
    phrases += [alias for p in kb.providers.values() for alias in p.aliases]
    phrases += [c.name for c in kb.clients.values()]
    phrases += [alias for c in kb.clients.values() for alias in c.aliases]
    words = {word for phrase in phrases for word in re.findall(r"[a-z0-9]+", phrase.lower())}
    swallowed = sorted(words & FOREIGN_STOP_WORDS)
    assert swallowed == []
