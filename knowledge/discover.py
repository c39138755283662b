"""Discover submission settings for an email address or a domain.

Sources, best first (Thunderbird's order, plus the DNS records it skips):

1. the provider directory: the curated table, then Thunderbird's ISPDB, by the
   address's domain. A hit answers at once, without DNS or HTTP;
2. the domain's own autoconfig document (``autoconfig.<domain>`` and
   ``.well-known``), fetched by an injected ``Fetcher`` (the bot's goes through the
   probe's egress policy), since knowledge does no HTTP of its own;
3. SRV records (RFC 8314 ``_submissions._tcp`` = 465 implicit TLS, RFC 6186
   ``_submission._tcp`` = 587 STARTTLS; a "." target means "no service");
4. the lowest-preference MX host: a filtering gateway (Proofpoint, Mimecast...)
   hides the provider and is said so; otherwise it is matched against the
   directory (MX globs, ISPDB MX hints, Thunderbird-style base domains);
5. a guess, ``smtp.<domain>:587``, last.

Encrypted candidates always come before plaintext ones. The decision logic is pure
(``rank_candidates``, ``describe``); ``discover_settings`` is the thin async part:
concurrent lookups under one deadline, DNS under a shorter one, and any lookup that
failed (REFUSED, SERVFAIL, timeout, unreachable resolver) makes the answer
incomplete and says why.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from bot.errors import FetchFailed, LookupFailed
from knowledge.autoconfig import (
    AutoconfigAnswer,
    BadDocument,
    Fetcher,
    autoconfig_urls,
    parse_autoconfig,
)
from knowledge.directory import (
    base_domains,
    provider_for_domain,
    provider_for_host,
    provider_for_mx,
)
from knowledge.gateways import gateway_for_mx
from knowledge.ispdb import DOMAIN_TEMPLATE
from knowledge.model import (
    Candidate,
    CandidateSource,
    Discovery,
    Gateway,
    KnowledgeBase,
    Problem,
    Provider,
    SecurityName,
)
from knowledge.targets import MAX_INPUT, parse_target

if TYPE_CHECKING:  # dnspython loads only when DNS is asked: a directory hit never needs it
    import dns.asyncresolver

__all__ = [
    "MAX_INPUT",
    "MxRecord",
    "SrvRecord",
    "base_domains",
    "discover_settings",
    "known_discovery",
    "parse_srv",
    "parse_target",
    "provider_for_domain",
    "provider_for_host",
    "provider_for_mx",
    "rank_candidates",
]

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


def provider_candidates(
    provider: Provider, source: CandidateSource, domain: str
) -> list[Candidate]:
    """A provider's servers, encrypted first; a plaintext-only one gets a STARTTLS try first.

    ISPDB's ``%EMAILDOMAIN%`` host template becomes the domain looked up.
    """
    found = [
        Candidate(
            host=sub.host.replace(DOMAIN_TEMPLATE, domain),
            port=sub.port,
            security=sub.security,
            source=source,
        )
        for sub in provider.submission
    ]
    return encrypted_first(found)


def encrypted_first(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Plaintext after every encrypted candidate; when all are plaintext, try STARTTLS first.

    The STARTTLS try goes to the first plaintext host on 587 (submission), marked a guess:
    nothing says it works, but a password should not be sent in the clear untried.
    """
    ordered = sorted(candidates, key=lambda c: c.plaintext)  # stable: source order kept
    if ordered and all(c.plaintext for c in ordered):
        first = ordered[0]
        ordered.insert(0, Candidate(host=first.host, port=587, security="starttls", source="guess"))
    return ordered


def _unique(candidates: Iterable[Candidate]) -> tuple[Candidate, ...]:
    unique: dict[tuple[str, int, bool], Candidate] = {}
    for candidate in candidates:
        unique.setdefault((candidate.host, candidate.port, candidate.plaintext), candidate)
    return tuple(unique.values())


def lowest_mx(mx: Sequence[MxRecord]) -> list[MxRecord]:
    """The MX records mail goes to first (lowest preference), in answer order."""
    if not mx:
        return []
    lowest = min(record.preference for record in mx)
    return [record for record in mx if record.preference == lowest]


def gateway_in(kb: KnowledgeBase, mx: Sequence[MxRecord]) -> Gateway | None:
    """A filtering gateway among the lowest-preference MX hosts, if any."""
    for record in lowest_mx(mx):
        found = gateway_for_mx(kb.directory.gateways, record.host)
        if found is not None:
            return found
    return None


