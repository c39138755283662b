"""Synonym phrases (small regexes) expanded to the plain strings they match.

``knowledge.text`` folds synonyms by looking each word of a text up in a table built
here instead of running one regex of a hundred alternatives over every character. The
table lists, per first word, every string each phrase can match, in the order the regex
engine would try them (alternatives left to right, an optional part present before
absent), so the first string found where a word starts is the regex's own match.

Only the subset the synonym table uses is understood: literal characters, escaped
punctuation (``\\.``), classes of single characters (``[sz]``, ``[ -]``), non-capturing
groups, ``|`` and a greedy ``?``. Anything else (``+``, ``*``, ``\\d``, ranges...) makes
``phrase_table`` return None and the caller keeps using the regex.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

MAX_STRINGS: Final = 5_000  # per phrase: past this a regex is the better tool
_SPECIAL: Final = frozenset("()[]{}|?*+.^$\\")
_WORD_CHAR: Final = re.compile(r"\w")
_LEADING_WORD: Final = re.compile(r"\w+")

PhraseTable = dict[str, tuple[tuple[str, str], ...]]


class _Unsupported(Exception):
    """The phrase uses regex syntax outside the subset expanded here."""


class _Parser:
    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.at = 0

    def peek(self) -> str:
        return self.pattern[self.at] if self.at < len(self.pattern) else ""

    def take(self) -> str:
        char = self.peek()
        if not char:
            raise _Unsupported("unexpected end")
        self.at += 1
        return char

    def alternatives(self) -> list[str]:
        strings = self.sequence()
        while self.peek() == "|":
            self.at += 1
            strings += self.sequence()
        return strings

    def sequence(self) -> list[str]:
        strings = [""]
        while self.peek() not in ("", "|", ")"):
            options = self.atom()
            if self.peek() == "?":
                self.at += 1
                if self.peek() in ("?", "+"):
                    raise _Unsupported("lazy or possessive optional")
                options = [*options, ""]  # greedy: present first, then absent
            strings = [done + option for done in strings for option in options]
            if len(strings) > MAX_STRINGS:
                raise _Unsupported("too many strings")
        return strings

    def atom(self) -> list[str]:
        char = self.take()
        if char == "(":
            if self.pattern.startswith("?:", self.at):
                self.at += 2
            else:
                raise _Unsupported("only (?:...) groups")
            strings = self.alternatives()
            if self.take() != ")":
                raise _Unsupported("unbalanced group")
            return strings
        if char == "[":
            return self.character_class()
        if char == "\\":
            return [self.escaped()]
        if char in _SPECIAL:
            raise _Unsupported(f"syntax {char!r}")
        return [char]

    def escaped(self) -> str:
        char = self.take()
        if char == "u":  # \uXXXX: one character, spelt as an escape so it can be read
            code = "".join(self.take() for _ in range(4))
            if len(code) != 4 or any(c not in "0123456789abcdefABCDEF" for c in code):
                raise _Unsupported(f"escape \\u{code}")
            return chr(int(code, 16))
        if char.isalnum() or char == "_":
            raise _Unsupported(f"escape \\{char}")  # \b, \d, \w...: classes, not characters
        return char

    def character_class(self) -> list[str]:
        chars: list[str] = []
        if self.peek() == "^":
            raise _Unsupported("negated class")
        while (char := self.take()) != "]":
            if char == "\\":
                char = self.escaped()
            elif char == "-" and chars and self.peek() != "]":
                raise _Unsupported("range in class")
            elif char == "[":
                raise _Unsupported("nested class")
            chars.append(char)
        if not chars:
            raise _Unsupported("empty class")
        return list(dict.fromkeys(chars))


def expand(pattern: str) -> list[str] | None:
    """Every string ``pattern`` matches, in the regex engine's order; None if unsupported."""
    parser = _Parser(pattern)
    try:
        strings = parser.alternatives()
        if parser.at != len(pattern):
            raise _Unsupported("unbalanced ')'")
    except _Unsupported:
        return None
    return list(dict.fromkeys(strings))


def phrase_table(phrases: Sequence[tuple[str, str]]) -> PhraseTable | None:
    """first word -> (string, canonical) in regex order, for ``(phrase, canonical)`` pairs
    that the text folds as ``\\b(?:phrase)\\b`` alternatives; None if any phrase is outside
    the expanded subset or can match something that does not start with a word."""
    table: dict[str, list[tuple[str, str]]] = {}
    for phrase, canonical in phrases:
        strings = expand(phrase)
        if strings is None:
            return None
        for string in strings:
            first = _LEADING_WORD.match(string)
            if first is None:  # empty, or starts with a space or a dot: \b means more there
                return None
            entries = table.setdefault(first.group(), [])
            if all(string != known for known, _ in entries):
                entries.append((string, canonical))
    return {word: tuple(entries) for word, entries in table.items()}


def at_boundary(text: str, index: int) -> bool:
    """Whether ``\\b`` holds at ``index`` of ``text``: a word character on one side only."""
    before = index > 0 and _WORD_CHAR.match(text, index - 1) is not None
    after = _WORD_CHAR.match(text, index) is not None
    return before != after
