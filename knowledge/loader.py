"""Load the knowledge data files and validate every entry.

The first problem found raises one ``KnowledgeError`` naming the file (relative
to the data root), the entry (its id, or ``#index`` when it has none) and the
reason in one sentence, so a content author can fix it without reading code.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, NoReturn, TypeVar, cast

import yaml

from bot.errors import KnowledgeError
from knowledge.model import (
    TEMPLATE_FIELDS,
    Article,
    Client,
    KnowledgeBase,
    Provider,
    ReplyPattern,
    SecurityName,
    Submission,
    Wording,
)

DEFAULT_ROOT: Final = Path(__file__).resolve().parent / "data"

_ID: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
_ENHANCED: Final = re.compile(r"[245]\.\d{1,3}\.\d{1,3}")
_URL: Final = re.compile(r"https?://\S+")
_HOST: Final = re.compile(r"(?=.{1,253}$)[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?")
# A group that repeats something already repeated: the classic catastrophic shape,
# e.g. "(a+)+" or "(.*)*". Our patterns are ours, but a typo must not hang explain.
_NESTED_QUANTIFIER: Final = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)[+*{]")
_MAX_PATTERN: Final = 500

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
    }
)
SUBMISSION_FIELDS: Final = frozenset({"host", "port", "security"})
REPLY_FIELDS: Final = frozenset(
    {"id", "code", "enhanced", "pattern", "provider", "cause", "articles"}
)
CLIENT_FIELDS: Final = frozenset({"id", "name", "aliases"})
FINDINGS_FILE: Final = "findings.yaml"
FINDINGS_SECTIONS: Final = frozenset({"findings", "outcomes"})
WORDING_FIELDS: Final = frozenset({"summary", "cause", "articles", "next_steps"})
FINDING_FIELDS: Final = WORDING_FIELDS | {"ports"}
OUTCOME_ALIAS_FIELDS: Final = frozenset({"finding"})
_RESULT_KEY: Final = re.compile(r"[a-z][a-z0-9_]*")

_T = TypeVar("_T")


class _Entry:
    """Typed field access for one YAML mapping; every failure names file and entry."""

    def __init__(self, source: str, entry: str, data: object, fields: frozenset[str]) -> None:
        self.source = source
        self.entry = entry
        if not isinstance(data, dict):
            self.fail(f"must be a mapping of fields, not {_kind(data)}")
        self.data: dict[Any, Any] = data
        if isinstance(data.get("id"), str) and data["id"]:
            self.entry = data["id"]
        extra = sorted(str(key) for key in data if key not in fields)
        if extra:
            self.fail(f"unknown field(s): {', '.join(extra)}")

    def fail(self, reason: str) -> NoReturn:
        raise KnowledgeError(source=self.source, entry=self.entry, reason=reason)

    def require(self, name: str) -> object:
        if name not in self.data:
            self.fail(f"missing field '{name}'")
        return self.data[name]

    def text(self, name: str) -> str:
        return self.check_text(name, self.require(name))

    def check_text(self, name: str, value: object) -> str:
        if not isinstance(value, str):
            self.fail(f"'{name}' must be text, not {_kind(value)}")
        text = value.strip()
        if not text:
            self.fail(f"'{name}' is empty")
        return text

    def optional_text(self, name: str) -> str | None:
        value = self.require(name)
        return None if value is None else self.check_text(name, value)

    def integer(self, name: str, value: object, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f"'{name}' must be a whole number, not {_kind(value)}")
        number = value
        if not low <= number <= high:
            self.fail(f"'{name}' must be between {low} and {high}, not {number}")
        return number

    def texts(self, name: str, *, min_items: int = 0) -> tuple[str, ...]:
        return self.text_list(name, self.require(name), min_items=min_items)

    def text_list(self, name: str, items: object, *, min_items: int = 0) -> tuple[str, ...]:
        if not isinstance(items, list):
            self.fail(f"'{name}' must be a list, not {_kind(items)}")
        result = tuple(self.check_text(f"{name}[{i}]", item) for i, item in enumerate(items))
        if len(result) < min_items:
            self.fail(f"'{name}' needs at least {min_items} item(s)")
        return result

    def ident(self, name: str = "id") -> str:
        value = self.text(name)
        if not _ID.fullmatch(value):
            self.fail(f"'{name}' {value!r} must be lower-case letters, digits and dashes")
        return value

    def choice(self, name: str, allowed: frozenset[str], value: object = None) -> str:
        text = self.text(name) if value is None else self.check_text(name, value)
        if text not in allowed:
            self.fail(f"'{name}' must be one of {', '.join(sorted(allowed))}, not {text!r}")
        return text


def _kind(value: object) -> str:
    return "nothing" if value is None else type(value).__name__


def _read_yaml(path: Path, source: str) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "syntax error"
        raise KnowledgeError(
            source=source, entry=None, reason=f"not valid YAML{where}: {problem}"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KnowledgeError(source=source, entry=None, reason=f"cannot read: {exc}") from None


def _read_list(root: Path, name: str) -> list[object]:
    path = root / name
    if not path.is_file():
        raise KnowledgeError(source=name, entry=None, reason="file is missing")
    data = _read_yaml(path, name)
    if not isinstance(data, list):
        raise KnowledgeError(source=name, entry=None, reason="must be a list of entries")
    return data


def _unique(source: str, items: Iterable[tuple[str, _T]]) -> dict[str, _T]:
    result: dict[str, _T] = {}
    for key, item in items:
        if key in result:
            raise KnowledgeError(source=source, entry=key, reason="duplicate id")
        result[key] = item
    return result


def _parse_list(
    root: Path, name: str, parse: Callable[[_Entry], tuple[str, _T]], fields: frozenset[str]
) -> dict[str, _T]:
    entries = (
        parse(_Entry(name, f"#{index}", data, fields))
        for index, data in enumerate(_read_list(root, name))
    )
    return _unique(name, entries)


def _parse_client(entry: _Entry) -> tuple[str, Client]:
    client = Client(
        id=entry.ident(),
        name=entry.text("name"),
        aliases=tuple(alias.lower() for alias in entry.texts("aliases")),
    )
    return client.id, client


def _parse_provider(entry: _Entry) -> tuple[str, Provider]:
    raw_submission = entry.require("submission")
    if not isinstance(raw_submission, list) or not raw_submission:
        entry.fail("'submission' must be a non-empty list of {host, port, security}")
    submissions = []
    for index, item in enumerate(cast(list[object], raw_submission)):
        sub = _Entry(entry.source, entry.entry, item, SUBMISSION_FIELDS)
        host = sub.text("host").lower()
        if not _HOST.fullmatch(host) or "." not in host:
            sub.fail(f"'submission[{index}].host' {host!r} is not a host name")
        port = sub.integer(f"submission[{index}].port", sub.require("port"), 1, 65535)
        security = sub.choice("security", SECURITY_VALUES)
        submissions.append(Submission(host=host, port=port, security=cast(SecurityName, security)))
    links = entry.texts("links")
    for link in links:
        if not _URL.fullmatch(link):
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
    )
    return provider.id, provider


def _compile(entry: _Entry, source: str) -> re.Pattern[str]:
    if len(source) > _MAX_PATTERN:
        entry.fail(f"'pattern' is longer than {_MAX_PATTERN} characters")
    if _NESTED_QUANTIFIER.search(source):
        entry.fail("'pattern' repeats a repeated group (like '(a+)+'), which can hang matching")
    try:
        return re.compile(source, re.IGNORECASE)
    except re.error as exc:
        entry.fail(f"'pattern' is not a valid regular expression: {exc}")


def _parse_reply(entry: _Entry) -> tuple[str, ReplyPattern]:
    code = entry.require("code")  # null: the text carries no code (client dialogs, TLS errors)
    enhanced = entry.optional_text("enhanced")
    if enhanced is not None and not _ENHANCED.fullmatch(enhanced):
        entry.fail(f"'enhanced' {enhanced!r} must look like 5.7.8")
    reply = ReplyPattern(
        id=entry.ident(),
        code=None if code is None else entry.integer("code", code, 200, 599),
        enhanced=enhanced,
        pattern=_compile(entry, entry.text("pattern")),
        provider=entry.optional_text("provider"),
        cause=entry.text("cause"),
        articles=entry.texts("articles", min_items=1),
    )
    return reply.id, reply


def _check_template(entry: _Entry, name: str, text: str) -> str:
    """``text`` if every ``{field}`` in it is a documented one, used plainly."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:  # a lone "{" or "}"
        entry.fail(f"'{name}' is not a valid template ({exc}); write a brace as {{{{ or }}}}")
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in TEMPLATE_FIELDS or spec or conversion:
            allowed = " ".join(f"{{{known}}}" for known in sorted(TEMPLATE_FIELDS))
            entry.fail(f"'{name}' names {{{field}}}; the template fields are {allowed}")
    return text


