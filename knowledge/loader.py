"""Load the knowledge data files and validate every entry.

The first problem found raises one ``KnowledgeError`` naming the file (relative
to the data root), the entry (its id, or ``#index`` when it has none) and the
reason in one sentence, so a content author can fix it without reading code.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Final, cast

from bot.errors import KnowledgeError
from knowledge.asked import with_asked
from knowledge.default import DEFAULT_ROOT as DEFAULT_ROOT
from knowledge.default import get_knowledge as get_knowledge  # the API this module had
from knowledge.directory import build_directory
from knowledge.entries import ENHANCED, HOST, URL, Entry, T, read_yaml
from knowledge.faq import load_faq
from knowledge.findings import FINDINGS_FILE, load_findings
from knowledge.gateways import load_discovery
from knowledge.ispdb import load_ispdb
from knowledge.model import (
    Article,
    Client,
    KnowledgeBase,
    PatternRole,
    Provider,
    ReplyPattern,
    SecurityName,
    Submission,
    Wording,
)
from knowledge.text import HOSTED_PATTERN

# A group that repeats something already repeated: the classic catastrophic shape,
# e.g. "(a+)+" or "(.*)*". Our patterns are ours, but a typo must not hang explain.
_NESTED_QUANTIFIER: Final = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)[+*{]")
# One wording family per pattern: runtimes spell one error many ways (OpenSSL, Python, Go,
# .NET, Java, Node), so a family can run long, but past this it is two ideas in one entry.
_MAX_PATTERN: Final = 800
HOSTED_PLACEHOLDER: Final = "{hosted}"  # in an evidence pattern: see _compile_evidence

SECURITY_VALUES: Final = frozenset({"starttls", "tls"})
APP_PASSWORD_VALUES: Final = frozenset({"required", "recommended", "optional", "none"})
OAUTH_VALUES: Final = frozenset({"required", "supported", "none"})

ARTICLE_FIELDS: Final = frozenset(
    {"id", "title", "summary", "steps", "related", "questions", "tags", "variants"}
)
ARTICLE_OPTIONAL: Final = frozenset({"variants"})
VARIANT_FIELDS: Final = frozenset({"steps"})
PROVIDER_FIELDS: Final = frozenset(
    {
        "id",
        "name",
        "domains",
        "mx",
        "submission",
        "username",
        "app_password",
        "oauth",
        "notes",
        "links",
        "hints",
        "checked",
        "aliases",
        "articles",
    }
)
SUBMISSION_FIELDS: Final = frozenset({"host", "port", "security"})
REPLY_FIELDS: Final = frozenset(
    {"id", "code", "enhanced", "pattern", "provider", "cause", "articles", "role", "evidence"}
)
_ROLES: Final = frozenset(role.value for role in PatternRole)
CLIENT_FIELDS: Final = frozenset({"id", "name", "aliases", "articles"})


def _read_list(root: Path, name: str) -> list[object]:
    path = root / name
    if not path.is_file():
        raise KnowledgeError(source=name, entry=None, reason="file is missing")
    data = read_yaml(path, name)
    if not isinstance(data, list):
        raise KnowledgeError(source=name, entry=None, reason="must be a list of entries")
    return data


def _unique(source: str, items: Iterable[tuple[str, T]]) -> dict[str, T]:
    result: dict[str, T] = {}
    for key, item in items:
        if key in result:
            raise KnowledgeError(source=source, entry=key, reason="duplicate id")
        result[key] = item
    return result


def _parse_list(
    root: Path, name: str, parse: Callable[[Entry], tuple[str, T]], fields: frozenset[str]
) -> dict[str, T]:
    entries = (
        parse(Entry(name, f"#{index}", data, fields))
        for index, data in enumerate(_read_list(root, name))
    )
    return _unique(name, entries)


def _parse_client(entry: Entry) -> tuple[str, Client]:
    client = Client(
        id=entry.ident(),
        name=entry.text("name"),
        aliases=tuple(alias.lower() for alias in entry.texts("aliases")),
        articles=_optional_texts(entry, "articles"),
    )
    return client.id, client


def _parse_provider(entry: Entry) -> tuple[str, Provider]:
    raw_submission = entry.require("submission")
    if not isinstance(raw_submission, list) or not raw_submission:
        entry.fail("'submission' must be a non-empty list of {host, port, security}")
    submissions = []
    for index, item in enumerate(cast(list[object], raw_submission)):
        sub = Entry(entry.source, entry.entry, item, SUBMISSION_FIELDS)
        host = sub.text("host").lower()
        if not HOST.fullmatch(host) or "." not in host:
            sub.fail(f"'submission[{index}].host' {host!r} is not a host name")
        port = sub.integer(f"submission[{index}].port", sub.require("port"), 1, 65535)
        security = sub.choice("security", SECURITY_VALUES)
        submissions.append(Submission(host=host, port=port, security=cast(SecurityName, security)))
    links = entry.texts("links")
    for link in links:
        if not URL.fullmatch(link):
            entry.fail(f"'links' entry {link!r} is not an http(s) URL")
    provider = Provider(
        id=entry.ident(),
        name=entry.text("name"),
        domains=tuple(domain.lower() for domain in entry.texts("domains")),
        mx=tuple(glob.lower() for glob in entry.texts("mx")),
        submission=tuple(submissions),
        username=entry.text("username"),
        app_password=entry.choice("app_password", APP_PASSWORD_VALUES),
        oauth=entry.choice("oauth", OAUTH_VALUES),
        notes=entry.text("notes"),
        links=links,
        hints=tuple(hint.lower() for hint in entry.texts("hints")),
        checked=_checked_date(entry),
        aliases=tuple(alias.lower() for alias in _optional_texts(entry, "aliases")),
        articles=_optional_texts(entry, "articles"),
    )
    return provider.id, provider


def _optional_texts(entry: Entry, name: str) -> tuple[str, ...]:
    return entry.texts(name) if name in entry.data else ()


def _checked_date(entry: Entry) -> datetime.date:
    """The day a provider's facts were last checked: a real date, not in the future."""
    value = entry.require("checked")
    if isinstance(value, datetime.datetime) or not isinstance(value, datetime.date | str):
        entry.fail("'checked' must be a date written YYYY-MM-DD")
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value)
        except ValueError:
            entry.fail(f"'checked' {value!r} is not a date written YYYY-MM-DD")
    if value > datetime.datetime.now(datetime.UTC).date():
        entry.fail(f"'checked' {value.isoformat()} is in the future")
    return value


