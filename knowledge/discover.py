"""Discover submission settings for an email address or a domain.

Order of evidence, best first (what Thunderbird does, minus the HTTP autoconfig):
1. a domain in the provider table (gmail.com...) answers at once, without DNS;
2. SRV records (RFC 6186 ``_submission._tcp`` = 587 STARTTLS, RFC 8314
   ``_submissions._tcp`` = 465 implicit TLS; a "." target means "no service");
3. the lowest-preference MX host, matched against the providers' MX globs,
   then reduced to its registrable base domain plus one more label (to tell
   ``mail.protection.outlook.com`` from ``olc.protection.outlook.com``) and to the
   base domain alone, matched against the providers' domains and globs;
4. a guess, ``smtp.<domain>:587``, last.

The decision logic is pure (``rank_candidates``); ``discover_settings`` is the
thin async part: three concurrent lookups under one deadline, whatever came
back in time is used.
"""

from __future__ import annotations

import asyncio
import fnmatch
import re
import unicodedata
import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import dns.asyncresolver
import idna

from bot.errors import InputError, LookupFailed
from bot.resolver import NXDOMAIN, lookup
from knowledge.model import (
    Candidate,
    CandidateSource,
    Discovery,
    KnowledgeBase,
    Provider,
    SecurityName,
)

MAX_INPUT: Final = 320
_LABEL: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_LOCAL_FORBIDDEN: Final = re.compile(r"[\s\x00-\x1f\x7f<>()\[\],;:\\\"]")
# Two-label public suffixes common enough to matter for MX hosts. Without the
# full Public Suffix List, "mx.example.co.uk" would otherwise reduce to "co.uk".
_TWO_LABEL_SUFFIXES_TEXT: Final = """
    co.uk org.uk ac.uk gov.uk me.uk ltd.uk plc.uk net.uk com.au net.au org.au edu.au
    co.nz org.nz net.nz co.jp ne.jp or.jp ac.jp co.za org.za com.br net.br co.in net.in
    org.in firm.in com.cn net.cn org.cn com.mx com.ar com.tr com.tw com.hk com.sg com.my
    co.kr or.kr co.il org.il com.pl net.pl co.at or.at gv.at com.es com.pt"""
_TWO_LABEL_SUFFIXES: Final = frozenset(_TWO_LABEL_SUFFIXES_TEXT.split())
SRV_SERVICES: Final[tuple[tuple[str, SecurityName], ...]] = (
    ("_submissions._tcp", "tls"),  # RFC 8314 prefers implicit TLS
    ("_submission._tcp", "starttls"),
)


@dataclass(frozen=True, slots=True)
class SrvRecord:
    priority: int
    weight: int
    port: int
    target: str


@dataclass(frozen=True, slots=True)
class MxRecord:
    preference: int
    host: str


def parse_target(value: str) -> tuple[str, str]:
    """``(local part or "", domain)`` from an email address or a bare domain.

    The domain comes back lower-case ASCII (IDN as punycode, UTS-46).
    Raises ``InputError(field="email")`` for anything else.
    """
    if not isinstance(value, str):
        raise InputError(field="email", reason="must be text, like alice@example.com")
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        raise InputError(field="email", reason="is empty; give an address like alice@example.com")
    if len(text) > MAX_INPUT:
        raise InputError(field="email", reason=f"is longer than {MAX_INPUT} characters")
    if any(ch in text for ch in "\r\n\x00"):
        raise InputError(field="email", reason="contains a line break or NUL character")
    if "://" in text or "/" in text:
        raise InputError(field="email", reason="looks like a URL; give an address or a domain")
    local, at, domain = text.rpartition("@")
    if at and (not local or _LOCAL_FORBIDDEN.search(local) or len(local) > 64):
        raise InputError(field="email", reason="the part before '@' is not a valid mailbox")
    return local, _domain(domain)


def _domain(domain: str) -> str:
    domain = domain.removesuffix(".")
    if not domain or any(ch.isspace() for ch in domain):
        raise InputError(field="email", reason="has no valid domain after '@'")
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError):
        raise InputError(field="email", reason=f"{domain!r} is not a valid domain name") from None
    labels = ascii_domain.split(".")
    if len(ascii_domain) > 253 or len(labels) < 2:
        raise InputError(
            field="email", reason=f"{domain!r} is not a full domain name, like example.com"
        )
    if not all(_LABEL.fullmatch(label) for label in labels) or labels[-1].isdigit():
        raise InputError(field="email", reason=f"{domain!r} is not a valid domain name")
    return ascii_domain


def base_domains(host: str) -> tuple[str, ...]:
    """``host``, its registrable base plus one label, and the base: most specific first."""
    labels = host.lower().rstrip(".").split(".")
    size = 3 if ".".join(labels[-2:]) in _TWO_LABEL_SUFFIXES else 2
    names = [host.lower().rstrip(".")]
    for width in (size + 1, size):
        if len(labels) >= width:
            names.append(".".join(labels[-width:]))
    return tuple(dict.fromkeys(names))


def provider_for_domain(kb: KnowledgeBase, domain: str) -> Provider | None:
    """The provider whose own mail domains include ``domain`` (gmail.com -> gmail)."""
    domain = domain.lower().rstrip(".")
    for provider in kb.providers.values():
        if domain in provider.domains:
            return provider
    return None


def provider_for_host(kb: KnowledgeBase, host: str) -> Provider | None:
    """The provider a host belongs to: a submission host, an MX glob, or a base domain."""
    host = host.lower().rstrip(".")
    for provider in kb.providers.values():
        if any(sub.host == host for sub in provider.submission):
            return provider
    return provider_for_mx(kb, host)