def _parse_wording(entry: _Entry, ports: Mapping[int, Wording]) -> Wording:
    for name in WORDING_FIELDS:
        entry.require(name)
    return Wording(
        summary=_check_template(entry, "summary", entry.text("summary")),
        cause=_check_template(entry, "cause", entry.text("cause")),
        articles=entry.texts("articles", min_items=1),
        next_steps=tuple(
            _check_template(entry, f"next_steps[{i}]", step)
            for i, step in enumerate(entry.texts("next_steps", min_items=1))
        ),
        ports=MappingProxyType(dict(ports)),
    )


def _parse_finding(key: str, data: object) -> Wording:
    entry = _Entry(FINDINGS_FILE, f"findings.{key}", data, FINDING_FIELDS)
    raw_ports = entry.data.get("ports") or {}
    if not isinstance(raw_ports, dict):
        entry.fail("'ports' must be a mapping of port number to {summary, cause, ...}")
    ports: dict[int, Wording] = {}
    for port, twin in raw_ports.items():
        number = entry.integer(f"ports.{port}", port, 1, 65535)
        twin_entry = _Entry(FINDINGS_FILE, f"findings.{key}.ports.{number}", twin, WORDING_FIELDS)
        ports[number] = _parse_wording(twin_entry, {})
    return _parse_wording(entry, ports)