def _compile(entry: Entry, source: str) -> re.Pattern[str]:
    if len(source) > _MAX_PATTERN:
        entry.fail(f"'pattern' is longer than {_MAX_PATTERN} characters")
    if _NESTED_QUANTIFIER.search(source):
        entry.fail("'pattern' repeats a repeated group (like '(a+)+'), which can hang matching")
    try:
        return re.compile(source, re.IGNORECASE)
    except re.error as exc:
        entry.fail(f"'pattern' is not a valid regular expression: {exc}")


def _compile_evidence(entry: Entry) -> re.Pattern[str]:
    """An entry's ``evidence``, with ``{hosted}`` standing for ``knowledge.text``'s clouds
    and web hosts (the one list the search's steering reads questions with too)."""
    written = entry.text("evidence")
    _compile(entry, written.replace(HOSTED_PLACEHOLDER, "hosted"))  # the written part's checks
    return re.compile(written.replace(HOSTED_PLACEHOLDER, HOSTED_PATTERN), re.IGNORECASE)


def _parse_reply(entry: Entry) -> tuple[str, ReplyPattern]:
    code = entry.require("code")  # null: the text carries no code (client dialogs, TLS errors)
    enhanced = entry.optional_text("enhanced")
    if enhanced is not None and not ENHANCED.fullmatch(enhanced):
        entry.fail(f"'enhanced' {enhanced!r} must look like 5.7.8")
    reply = ReplyPattern(
        id=entry.ident(),
        code=None if code is None else entry.integer("code", code, 200, 599),
        enhanced=enhanced,
        pattern=_compile(entry, entry.text("pattern")),
        provider=entry.optional_text("provider"),
        cause=entry.text("cause"),
        articles=entry.texts("articles", min_items=1),
        role=PatternRole(entry.choice("role", _ROLES, entry.data.get("role", "reply"))),
        evidence=_compile_evidence(entry) if "evidence" in entry.data else None,
    )
    return reply.id, reply


def _parse_article(path: Path, source: str) -> Article:
    entry = Entry(source, path.stem, read_yaml(path, source), ARTICLE_FIELDS)
    for name in ARTICLE_FIELDS - ARTICLE_OPTIONAL:
        entry.require(name)
    article_id = entry.ident()
    if article_id != path.stem:
        entry.fail(f"id {article_id!r} must equal the file name stem {path.stem!r}")
    raw_variants = entry.data.get("variants") or {}
    if not isinstance(raw_variants, dict):
        entry.fail("'variants' must be a mapping of provider or client id to {steps}")
    variants: dict[str, tuple[str, ...]] = {}
    for key, value in raw_variants.items():
        if not isinstance(key, str) or not key:
            entry.fail(f"'variants' key {key!r} must be a provider or client id")
        variant = Entry(source, article_id, value, VARIANT_FIELDS)
        variants[key] = variant.text_list(
            f"variants.{key}.steps", variant.require("steps"), min_items=1
        )
    return Article(
        id=article_id,
        title=entry.text("title"),
        summary=entry.text("summary"),
        steps=entry.texts("steps", min_items=1),
        related=entry.texts("related"),
        questions=entry.texts("questions", min_items=1),
        tags=tuple(tag.lower() for tag in entry.texts("tags")),
        variants=variants,
    )