def rank_candidates(
    kb: KnowledgeBase,
    domain: str,
    *,
    srv: Sequence[Candidate] = (),
    mx: Sequence[MxRecord] = (),
    autoconfig: Sequence[Candidate] = (),
    guess: bool = True,
) -> tuple[Provider | None, tuple[Candidate, ...]]:
    """Pure decision step: the provider (from MX) and ranked, de-duplicated candidates.

    Order: the domain's autoconfig, SRV, the MX provider's servers, the guess; then every
    plaintext candidate after every encrypted one. An MX at a filtering gateway names no
    provider (the gateway hides it).
    """
    provider = None
    if gateway_in(kb, mx) is None:
        for record in lowest_mx(mx):
            provider = provider_for_mx(kb, record.host)
            if provider is not None:
                break
    candidates: list[Candidate] = [*autoconfig, *srv]
    if provider is not None:
        candidates += provider_candidates(provider, "mx", domain)
    if guess:
        candidates.append(
            Candidate(host=f"smtp.{domain}", port=587, security="starttls", source="guess")
        )
    return provider, _unique(encrypted_first(candidates))


def describe(
    kb: KnowledgeBase,
    domain: str,
    *,
    provider: Provider | None,
    candidates: tuple[Candidate, ...],
    problem: Problem | None = None,
    gateway: Gateway | None = None,
    username: str | None = None,
    login: str | None = None,
    oauth: str | None = None,
) -> Discovery:
    """The finished answer, with its notes in the order a person needs them.

    OAuth-only comes first (it changes everything else), then a missing or failed
    lookup, then the gateway, then a plaintext-only warning, then the provider's own
    rules (``providers.yaml`` ``notes``: a switch that lets mail apps in, app passwords).
    """
    wording = kb.directory.wording
    oauth_only = (oauth or (provider.oauth if provider else "none")) == "required"
    name = provider.name if provider else domain
    notes: list[str] = []
    if wording is not None:
        fill = {"domain": domain, "provider": name}
        if oauth_only:
            notes.append(wording.oauth_only.format(**fill))
        if problem is not None:
            notes.append(wording.problems[problem.value].format(**fill))
        if gateway is not None:
            notes += [line.format(gateway=gateway.name, **fill) for line in wording.gateway]
        known = [c for c in candidates if c.source != "guess"]
        if known and all(c.plaintext for c in known):
            notes.append(wording.plaintext_only.format(**fill))
    if provider is not None and provider.notes:
        notes.append(provider.notes)
    return Discovery(
        provider=provider,
        candidates=candidates,
        domain=domain,
        complete=problem in (None, Problem.NXDOMAIN),
        problem=problem,
        gateway=gateway,
        username=username or (provider.username if provider else None),
        login=login if login is not None else (provider.login if provider else ""),
        oauth_only=oauth_only,
        notes=tuple(notes),
    )


async def _srv(
    resolver: dns.asyncresolver.Resolver, name: str, security: SecurityName, lifetime: float
) -> list[Candidate]:
    from bot.resolver import lookup

    answer = await lookup(resolver, name, "SRV", lifetime=lifetime)
    records = [SrvRecord(r.priority, r.weight, r.port, r.target.to_text()) for r in answer]
    return parse_srv(records, security)


async def _mx(resolver: dns.asyncresolver.Resolver, name: str, lifetime: float) -> list[MxRecord]:
    from bot.resolver import lookup

    answer = await lookup(resolver, name, "MX", lifetime=lifetime)
    return [MxRecord(r.preference, r.exchange.to_text().rstrip(".").lower()) for r in answer]


async def _autoconfig(fetcher: Fetcher, domain: str) -> AutoconfigAnswer | None:
    """The first of Thunderbird's two URLs that gives a usable document, or None.

    Both are asked at once (a missing one usually costs a full TLS handshake);
    the first URL's answer wins when both have one.
    """

    async def one(url: str) -> AutoconfigAnswer | None:
        try:
            return parse_autoconfig(await fetcher(url, domain=domain))
        except (FetchFailed, BadDocument):
            return None  # most domains publish nothing: not a failure of the lookup

    answers = await asyncio.gather(*(one(url) for url in autoconfig_urls(domain)))
    return next((answer for answer in answers if answer is not None), None)


# Most telling first: a server that refuses says more than one that is down or silent.
_PROBLEM_ORDER: Final = (
    Problem.REFUSED,
    Problem.SERVFAIL,
    Problem.UNREACHABLE,
    Problem.FAILURE,
    Problem.TIMEOUT,
    Problem.DEADLINE,
)


_PROBLEMS: Final = {problem.value: problem for problem in Problem}


