"""Thunderbird's ISPDB snapshot (``data/ispdb.json``): load, validate, turn into providers.

The file is made by ``knowledge/tools/import_ispdb.py`` from a pinned commit of
``thunderbird/autoconfig`` (MPL-2.0, see ``data/ISPDB-LICENSE``). Every entry is
checked like the curated table: a bad file stops loading with one sentence naming
the provider and the problem. Servers are kept in ISPDB's order, except that
encrypted ones always come before plaintext ones (never recommended first).
"""

from __future__ import annotations

import datetime
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final, cast

from bot.errors import KnowledgeError
from knowledge.entries import HOST, Entry
from knowledge.model import Provider, SecurityName, Submission

# ISPDB facts are as current as the snapshot: the pinned commit's date (the importer's
# source). Refreshing the snapshot means updating this date with the commit.
SNAPSHOT_DATE: Final = datetime.date(2026, 3, 12)

ISPDB_FILE: Final = "ispdb.json"
DOMAIN_TEMPLATE: Final = "%EMAILDOMAIN%"  # in a host name: the domain of the address
FORMAT: Final = 1
PROVIDER_FIELDS: Final = frozenset({"id", "name", "domains", "mx", "smtp"})
SERVER_FIELDS: Final = frozenset({"host", "port", "security", "username", "auth"})
SECURITY_VALUES: Final = frozenset({"tls", "starttls", "none"})
AUTH_VALUES: Final = frozenset(
    {
        "password-cleartext",
        "password-encrypted",
        "OAuth2",
        "none",
        "client-IP-address",
        "TLS-client-cert",
        "smtp-after-pop",
        "NTLM",
        "GSSAPI",
    }
)
_ID: Final = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?")
_COMMIT: Final = re.compile(r"[0-9a-f]{40}")
_USERNAME_WORDS: Final = {
    "%EMAILADDRESS%": "your full email address",
    "%EMAILLOCALPART%": "only the part of your address before the @",
    "%EMAILLOCALPART%.%EMAILDOMAIN%": "your address with a dot in place of the @",
}


def username_words(template: str, auth: Sequence[str]) -> str:
    """ISPDB's username template said in words, for a person, not a program."""
    if list(auth) == ["none"]:
        return "none: this server does not ask you to sign in"
    words = _USERNAME_WORDS.get(template.strip())
    if words is not None:
        return words
    if not template.strip():
        return "not listed; usually your full email address"
    spelled = (
        template.replace("%EMAILADDRESS%", "<your address>")
        .replace("%EMAILLOCALPART%", "<the part before the @>")
        .replace("%EMAILDOMAIN%", "<your domain>")
    )
    return f"in the form {spelled}"


def login_template(template: str) -> str:
    """A template smtpcheck can fill in; anything else means "type what the words say"."""
    known = template.strip()
    return known if known in _USERNAME_WORDS and known != "%EMAILADDRESS%" else ""


def oauth_level(servers: Sequence[tuple[str, ...]]) -> str:
    """``required`` when every server signs in only with OAuth2, ``supported``, or ``none``."""
    if servers and all(auth and set(auth) == {"OAuth2"} for auth in servers):
        return "required"
    return "supported" if any("OAuth2" in auth for auth in servers) else "none"


def _domain_list(entry: Entry, name: str) -> tuple[str, ...]:
    domains = entry.texts(name)
    for domain in domains:
        if not HOST.fullmatch(domain) or "." not in domain:
            entry.fail(f"'{name}' entry {domain!r} is not a domain name")
    return domains


