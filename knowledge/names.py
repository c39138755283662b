"""Provider and client names as token phrases, found in a question or a message.

One place for "which provider or client does this text name", shared by search
(for article variants) and the conversation's thread context, so both read a
question the same way. Phrases go through ``knowledge.text.tokens`` like the
text they are looked for in.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from knowledge.model import KnowledgeBase
from knowledge.text import tokens

# Words every mail question uses: a name made only of them ("send mail as" -> "send
# mail", "mail app") would be read in any sentence, so it names nothing.
GENERIC_WORDS: Final = frozenset(tokens("send sending mail email app application smtp server web"))

Phrase = tuple[tuple[str, ...], str]  # (phrase tokens, provider or client id)
PhraseIndex = Mapping[str, tuple[Phrase, ...]]  # first token -> phrases starting with it


@dataclass(frozen=True, slots=True)
class Vocabulary:
    providers: PhraseIndex  # longest first; on equal phrases the data's first wins
    clients: PhraseIndex
    hosts: Mapping[str, str]  # submission host -> provider id
    written: tuple[tuple[str, str], ...] = ()  # (CJK alias, provider id): found anywhere


_vocabularies: weakref.WeakKeyDictionary[KnowledgeBase, Vocabulary] = weakref.WeakKeyDictionary()


def provider_names(name: str) -> list[str]:
    """The names people type for a provider's display name.

    "Outlook.com / Hotmail" -> both; "Zoho Mail (EU data centre)" -> "Zoho Mail" and
    "IONOS (1&1) - Germany" -> "IONOS": the bracketed or dashed part tells providers
    apart in a list ("Germany", "international"), it is not a name people type.
    """
    bare = re.sub(r"\([^)]*\)", " ", name).split("\u2013")[0]
    return [part for part in bare.split("/") if part.strip()]


def phrase_index(entries: Iterable[tuple[str, Iterable[str]]]) -> PhraseIndex:
    """(id, phrases) pairs -> phrases by first token, longest first, first id wins a tie.

    A phrase whose tokens are all ``GENERIC_WORDS`` is left out.
    """
    table: dict[tuple[str, ...], str] = {}
    for key, phrases in entries:
        for phrase in phrases:
            folded = tuple(tokens(phrase))
            if folded and not GENERIC_WORDS.issuperset(folded):
                table.setdefault(folded, key)
    # Indexed by first token so a text is scanned once, not once per phrase.
    by_first: dict[str, list[Phrase]] = {}
    for folded, key in sorted(table.items(), key=lambda item: -len(item[0])):
        by_first.setdefault(folded[0], []).append((folded, key))
    return {first: tuple(items) for first, items in by_first.items()}


def first_phrase(
    phrases: PhraseIndex, words: Sequence[str], used: set[int] | None = None
) -> str | None:
    """The id whose phrase starts earliest in ``words`` (longest on a tie).

    With ``used``, the positions of every phrase found are added to it.
    """
    best: str | None = None
    for start, word in enumerate(words):
        for phrase, key in phrases.get(word, ()):
            width = len(phrase)
            if tuple(words[start : start + width]) == phrase:
                if used is None:
                    return key
                if best is None:
                    best = key
                used.update(range(start, start + width))
    return best


def _is_cjk(text: str) -> bool:
    return any(ord(char) >= 0x2E80 for char in text)


def _spoken(aliases: Iterable[str]) -> list[str]:
    """Aliases matched as whole-word phrases: not CJK ones, not domains (found as domains)."""
    return [alias for alias in aliases if not _is_cjk(alias) and "." not in alias]


def written_name(names: Vocabulary, text: str) -> str | None:
    """The provider whose CJK alias occurs earliest in ``text`` (longest on a tie)."""
    best: tuple[int, str] | None = None
    for alias, key in names.written:
        at = text.find(alias)
        if at >= 0 and (best is None or at < best[0]):
            best = (at, key)
    return best[1] if best else None


def vocabulary(kb: KnowledgeBase) -> Vocabulary:
    """The provider/client phrase indexes and submission hosts of ``kb``, built once."""
    found = _vocabularies.get(kb)
    if found is None:
        providers = [
            # Not the domains: as token phrases they shrink ("zoho.in" -> "zoho": "in" is
            # a stop word) and would name the wrong one of several related providers.
            (p.id, [p.id.replace("-", " "), *provider_names(p.name), *_spoken(p.aliases)])
            for p in kb.providers.values()
        ]
        # Chinese and Japanese names have no spaces around them ("qq邮箱授权码"): they are
        # looked for as substrings, longest first, instead of as token phrases.
        written = sorted(
            ((alias, p.id) for p in kb.providers.values() for alias in p.aliases if _is_cjk(alias)),
            key=lambda item: -len(item[0]),
        )
        clients = [
            (c.id, [c.id.replace("-", " "), c.name, *c.aliases]) for c in kb.clients.values()
        ]
        hosts: dict[str, str] = {}
        for p in kb.providers.values():
            for sub in p.submission:
                hosts.setdefault(sub.host, p.id)
        # Every ISPDB server host too (the curated table wins a shared host).
        for host, owner in kb.directory.by_host.items():
            hosts.setdefault(host, owner.id)
        found = _vocabularies[kb] = Vocabulary(
            phrase_index(providers), phrase_index(clients), hosts, tuple(written)
        )
    return found
