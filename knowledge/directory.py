"""Who runs a domain, a host or an MX: the curated table first, then Thunderbird's ISPDB.

``build_directory`` indexes both once at load time; the lookups below are what
discovery, the Slack prefill and the conversation's provider detection share, so
all of them know every ISPDB provider and agree on which one a name belongs to.
Where both sources know a domain or a host, the curated table wins: it is newer
for some providers (IONOS host names, Microsoft's OAuth-only consumer accounts).
"""

from __future__ import annotations

import fnmatch
import weakref
from collections.abc import Iterable, Mapping
from typing import Final

from knowledge.model import DiscoveryWording, Gateway, KnowledgeBase, Provider, ProviderDirectory

# Two-label public suffixes common enough to matter for MX hosts. Without the
# full Public Suffix List, "mx.example.co.uk" would otherwise reduce to "co.uk".
_TWO_LABEL_SUFFIXES_TEXT: Final = """
    co.uk org.uk ac.uk gov.uk me.uk ltd.uk plc.uk net.uk com.au net.au org.au edu.au
    co.nz org.nz net.nz co.jp ne.jp or.jp ac.jp co.za org.za com.br net.br co.in net.in
    org.in firm.in com.cn net.cn org.cn com.mx com.ar com.tr com.tw com.hk com.sg com.my
    co.kr or.kr co.il org.il com.pl net.pl co.at or.at gv.at com.es com.pt"""
_TWO_LABEL_SUFFIXES: Final = frozenset(_TWO_LABEL_SUFFIXES_TEXT.split())


def build_directory(
    curated: Mapping[str, Provider],
    ispdb: Mapping[str, Provider],
    *,
    commit: str = "",
    gateways: Iterable[Gateway] = (),
    wording: DiscoveryWording | None = None,
) -> ProviderDirectory:
    """Index every provider by domain and submission host; the first source to claim wins."""
    by_domain: dict[str, Provider] = {}
    by_host: dict[str, Provider] = {}
    for provider in (*curated.values(), *ispdb.values()):
        for domain in provider.domains:
            by_domain.setdefault(domain, provider)
        for submission in provider.submission:
            if "%" not in submission.host:  # a %EMAILDOMAIN% template names no one host
                by_host.setdefault(submission.host, provider)
    return ProviderDirectory(
        ispdb=dict(ispdb),
        ispdb_commit=commit,
        by_domain=by_domain,
        by_host=by_host,
        gateways=tuple(gateways),
        wording=wording,
    )


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
    found = kb.provider_for_domain(domain)
    if found is not None:
        return found
    # A knowledge base built without a directory (tests) still knows its curated table.
    return next((p for p in kb.providers.values() if domain in p.domains), None)


def provider_for_host(kb: KnowledgeBase, host: str) -> Provider | None:
    """The provider a host belongs to: a submission host, an MX glob, or a base domain."""
    host = host.lower().rstrip(".")
    found = kb.provider_for_submission_host(host)
    if found is not None:
        return found
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
        # domains of its own, e.g. Google Workspace) before the consumer service sharing its MX;
        # the curated table before ISPDB's MX hints.
        providers = (*kb.providers.values(), *kb.directory.ispdb.values())
        globs = [(glob, p) for p in providers for glob in p.mx]
        ordered = _glob_orders[kb] = tuple(
            sorted(
                globs,
                key=lambda item: (
                    item[1].source != "provider",
                    -len(item[0].replace("*", "")),
                    bool(item[1].domains),
                ),
            )
        )
    return ordered


_GLOB_CHARS: Final = frozenset("*?[")


def glob_matches(name: str, glob: str) -> bool:
    """``fnmatch.fnmatchcase(name, glob)``, without compiling a pattern for the usual
    shapes (a plain name, ``*.example.com``): an MX look-up tries some 60 globs, and
    compiling each costs more than the rest of the look-up."""
    suffix = glob[1:] if glob.startswith("*") else None
    plain = glob if suffix is None else suffix
    if _GLOB_CHARS.isdisjoint(plain):
        return name == glob if suffix is None else name.endswith(suffix)
    return fnmatch.fnmatchcase(name, glob)


def provider_for_mx(kb: KnowledgeBase, mx_host: str) -> Provider | None:
    """Match an MX host to a provider (globs first, then Thunderbird-style base domains)."""
    ordered = _glob_order(kb)
    for name in base_domains(mx_host):
        for glob, provider in ordered:
            if glob_matches(name, glob) or glob.removeprefix("*.") == name:
                return provider
        found = provider_for_domain(kb, name)
        if found is not None:
            return found
    return None
