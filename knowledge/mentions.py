"""What a message names: provider, client, address and the SMTP replies in it.

One copy shared by the search (to steer the ranking and pick article variants) and
the conversation (to remember a thread's set-up), so both read a message the same way.

Names match whole words only, on the same normalised tokens as the search
(``knowledge.text.tokens``): "kiosk" is not "ios", "samsung" in "samsungs" is not a
phone. Chinese and Japanese provider names, written without spaces, are found as
substrings. The strongest evidence wins: an address or a submission host
(name@qq.com, smtp.163.com), then a provider named in words, then the provider a
recognised reply belongs to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from knowledge.directory import provider_for_domain
from knowledge.explain import explain_reply
from knowledge.model import KnowledgeBase, Match
from knowledge.names import Vocabulary, first_phrase, vocabulary, written_name
from knowledge.text import tokens

MAX_EMAIL: Final = 254  # RFC 5321 path limit

EMAIL: Final = re.compile(
    r"(?<![\w.%+-])[a-z0-9][a-z0-9._%+-]{0,63}@(?P<domain>[a-z0-9-]+(?:\.[a-z0-9-]+)+)", re.I
)
_MAILTO: Final = re.compile(r"\bmailto:", re.I)  # Slack sends addresses as <mailto:a@b|a@b>
# A host or domain name whose last label is alphabetic: "zohomail.eu", "smtp.gmail.com",
# never an enhanced status code such as "5.7.8".
_DOTTED: Final = re.compile(r"(?<![\w@.-])(?:[a-z0-9-]+\.)+[a-z]{2,24}(?![\w.-])", re.I)


@dataclass(frozen=True, slots=True)
class Mentions:
    """What one text names."""

    provider: str | None  # provider id (knowledge/data/providers.yaml)
    client: str | None  # client id (knowledge/data/clients.yaml)
    email: str | None  # the first address in the text, lower case
    matches: tuple[Match, ...]  # recognised SMTP replies, best first
    words: tuple[str, ...]  # the text's tokens, addresses left out
    used: frozenset[int]  # positions in ``words`` that name a provider or client


def find_mentions(
    kb: KnowledgeBase, text: str, *, matches: tuple[Match, ...] | None = None
) -> Mentions:
    """Provider, client, address and replies in ``text`` (pass ``matches`` if explained)."""
    names = vocabulary(kb)
    email_match = EMAIL.search(text)
    email = email_match.group(0).lower() if email_match else None
    if email is not None and len(email) > MAX_EMAIL:
        email = None
    words = tokens(_MAILTO.sub(" ", EMAIL.sub(" ", text)))
    used: set[int] = set()
    named = first_phrase(names.providers, words, used)
    client = first_phrase(names.clients, words, used)
    if matches is None:
        matches = explain_reply(kb, text)
    provider = _provider_from_names(kb, names, text) or named or written_name(names, text)
    if provider is None:
        provider = next((m.provider for m in matches if m.provider), None)
    return Mentions(
        provider=provider,
        client=client,
        email=email,
        matches=matches,
        words=tuple(words),
        used=frozenset(used),
    )


def _provider_from_names(kb: KnowledgeBase, known: Vocabulary, text: str) -> str | None:
    """A provider named by an address or host in the text: the most specific evidence.

    Only exact consumer domains and submission hosts count; MX-style globs would turn a
    quoted help URL (support.google.com) into a guess about the person's provider.
    """
    names = [m["domain"] for m in EMAIL.finditer(text)] + _DOTTED.findall(text)
    for name in names:
        name = name.lower().rstrip(".")
        found = provider_for_domain(kb, name)
        if found is not None:
            return found.id
        host = known.hosts.get(name)
        if host is not None:
            return host
    return None