def _parse_provider(entry: Entry) -> Provider:
    for name in PROVIDER_FIELDS:
        entry.require(name)
    provider_id = entry.text("id")
    if not _ID.fullmatch(provider_id):
        entry.fail(f"'id' {provider_id!r} must be a lower-case file name like example.com")
    domains = _domain_list(entry, "domains")
    if not domains:
        entry.fail("'domains' needs at least 1 item(s)")
    mx = _domain_list(entry, "mx")
    if not set(mx) <= set(domains):
        entry.fail("every 'mx' hint must also be one of its 'domains'")
    raw = entry.require("smtp")
    if not isinstance(raw, list) or not raw:
        entry.fail("'smtp' must be a non-empty list of servers")
    servers: list[tuple[Submission, str, tuple[str, ...]]] = []
    for index, item in enumerate(cast(list[object], raw)):
        server = Entry(entry.source, entry.entry, item, SERVER_FIELDS)
        host = server.text("host")
        filled = host.replace(DOMAIN_TEMPLATE, "example.com")  # %EMAILDOMAIN%: the user's
        if not HOST.fullmatch(filled) or "." not in filled:
            server.fail(f"'smtp[{index}].host' {host!r} is not a host name")
        port = server.integer(f"smtp[{index}].port", server.require("port"), 1, 65535)
        security = server.choice("security", SECURITY_VALUES)
        username = server.require("username")
        if not isinstance(username, str):
            server.fail(f"'smtp[{index}].username' must be text")
        auth = server.texts("auth")
        unknown = sorted(set(auth) - AUTH_VALUES)
        if unknown:
            server.fail(f"'smtp[{index}].auth' has unknown method(s): {', '.join(unknown)}")
        submission = Submission(host=host, port=port, security=cast(SecurityName, security))
        servers.append((submission, username, auth))
    # Encrypted first, ISPDB's order otherwise (sorted() is stable).
    servers.sort(key=lambda item: item[0].security == "none")
    first_template, first_auth = servers[0][1], servers[0][2]
    return Provider(
        id=provider_id,
        name=entry.text("name") if entry.data.get("name") else provider_id,
        domains=domains,
        mx=tuple(f"*.{hint}" for hint in mx),
        submission=tuple(dict.fromkeys(s for s, _, _ in servers)),
        username=username_words(first_template, first_auth),
        login=login_template(first_template),
        app_password="unknown",  # noqa: S106  # a policy word, not a password
        oauth=oauth_level([auth for _, _, auth in servers]),
        notes="",
        links=(),
        hints=(),
        source="ispdb",
        checked=SNAPSHOT_DATE,
    )


def load_ispdb(root: Path, curated: Mapping[str, Provider]) -> tuple[dict[str, Provider], str]:
    """``(ISPDB providers by id, source commit)``; an absent file means an empty snapshot."""
    path = root / ISPDB_FILE
    if not path.is_file():
        return {}, ""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise KnowledgeError(
            source=ISPDB_FILE, entry=None, reason=f"not valid JSON: {exc}"
        ) from None
    head = Entry(ISPDB_FILE, "#file", document, frozenset({"format", "source", "providers"}))
    if head.require("format") != FORMAT:
        head.fail(f"'format' must be {FORMAT}; re-run knowledge/tools/import_ispdb.py")
    source = Entry(
        ISPDB_FILE, "source", head.require("source"), frozenset({"repository", "commit", "license"})
    )
    commit = source.text("commit")
    if not _COMMIT.fullmatch(commit):
        source.fail("'commit' must be the 40-hex-digit source commit")
    if source.text("license") != "MPL-2.0":
        source.fail("'license' must be MPL-2.0 (the licence of thunderbird/autoconfig)")
    raw = head.require("providers")
    if not isinstance(raw, list):
        head.fail("'providers' must be a list")
    providers: dict[str, Provider] = {}
    for index, item in enumerate(cast(list[object], raw)):
        provider = _parse_provider(Entry(ISPDB_FILE, f"#{index}", item, PROVIDER_FIELDS))
        if provider.id in providers or provider.id in curated:
            raise KnowledgeError(
                source=ISPDB_FILE, entry=provider.id, reason="id is already a provider id"
            )
        providers[provider.id] = provider
    return providers, commit