def _problem(reasons: Iterable[str]) -> Problem | None:
    seen = {_PROBLEMS.get(reason, Problem.FAILURE) for reason in reasons}
    return next((p for p in _PROBLEM_ORDER if p in seen), None)


def known_discovery(kb: KnowledgeBase, email_or_domain: str) -> Discovery | None:
    """The answer from the provider directory alone (curated table, then ISPDB), or None.

    Pure and immediate: no DNS, no HTTP, nothing loaded for them. Raises ``InputError``
    like ``parse_target``.
    """
    _, domain = parse_target(email_or_domain)
    known = provider_for_domain(kb, domain)
    if known is None:
        return None
    source: CandidateSource = "ispdb" if known.source == "ispdb" else "provider"
    candidates = _unique(provider_candidates(known, source, domain))
    return describe(kb, domain, provider=known, candidates=candidates)


async def discover_settings(
    kb: KnowledgeBase,
    email_or_domain: str,
    *,
    resolver: dns.asyncresolver.Resolver,
    fetcher: Fetcher | None = None,
    deadline: float = 5.0,
    dns_deadline: float | None = None,
) -> Discovery:
    """Provider and ranked submission candidates for an address or domain.

    ``dns_deadline`` bounds each DNS lookup (default ``bot.resolver.DNS_LIFETIME``: a
    query and one retry). Raises ``InputError(field="email")`` for bad input; never raises
    for DNS or HTTP trouble: a failed lookup contributes nothing and makes the answer
    incomplete.
    """
    found = known_discovery(kb, email_or_domain)
    if found is not None:
        return found
    from bot.resolver import DNS_LIFETIME, NO_ANSWER, NXDOMAIN, failure_detail

    _, domain = parse_target(email_or_domain)
    dns_deadline = min(DNS_LIFETIME if dns_deadline is None else dns_deadline, deadline)
    srv_results: dict[str, list[Candidate]] = {}
    mx_result: list[MxRecord] = []
    failures: dict[str, str] = {}
    published: list[AutoconfigAnswer] = []
    mx_done = asyncio.Event()

    async def srv_task(service: str, security: SecurityName) -> None:
        try:
            name = f"{service}.{domain}"
            srv_results[service] = await _srv(resolver, name, security, dns_deadline)
        except LookupFailed as exc:
            failures[service] = failure_detail(exc)

    async def mx_task() -> None:
        try:
            mx_result.extend(await _mx(resolver, domain, dns_deadline))
        except LookupFailed as exc:
            failures["mx"] = failure_detail(exc)
        finally:
            mx_done.set()

    async def autoconfig_task() -> None:
        if fetcher is None:
            return
        # The fetch resolves names with the same resolver: once the MX lookup shows the
        # domain missing or DNS failing, HTTP has nothing to reach. Waiting for it costs
        # one DNS round trip and spares a doomed fetch (and, in the CLI, loading aiohttp).
        await mx_done.wait()
        if failures.get("mx", NO_ANSWER) == NO_ANSWER:
            answer = await _autoconfig(fetcher, domain)
            if answer is not None:
                published.append(answer)

    tasks = [*(srv_task(s, sec) for s, sec in SRV_SERVICES), mx_task(), autoconfig_task()]
    timed_out = False
    try:
        async with asyncio.timeout(deadline):
            await asyncio.gather(*tasks)
    except TimeoutError:
        timed_out = True  # keep whatever came back in time
    missing = failures.get("mx") == NXDOMAIN
    normal = (NXDOMAIN, NO_ANSWER)
    problem = _problem(r for r in failures.values() if r not in normal)
    if problem is None and timed_out:
        # Every DNS lookup that finished answered; what ran out was the overall deadline
        # (the autoconfig fetch, or DNS still pending when the deadline is shorter).
        answered = {*srv_results, *failures}
        pending_dns = not mx_done.is_set() or any(s not in answered for s, _ in SRV_SERVICES)
        problem = Problem.TIMEOUT if pending_dns else Problem.DEADLINE
    if problem is None and missing:
        problem = Problem.NXDOMAIN
    srv = [c for service, _ in SRV_SERVICES for c in srv_results.get(service, [])]
    own = published[0] if published else None
    provider, candidates = rank_candidates(
        kb,
        domain,
        srv=srv,
        mx=mx_result,
        autoconfig=own.candidates if own else (),
        guess=not missing,
    )
    return describe(
        kb,
        domain,
        provider=provider,
        candidates=candidates,
        problem=problem,
        gateway=gateway_in(kb, mx_result),
        username=own.username if own and provider is None else None,
        login=own.login if own and provider is None else None,
        oauth=own.oauth if own and provider is None else None,
    )