def _load_articles(root: Path) -> dict[str, tuple[str, Article]]:
    folder = root / "articles"
    if not folder.is_dir():
        raise KnowledgeError(source="articles", entry=None, reason="folder is missing")
    articles: dict[str, tuple[str, Article]] = {}
    for path in sorted(folder.rglob("*.yaml")):
        source = path.relative_to(root).as_posix()
        article = _parse_article(path, source)
        if article.id in articles:
            first = articles[article.id][0]
            raise KnowledgeError(
                source=source, entry=article.id, reason=f"duplicate id (also in {first})"
            )
        articles[article.id] = (source, article)
    if not articles:
        raise KnowledgeError(source="articles", entry=None, reason="holds no article")
    return articles


def _check_references(
    articles: Mapping[str, tuple[str, Article]],
    providers: Mapping[str, Provider],
    replies: Mapping[str, ReplyPattern],
    clients: Mapping[str, Client],
    wordings: Mapping[str, Wording],
) -> None:
    for source, article in articles.values():
        for related in article.related:
            if related not in articles:
                raise KnowledgeError(
                    source=source, entry=article.id, reason=f"related id {related!r} does not exist"
                )
        for key in article.variants:
            if key not in providers and key not in clients:
                raise KnowledgeError(
                    source=source,
                    entry=article.id,
                    reason=f"variant key {key!r} is neither a provider nor a client id",
                )
    named: list[tuple[str, str, tuple[str, ...]]] = [
        *(("providers.yaml", p.id, p.articles) for p in providers.values()),
        *(("clients.yaml", c.id, c.articles) for c in clients.values()),
    ]
    for file_name, named_id, named_articles in named:
        for article_id in named_articles:
            if article_id not in articles:
                raise KnowledgeError(
                    source=file_name,
                    entry=named_id,
                    reason=f"article id {article_id!r} does not exist",
                )
    for reply in replies.values():
        if reply.provider is not None and reply.provider not in providers:
            raise KnowledgeError(
                source="replies.yaml",
                entry=reply.id,
                reason=f"provider {reply.provider!r} is not in providers.yaml",
            )
        for article_id in reply.articles:
            if article_id not in articles:
                raise KnowledgeError(
                    source="replies.yaml",
                    entry=reply.id,
                    reason=f"article id {article_id!r} does not exist",
                )
    for name, wording in wordings.items():
        for article_id in wording.articles:
            if article_id not in articles:
                raise KnowledgeError(
                    source=FINDINGS_FILE,
                    entry=name,
                    reason=f"article id {article_id!r} does not exist",
                )


def _named_wordings(
    findings: Mapping[str, Wording], outcomes: Mapping[str, Wording]
) -> dict[str, Wording]:
    """Every wording, port twins included, by the entry name an error would give."""
    named: dict[str, Wording] = {}
    for key, wording in findings.items():
        named[f"findings.{key}"] = wording
        for port, twin in wording.ports.items():
            named[f"findings.{key}.ports.{port}"] = twin
    named.update((f"outcomes.{key}", wording) for key, wording in outcomes.items())
    return named


def load_knowledge(root: Path | None = None, *, index: bool = True) -> KnowledgeBase:
    """Read and validate ``root`` (default: the package's ``data`` folder).

    Raises ``KnowledgeError`` for the first problem found. The search index is
    built here too (unless ``index=False``: a CLI ``explain`` never searches), so
    the first question pays no warm-up cost.
    """
    root = DEFAULT_ROOT if root is None else Path(root)
    articles = with_asked(root, _load_articles(root))
    clients = _parse_list(root, "clients.yaml", _parse_client, CLIENT_FIELDS)
    providers = _parse_list(root, "providers.yaml", _parse_provider, PROVIDER_FIELDS)
    replies = _parse_list(root, "replies.yaml", _parse_reply, REPLY_FIELDS)
    clash = sorted(set(providers) & set(clients))
    if clash:
        raise KnowledgeError(
            source="clients.yaml",
            entry=clash[0],
            reason="id is also a provider id, so article variants would be ambiguous",
        )
    findings, outcomes = load_findings(root)
    _check_references(articles, providers, replies, clients, _named_wordings(findings, outcomes))
    ispdb, commit = load_ispdb(root, providers)
    gateways, wording = load_discovery(root)
    directory = build_directory(providers, ispdb, commit=commit, gateways=gateways, wording=wording)
    kb = KnowledgeBase(
        articles={article_id: article for article_id, (_, article) in articles.items()},
        providers=providers,
        replies=tuple(replies.values()),
        clients=clients,
        findings=MappingProxyType(findings),
        outcomes=MappingProxyType(outcomes),
        directory=directory,
        faq=MappingProxyType(load_faq(root, articles)),
    )
    if index:
        _warm_up(kb)
    return kb


def _warm_up(kb: KnowledgeBase, *, cache_key: str | None = None) -> None:
    from knowledge.search import warm_up  # search imports the model, not the loader

    warm_up(kb, cache_key=cache_key)  # idempotent: the index is kept per knowledge base