_glob_orders: weakref.WeakKeyDictionary[KnowledgeBase, tuple[tuple[str, Provider], ...]] = (
    weakref.WeakKeyDictionary()
)


def _glob_order(kb: KnowledgeBase) -> tuple[tuple[str, Provider], ...]:
    """Every provider's MX globs in match order, sorted once per knowledge base."""
    ordered = _glob_orders.get(kb)
    if ordered is None:
        # The longest (most literal) glob first; on a tie, a hosting provider (no consumer
        # domains of its own, e.g. Google Workspace) before the consumer service sharing its MX.
        globs = [(glob, p) for p in kb.providers.values() for glob in p.mx]
        ordered = _glob_orders[kb] = tuple(
            sorted(globs, key=lambda item: (-len(item[0].replace("*", "")), bool(item[1].domains)))
        )
    return ordered


def provider_for_mx(kb: KnowledgeBase, mx_host: str) -> Provider | None:
    """Match an MX host to a provider (globs first, then Thunderbird-style base domains)."""
    ordered = _glob_order(kb)
    for name in base_domains(mx_host):
        for glob, provider in ordered:
            if fnmatch.fnmatchcase(name, glob) or glob.removeprefix("*.") == name:
                return provider
        found = provider_for_domain(kb, name)
        if found is not None:
            return found
    return None


def parse_srv(records: Iterable[SrvRecord], security: SecurityName) -> list[Candidate]:
    """Candidates from one SRV RRset, by priority then weight; a "." target means none."""
    ordered = sorted(records, key=lambda r: (r.priority, -r.weight))
    if any(r.target in ("", ".") for r in ordered):
        return []  # RFC 2782/6186: the service is decidedly not available here
    return [
        Candidate(host=r.target.lower().rstrip("."), port=r.port, security=security, source="srv")
        for r in ordered
        if 0 < r.port < 65536
    ]


def _provider_candidates(provider: Provider, source: CandidateSource) -> list[Candidate]:
    return [
        Candidate(host=sub.host, port=sub.port, security=sub.security, source=source)
        for sub in provider.submission
    ]


def rank_candidates(
    kb: KnowledgeBase,
    domain: str,
    *,
    srv: Sequence[Candidate] = (),
    mx: Sequence[MxRecord] = (),
    guess: bool = True,
) -> tuple[Provider | None, tuple[Candidate, ...]]:
    """Pure decision step: the provider (from MX) and ranked, de-duplicated candidates."""
    provider = None
    if mx:
        lowest = min(record.preference for record in mx)
        for record in mx:
            if record.preference == lowest:
                provider = provider_for_mx(kb, record.host)
                if provider is not None:
                    break
    candidates: list[Candidate] = list(srv)
    if provider is not None:
        candidates += _provider_candidates(provider, "mx")
    if guess:
        candidates.append(
            Candidate(host=f"smtp.{domain}", port=587, security="starttls", source="guess")
        )
    unique: dict[tuple[str, int], Candidate] = {}
    for candidate in candidates:
        unique.setdefault((candidate.host, candidate.port), candidate)
    return provider, tuple(unique.values())


async def _srv(
    resolver: dns.asyncresolver.Resolver, name: str, security: SecurityName, lifetime: float
) -> list[Candidate]:
    answer = await lookup(resolver, name, "SRV", lifetime=lifetime)
    records = [SrvRecord(r.priority, r.weight, r.port, r.target.to_text()) for r in answer]
    return parse_srv(records, security)


async def _mx(resolver: dns.asyncresolver.Resolver, name: str, lifetime: float) -> list[MxRecord]:
    answer = await lookup(resolver, name, "MX", lifetime=lifetime)
    return [MxRecord(r.preference, r.exchange.to_text().rstrip(".").lower()) for r in answer]


async def discover_settings(
    kb: KnowledgeBase,
    email_or_domain: str,
    *,
    resolver: dns.asyncresolver.Resolver,
    deadline: float = 5.0,
) -> Discovery:
    """Provider and ranked submission candidates for an address or domain.

    Raises ``InputError(field="email")`` for bad input; never raises for DNS
    trouble: lookups that fail or miss the deadline simply contribute nothing.
    """
    _, domain = parse_target(email_or_domain)
    known = provider_for_domain(kb, domain)
    if known is not None:
        return Discovery(
            provider=known,
            candidates=tuple(_provider_candidates(known, "provider")),
            domain=domain,
        )
    srv_results: dict[str, list[Candidate]] = {}
    mx_result: list[MxRecord] = []
    failures: dict[str, str] = {}

    async def srv_task(service: str, security: SecurityName) -> None:
        try:
            srv_results[service] = await _srv(resolver, f"{service}.{domain}", security, deadline)
        except LookupFailed as exc:
            failures[service] = exc.reason

    async def mx_task() -> None:
        try:
            mx_result.extend(await _mx(resolver, domain, deadline))
        except LookupFailed as exc:
            failures["mx"] = exc.reason

    complete = True
    try:
        async with asyncio.timeout(deadline):
            await asyncio.gather(*(srv_task(s, sec) for s, sec in SRV_SERVICES), mx_task())
    except TimeoutError:
        complete = False  # keep whatever came back in time
    srv = [c for service, _ in SRV_SERVICES for c in srv_results.get(service, [])]
    missing = failures.get("mx") == NXDOMAIN
    provider, candidates = rank_candidates(kb, domain, srv=srv, mx=mx_result, guess=not missing)
    return Discovery(
        provider=provider,
        candidates=candidates,
        domain=domain,
        complete=complete,
        problem=NXDOMAIN if missing else None,
    )