def _section(data: Mapping[Any, Any], name: str) -> dict[str, object]:
    raw = data.get(name)
    if not isinstance(raw, dict) or not raw:
        raise KnowledgeError(
            source=FINDINGS_FILE, entry=None, reason=f"'{name}' must be a non-empty mapping"
        )
    for key in raw:
        if not isinstance(key, str) or not _RESULT_KEY.fullmatch(key):
            raise KnowledgeError(
                source=FINDINGS_FILE,
                entry=f"{name}.{key}",
                reason="key must be a lower-case value like 'auth_rejected'",
            )
    return raw


def _load_findings(root: Path) -> tuple[dict[str, Wording], dict[str, Wording]]:
    """The wording of live-check results: (by finding value, by outcome value)."""
    path = root / FINDINGS_FILE
    if not path.is_file():
        raise KnowledgeError(source=FINDINGS_FILE, entry=None, reason="file is missing")
    data = _read_yaml(path, FINDINGS_FILE)
    if not isinstance(data, dict):
        raise KnowledgeError(
            source=FINDINGS_FILE, entry=None, reason="must be a mapping with findings and outcomes"
        )
    extra = sorted(str(key) for key in data if key not in FINDINGS_SECTIONS)
    if extra:
        raise KnowledgeError(
            source=FINDINGS_FILE, entry=None, reason=f"unknown section(s): {', '.join(extra)}"
        )
    findings = {key: _parse_finding(key, raw) for key, raw in _section(data, "findings").items()}
    outcomes: dict[str, Wording] = {}
    for key, raw in _section(data, "outcomes").items():
        if isinstance(raw, dict) and "finding" in raw:
            alias = _Entry(FINDINGS_FILE, f"outcomes.{key}", raw, OUTCOME_ALIAS_FIELDS)
            target = alias.text("finding")
            if target not in findings:
                alias.fail(f"'finding' {target!r} is not a key under findings")
            outcomes[key] = findings[target]
        else:
            outcomes[key] = _parse_wording(
                _Entry(FINDINGS_FILE, f"outcomes.{key}", raw, WORDING_FIELDS), {}
            )
    return findings, outcomes


def _parse_article(path: Path, source: str) -> Article:
    entry = _Entry(source, path.stem, _read_yaml(path, source), ARTICLE_FIELDS)
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
        variant = _Entry(source, article_id, value, VARIANT_FIELDS)
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


def load_knowledge(root: Path | None = None) -> KnowledgeBase:
    """Read and validate ``root`` (default: the package's ``data`` folder).

    Raises ``KnowledgeError`` for the first problem found. The search and explain
    indexes are built here too, so the first question pays no warm-up cost.
    """
    root = DEFAULT_ROOT if root is None else Path(root)
    articles = _load_articles(root)
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
    findings, outcomes = _load_findings(root)
    _check_references(articles, providers, replies, clients, _named_wordings(findings, outcomes))
    kb = KnowledgeBase(
        articles={article_id: article for article_id, (_, article) in articles.items()},
        providers=providers,
        replies=tuple(replies.values()),
        clients=clients,
        findings=MappingProxyType(findings),
        outcomes=MappingProxyType(outcomes),
    )
    from knowledge.search import warm_up  # search imports the model, not the loader

    warm_up(kb)
    return kb


@functools.cache
def get_knowledge() -> KnowledgeBase:
    """The default knowledge base, loaded and validated once per process."""
    return load_knowledge()
