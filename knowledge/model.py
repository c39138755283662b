"""The knowledge base's vocabulary: articles, providers, reply patterns, clients,
the wording of live-check results, and what the engines return.

Everything is a frozen, slotted dataclass built once by the loader (already
validated), so engines never re-check shapes and results can be rendered,
stored and serialised without touching the data files.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final, Literal

SecurityName = Literal["starttls", "tls", "none"]  # "none": plaintext, ISPDB or autoconfig only
CandidateSource = Literal["provider", "ispdb", "autoconfig", "srv", "mx", "guess"]
ProviderSource = Literal["provider", "ispdb"]  # the curated table, or Thunderbird's ISPDB

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
    app_password: str  # required | recommended | optional | none (| unknown: ISPDB)
    oauth: str  # required | supported | none
    notes: str
    links: tuple[str, ...]
    hints: tuple[str, ...]  # lower-case substrings seen in this provider's replies
    source: ProviderSource = "provider"
    login: str = ""  # ISPDB's username template (%EMAILADDRESS%...); "" = the full address

    @property
    def oauth_only(self) -> bool:
        """No password of any kind works: the mail app must sign in with the provider."""
        return self.oauth == "required"

    checked: datetime.date  # when these facts were last checked against the provider's docs
    aliases: tuple[str, ...] = ()  # other names people type ("163", "网易"), lower case
    articles: tuple[str, ...] = ()  # articles about this provider's own sign-in rules


class PatternRole(StrEnum):
    """How much a recognised pattern says about the failure, most telling first."""

    REPLY = "reply"  # a server reply or error whose wording names the cause
    FALLBACK = "fallback"  # a reply known only by its code class (535, 5.7.x ...)
    WRAPPER = "wrapper"  # a client's or library's own message around the real reply
    # A family of wording with no code we know (any "certificate", any 5xx): only for text
    # handed over as an error to explain, never when scanning prose for pasted replies.
    FAMILY = "family"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplyPattern:
    id: str
    code: int | None  # None: text that carries no reply code (client dialogs, TLS errors)
    enhanced: str | None
    pattern: re.Pattern[str]
    provider: str | None
    cause: str
    articles: tuple[str, ...]
    role: PatternRole = PatternRole.REPLY
    # Searched in the whole paste: the pattern only counts when this also matches (a host
    # name, an address or a support link naming the provider). None: the wording suffices.
    evidence: re.Pattern[str] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Client:
    id: str
    name: str
    aliases: tuple[str, ...]
    articles: tuple[str, ...] = ()  # articles about this client, lifted when it is named


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


@dataclass(frozen=True, slots=True, kw_only=True)
class Gateway:
    """A filtering service whose MX hosts hide the mailbox provider behind them."""

    id: str
    name: str
    mx: tuple[str, ...]  # lower-case fnmatch globs


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscoveryWording:
    """What discovery says besides the servers, as templates over ``{domain}``,
    ``{provider}`` and (gateway lines) ``{gateway}``."""

    oauth_only: str
    plaintext_only: str
    problems: Mapping[str, str]  # Problem value -> sentence
    gateway: tuple[str, ...]  # hidden provider; what it means for SMTP; what to ask IT


@dataclass(frozen=True, slots=True, kw_only=True)
class ProviderDirectory:
    """Every provider known by domain, host and MX: the curated table first, then ISPDB."""

    ispdb: Mapping[str, Provider] = field(default_factory=dict)  # id -> ISPDB provider
    ispdb_commit: str = ""  # the thunderbird/autoconfig commit the snapshot was made from
    by_domain: Mapping[str, Provider] = field(default_factory=dict)  # curated wins a domain
    by_host: Mapping[str, Provider] = field(default_factory=dict)  # submission host -> provider
    gateways: tuple[Gateway, ...] = ()
    wording: DiscoveryWording | None = None


@dataclass(frozen=True, slots=True, kw_only=True, eq=False, weakref_slot=True)
class KnowledgeBase:
    """Validated content. Compared by identity; engines cache their indexes per instance."""

    articles: Mapping[str, Article]
    providers: Mapping[str, Provider]  # the curated table only
    replies: tuple[ReplyPattern, ...]
    clients: Mapping[str, Client]
    findings: Mapping[str, Wording]  # keyed by the probe's finding values
    outcomes: Mapping[str, Wording]  # keyed by outcome values, for reports with no finding
    directory: ProviderDirectory = field(default_factory=ProviderDirectory)

    def provider(self, provider_id: str | None) -> Provider | None:
        """A provider by id, from the curated table or ISPDB."""
        if not provider_id:
            return None
        return self.providers.get(provider_id) or self.directory.ispdb.get(provider_id)

    def provider_for_domain(self, domain: str) -> Provider | None:
        """The provider whose mail domains include ``domain`` (curated table, then ISPDB)."""
        return self.directory.by_domain.get(domain.lower().rstrip("."))

    def provider_for_submission_host(self, host: str) -> Provider | None:
        """The provider that runs submission server ``host`` (curated table, then ISPDB)."""
        return self.directory.by_host.get(host.lower().rstrip("."))

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
    role: PatternRole = PatternRole.REPLY

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
class Explanation:
    """What ``explain_text`` found: matches best first, and whether the paste was cut."""

    matches: tuple[Match, ...]
    truncated: bool = False  # the paste was longer than explain reads; the rest was not seen
    has_code: bool = False  # the paste holds something that looks like an SMTP reply code

    def as_dict(self) -> dict[str, Any]:
        return {
            "matches": [match.as_dict() for match in self.matches],
            "truncated": self.truncated,
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

    @property
    def plaintext(self) -> bool:
        """The password would cross the network unencrypted: never recommended first."""
        return self.security == "none"

    def as_dict(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "security": self.security,
            "source": self.source,
        }


class Problem(StrEnum):
    """Why a discovery is incomplete, or why it found nothing."""

    NXDOMAIN = "nxdomain"  # the domain does not exist (complete, but nothing to find)
    REFUSED = "refused"  # the DNS server refused to answer
    SERVFAIL = "servfail"  # the DNS server failed (SERVFAIL)
    TIMEOUT = "timeout"  # the DNS server did not answer (packets dropped, or far too slow)
    UNREACHABLE = "unreachable"  # the DNS server could not be reached at all
    FAILURE = "failure"  # any other DNS failure
    DEADLINE = "deadline"  # DNS answered, but the lookups as a whole (autoconfig) ran out of time


@dataclass(frozen=True, slots=True, kw_only=True)
class Discovery:
    provider: Provider | None
    candidates: tuple[Candidate, ...]  # best first (encrypted first), no server twice
    domain: str = ""
    complete: bool = True  # False when a lookup failed or the deadline cut it short
    problem: Problem | None = None
    gateway: Gateway | None = None  # a filtering gateway in the MX, hiding the provider
    username: str | None = None  # the username form in words, where known
    login: str = ""  # the username template behind it ("" = the full address)
    oauth_only: bool = False  # no password works: say so before anything else
    notes: tuple[str, ...] = ()  # what to tell the person, in order (OAuth-only first)

    def login_for(self, email: str) -> str:
        """The username to type for ``email``, from the template (the address by default)."""
        local, _, domain = email.rpartition("@")
        if not local or not self.login:
            return email
        return (
            self.login.replace("%EMAILADDRESS%", email)
            .replace("%EMAILLOCALPART%", local)
            .replace("%EMAILDOMAIN%", domain)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "provider": self.provider.id if self.provider else None,
            "provider_name": self.provider.name if self.provider else None,
            "provider_source": self.provider.source if self.provider else None,
            "provider_links": list(self.provider.links) if self.provider else [],
            "provider_checked": self.provider.checked.isoformat() if self.provider else None,
            "username": self.username,
            "oauth_only": self.oauth_only,
            "candidates": [candidate.as_dict() for candidate in self.candidates],
            "complete": self.complete,
            "problem": None if self.problem is None else str(self.problem),
            "gateway": self.gateway.name if self.gateway else None,
            "notes": list(self.notes),
        }
