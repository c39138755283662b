"""Where the probe may connect: the egress (SSRF) policy and the one DNS resolution it trusts.

The probe reaches public mail servers only. ``EgressPolicy.check`` decides from
an explicit table of refused networks (most specific first, so the reason names
the narrowest match) and, behind it, Python's ``is_global`` as a safety net;
the table comes first because ``is_global`` misses ranges (documentation,
benchmarking, NAT64, IPv4-mapped forms on some versions) and cannot say *why*.
``allow_networks`` (``SMTPCHECK_ALLOW_NETWORKS``) wins over everything, for
test servers on loopback or an internal relay.

``resolve_target`` resolves a name exactly once (A and AAAA together) and
checks every answer; the caller connects only to an address it returned. One
family's lookup failing (REFUSED, SERVFAIL, a timeout: common with broken IPv6
DNS) does not sink the other's answers: they are used, and the failure noted.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

import dns.asyncresolver
import dns.resolver

from bot.errors import LookupFailed, PolicyError
from bot.probe.addresses import IPAddress, is_numeric_name, parse_ip_literal
from bot.resolver import LookupProblem, failure_detail, lookup

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_PUBLIC_ONLY: Final = "the probe only reaches public mail servers"
_EMBEDS_IPV4: Final = (
    "the probe refuses IPv6 forms that carry an IPv4 address inside, because they can "
    "lead to addresses it would otherwise refuse"
)

# (network, what it is). Order matters: the first match names the reason, so
# the narrow entries (metadata, broadcast, loopback) come before their parents.
_REFUSED_V4: Final[tuple[tuple[str, str], ...]] = (
    ("169.254.169.254/32", "a cloud metadata address"),  # AWS, GCP, Azure IMDS, OCI
    ("100.100.100.200/32", "a cloud metadata address"),  # Alibaba Cloud
    ("168.63.129.16/32", "a cloud metadata address"),  # Azure wire server (public-looking)
    ("192.0.0.192/32", "a cloud metadata address"),  # Oracle Cloud (classic)
    ("0.0.0.0/32", "the unspecified address"),
    ("0.0.0.0/8", "a 'this network' address (0.0.0.0/8)"),
    ("255.255.255.255/32", "the broadcast address"),
    ("127.0.0.0/8", "a loopback address"),
    ("10.0.0.0/8", "a private address"),
    ("172.16.0.0/12", "a private address"),
    ("192.168.0.0/16", "a private address"),
    ("100.64.0.0/10", "a carrier-grade NAT (shared) address"),
    ("169.254.0.0/16", "a link-local address"),
    ("192.0.0.0/24", "reserved for IETF protocol assignments"),
    ("192.0.2.0/24", "a documentation address (TEST-NET-1)"),
    ("198.51.100.0/24", "a documentation address (TEST-NET-2)"),
    ("203.0.113.0/24", "a documentation address (TEST-NET-3)"),
    ("198.18.0.0/15", "reserved for network benchmarking"),
    ("192.88.99.0/24", "a retired 6to4 relay address"),
    ("224.0.0.0/4", "a multicast address"),
    ("240.0.0.0/4", "a reserved address"),
)
_REFUSED_V6: Final[tuple[tuple[str, str], ...]] = (
    ("fd00:ec2::254/128", "a cloud metadata address"),  # AWS IMDS over IPv6
    ("::/128", "the unspecified address"),
    ("::1/128", "the loopback address"),
    ("::ffff:0:0/96", "an IPv4-mapped IPv6 address"),
    ("::ffff:0:0:0/96", "an IPv4-translated IPv6 address"),
    ("::/96", "an IPv4-compatible IPv6 address"),
    ("64:ff9b::/96", "a NAT64 address"),
    ("64:ff9b:1::/48", "a local-use NAT64 address"),
    ("2002::/16", "a 6to4 address"),
    ("2001::/32", "a Teredo address"),
    ("100::/64", "a discard-only address"),
    ("2001:db8::/32", "a documentation address"),
    ("3fff::/20", "a documentation address"),
    ("2001:2::/48", "reserved for network benchmarking"),
    ("2001::/23", "reserved for IETF protocol assignments"),
    ("5f00::/16", "reserved for segment routing (SRv6)"),
    ("fc00::/7", "a private (unique local) address"),
    ("fe80::/10", "a link-local address"),
    ("fec0::/10", "a site-local address (deprecated)"),
    ("ff00::/8", "a multicast address"),
)
# IPv6 networks whose addresses carry an IPv4 address; refused for that reason.
_EMBEDDING: Final = frozenset(
    ipaddress.IPv6Network(net)
    for net in ("::ffff:0:0/96", "::ffff:0:0:0/96", "::/96", "64:ff9b::/96", "64:ff9b:1::/48")
) | frozenset(ipaddress.IPv6Network(net) for net in ("2002::/16", "2001::/32"))
_GLOBAL_UNICAST_V6: Final = ipaddress.IPv6Network("2000::/3")

_REFUSED: Final[tuple[tuple[IPNetwork, str], ...]] = tuple(
    (ipaddress.ip_network(net), what) for net, what in _REFUSED_V4 + _REFUSED_V6
)

# When both lookups fail, the more telling reason wins: a broken resolver
# says more than "no such name", which says more than "no address records".
_REASON_RANK: Final = {
    LookupProblem.UNREACHABLE: 0,
    LookupProblem.FAILURE: 1,
    LookupProblem.TIMEOUT: 2,
    LookupProblem.NXDOMAIN: 3,
    LookupProblem.NO_ANSWER: 4,
}


@dataclass(frozen=True, slots=True, init=False)
class EgressPolicy:
    """Which addresses the probe may connect to. Pure: no I/O."""

    allow_networks: tuple[IPNetwork, ...]

    def __init__(self, allow_networks: Iterable[IPNetwork] = ()) -> None:
        # Any iterable (Settings.allow_networks, a list in a test); kept as a tuple.
        object.__setattr__(self, "allow_networks", tuple(allow_networks))

    def check(self, ip: IPAddress) -> None:
        """Return if the probe may connect to ``ip``; raise ``PolicyError`` saying why not."""
        reason = self.refusal(ip)
        if reason is not None:
            raise PolicyError(target=str(ip), reason=reason, addresses=(str(ip),))

    def refusal(self, ip: IPAddress) -> str | None:
        """Why ``ip`` is refused, in plain words, or None when it may be reached."""
        if any(ip.version == net.version and ip in net for net in self.allow_networks):
            return None
        if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
            return f"{ip} has a zone index; {_PUBLIC_ONLY}"
        for network, what in _REFUSED:
            if ip.version == network.version and ip in network:
                return _explain(ip, network, what)
        if isinstance(ip, ipaddress.IPv6Address) and ip not in _GLOBAL_UNICAST_V6:
            return f"{ip} is outside the IPv6 global unicast range (2000::/3); {_PUBLIC_ONLY}"
        if not ip.is_global:
            return f"{ip} is not a public address; {_PUBLIC_ONLY}"
        return None


def _explain(ip: IPAddress, network: IPNetwork, what: str) -> str:
    if isinstance(ip, ipaddress.IPv6Address) and network in _EMBEDDING:
        inner = _embedded_ipv4(ip)
        return f"{ip} is {what} (it carries {inner}); {_EMBEDS_IPV4}"
    return f"{ip} is {what}; {_PUBLIC_ONLY}"


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address:
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client's (de-obfuscated) IPv4 address
    # Mapped, translated, compatible and NAT64 forms keep it in the low 32 bits.
    return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)


@dataclass(frozen=True, slots=True)
class Resolution:
    """The checked addresses of a name, and the lookups that failed on the way.

    ``failed`` holds ``(record type, what went wrong)`` for a family whose lookup errored
    while the other one answered (empty answers are not failures): ``refused``,
    ``servfail``, ``timeout``... (``bot.resolver.failure_detail``).
    """

    addresses: tuple[IPAddress, ...]
    failed: tuple[tuple[str, str], ...] = ()


async def resolve_target(
    host: str,
    *,
    resolver: dns.asyncresolver.Resolver,
    policy: EgressPolicy,
    lifetime: float,
) -> Resolution:
    """Resolve ``host`` once and return the addresses the probe may connect to.

    An IP literal is checked and returned as itself. A name is looked up for A
    and AAAA concurrently; IPv4 addresses come first, each family in the order
    the DNS answer gave them, duplicates removed.

    - ``PolicyError`` (target = the name) when *any* address that came back is
      refused, whatever the other lookup did: a name mixing public and
      non-public answers is treated as a DNS rebinding attempt.
    - ``LookupFailed`` when no lookup gives an address; the reason is the most
      telling one (``LookupProblem`` order: unreachable > failure > timeout >
      nxdomain > no_answer).
    - Otherwise the addresses, with the lookup of the other family noted in
      ``failed`` when it errored: every address that was seen was checked, and
      the probe only ever connects to one of those.
    """
    literal = parse_ip_literal(host)
    if literal is not None:
        policy.check(literal)
        return Resolution((literal,))
    if is_numeric_name(host) or ":" in host or "%" in host:
        # Never let a numeric spelling (127.1, 0x7f.1) or a malformed address stand in for
        # a name: build_request already refuses these; this is the last line of defence.
        raise PolicyError(
            target=host, reason=f"{host} is neither a server name nor a plain IP address"
        )
    rdtypes = ("A", "AAAA")
    results = await asyncio.gather(
        *(_addresses(resolver, host, rdtype, lifetime) for rdtype in rdtypes),
        return_exceptions=True,
    )
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, LookupFailed):
            raise result  # a bug or a cancellation, not a DNS answer
    addresses = tuple(dict.fromkeys(ip for r in results if isinstance(r, tuple) for ip in r))
    if addresses:
        _check_all(host, addresses, policy)
        failed = tuple(
            (rdtype, failure_detail(r))
            for rdtype, r in zip(rdtypes, results, strict=True)
            if isinstance(r, LookupFailed) and r.reason != LookupProblem.NO_ANSWER
        )
        return Resolution(addresses, failed)
    reasons = [r.reason for r in results if isinstance(r, LookupFailed)]
    raise LookupFailed(name=host, reason=min(reasons, key=_rank, default=LookupProblem.NO_ANSWER))


def _rank(reason: str) -> int:
    known = reason in LookupProblem.__members__.values()
    return _REASON_RANK[LookupProblem(reason)] if known else _REASON_RANK[LookupProblem.FAILURE]


async def _addresses(
    resolver: dns.asyncresolver.Resolver, host: str, rdtype: str, lifetime: float
) -> tuple[IPAddress, ...]:
    answer: dns.resolver.Answer = await lookup(resolver, host, rdtype, lifetime=lifetime)
    return tuple(ipaddress.ip_address(record.address) for record in answer)


def _check_all(host: str, addresses: tuple[IPAddress, ...], policy: EgressPolicy) -> None:
    refused = [(ip, why) for ip in addresses if (why := policy.refusal(ip)) is not None]
    if not refused:
        return
    first = refused[0][1]
    if len(refused) == len(addresses):
        reason = f"{host} resolves only to addresses the probe may not reach: {first}"
    else:
        reason = (
            f"{host} resolves to both public and non-public addresses, which is refused "
            f"as a possible DNS rebinding attack: {first}"
        )
    raise PolicyError(target=host, reason=reason, addresses=tuple(str(ip) for ip, _ in refused))
