"""The knowledge base's vocabulary: articles, providers, reply patterns, clients,
the wording of live-check results, and what the engines return.

Everything is a frozen, slotted dataclass built once by the loader (already
validated), so engines never re-check shapes and results can be rendered,
stored and serialised without touching the data files.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final, Literal

SecurityName = Literal["starttls", "tls"]
CandidateSource = Literal["srv", "mx", "provider", "guess"]

# The fields a live-check wording may name; the checks fill them from the probe report.
TEMPLATE_FIELDS: Final = frozenset({"host", "port", "security", "mechanism", "offered"})
MAX_TITLE: Final = 150  # an article title fits a Slack header block
MAX_SUMMARY: Final = 1_500  # well inside a Slack section's 3,000


def one_line(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters and marked with an ellipsis when cut."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "\u2026"


@dataclass(frozen=True, slots=True, kw_only=True)
class Article:
    id: str
    title: str
    summary: str
    steps: tuple[str, ...]
    related: tuple[str, ...]
    questions: tuple[str, ...]
    tags: tuple[str, ...]
    # provider or client id -> the steps to show that audience instead of ``steps``
    variants: Mapping[str, tuple[str, ...]]

    def steps_for(self, *keys: str | None) -> tuple[str, ...]:
        """The steps for the first of ``keys`` (provider, client...) that has a variant."""
        for key in keys:
            if key is not None and key in self.variants:
                return self.variants[key]
        return self.steps


class FixedBy(StrEnum):
    """Who can apply an article's fix (``faq.yaml``)."""

    USER = "user"
    ADMIN = "admin"
    PROVIDER = "provider"


@dataclass(frozen=True, slots=True, kw_only=True)
class FaqEntry:
    """An article's common-question label and who can apply its fix."""

    question: str
    fixed_by: FixedBy


@dataclass(frozen=True, slots=True, kw_only=True)
class ArticleRef:
    """An article named in a result: its id, and title and summary cut to fit a message."""

    id: str
    title: str
    summary: str

    @classmethod
    def of(cls, article: Article) -> ArticleRef:
        return cls(
            id=article.id,
            title=one_line(article.title, MAX_TITLE),
            summary=one_line(article.summary, MAX_SUMMARY),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Submission:
    host: str
    port: int
    security: SecurityName


@dataclass(frozen=True, slots=True, kw_only=True)
class Provider:
    id: str
    name: str
    domains: tuple[str, ...]
    mx: tuple[str, ...]  # lower-case fnmatch globs, e.g. "*.google.com"
    submission: tuple[Submission, ...]
    username: str
    app_password: str  # required | recommended | optional | none
    oauth: str  # required | supported | none
    notes: str
    links: tuple[str, ...]
    hints: tuple[str, ...]  # lower-case substrings seen in this provider's replies


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyPattern:
    id: str
    code: int | None  # None: text that carries no reply code (client dialogs, TLS errors)
    enhanced: str | None
    pattern: re.Pattern[str]
    provider: str | None
    cause: str
    articles: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Client:
    id: str
    name: str
    aliases: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Wording:
    """What one live-check result means, as templates over ``TEMPLATE_FIELDS``.

    ``ports`` holds port-specific twins (a timeout on port 25 is the network blocking
    it, not the server); a twin has no twins of its own.
    """

    summary: str
    cause: str
    articles: tuple[str, ...]
    next_steps: tuple[str, ...]
    ports: Mapping[int, Wording]

    def on_port(self, port: int) -> Wording:
        """The twin for ``port`` where there is one, else this wording."""
        return self.ports.get(port, self)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, weakref_slot=True)
class KnowledgeBase:
    """Validated content. Compared by identity; engines cache their indexes per instance."""

    articles: Mapping[str, Article]
    providers: Mapping[str, Provider]
    replies: tuple[ReplyPattern, ...]
    clients: Mapping[str, Client]
    findings: Mapping[str, Wording]  # keyed by the probe's finding values
    outcomes: Mapping[str, Wording]  # keyed by outcome values, for reports with no finding
    # article id -> its common-question label and who fixes it (knowledge.faq)
    faq: Mapping[str, FaqEntry] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    """One recognised reply: which known pattern, what it means, what to read."""

    reply_id: str
    code: int | None
    enhanced: str | None
    provider: str | None
    cause: str
    articles: tuple[str, ...]
    excerpt: str = ""  # the part of the pasted text that was recognised

    def as_dict(self) -> dict[str, Any]:
        return {
            "reply_id": self.reply_id,
            "code": self.code,
            "enhanced": self.enhanced,
            "provider": self.provider,
            "cause": self.cause,
            "articles": list(self.articles),
            "excerpt": self.excerpt,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    article: Article
    score: float  # 0..1, comparable within one result

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.article.id, "title": self.article.title, "score": round(self.score, 3)}


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchResult:
    answers: tuple[Answer, ...]  # best first
    confidence: float  # 0..1: how sure the best answer fits the question
    matches: tuple[Match, ...] = ()  # replies recognised in the question (pasted errors)
    provider: str | None = None  # provider the question mentions, for variants
    client: str | None = None  # client the question mentions, for variants

    def as_dict(self) -> dict[str, Any]:
        return {
            "answers": [answer.as_dict() for answer in self.answers],
            "confidence": round(self.confidence, 3),
            "matches": [match.as_dict() for match in self.matches],
            "provider": self.provider,
            "client": self.client,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Candidate:
    host: str
    port: int
    security: SecurityName
    source: CandidateSource

    def as_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "security": self.security,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Discovery:
    provider: Provider | None
    candidates: tuple[Candidate, ...]  # best first, no (host, port) twice
    domain: str = ""
    complete: bool = True  # False when the deadline cut DNS lookups short
    problem: str | None = None  # "nxdomain" when the domain does not exist

    def as_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "provider": self.provider.id if self.provider else None,
            "candidates": [candidate.as_dict() for candidate in self.candidates],
            "complete": self.complete,
            "problem": self.problem,
        }
