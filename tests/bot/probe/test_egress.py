"""Egress policy and resolve_target: only checked public addresses, fail closed on DNS errors.

Public-looking test answers use real public addresses (8.8.8.8, 1.1.1.1,
2606:4700::1111); nothing here ever connects to them, they are only resolved
from a local DNS server.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator

import pytest

from bot.errors import LookupFailed, PolicyError
from bot.probe.egress import EgressPolicy, resolve_target
from bot.resolver import make_resolver
from tests.support.dns_server import DnsServer, dns_server

ZONE = {
    ("public.test.", "A"): ["8.8.8.8", "1.1.1.1"],
    ("public.test.", "AAAA"): ["2606:4700::1111"],
    ("v4only.test.", "A"): ["8.8.8.8"],
    ("v6only.test.", "AAAA"): ["2606:4700::1111"],
    ("private.test.", "A"): ["10.0.0.5"],
    ("mixed.test.", "A"): ["8.8.8.8", "10.0.0.5"],
    ("mixed-family.test.", "A"): ["1.1.1.1"],
    ("mixed-family.test.", "AAAA"): ["fd00::5"],
    ("mapped.test.", "AAAA"): ["::ffff:127.0.0.1"],
    ("loopback.test.", "A"): ["127.0.0.1"],
    ("metadata.test.", "A"): ["169.254.169.254"],
    ("doc.test.", "A"): ["192.0.2.10"],
    ("dupes.test.", "A"): ["8.8.8.8", "8.8.8.8"],
    ("text-only.test.", "TXT"): ['"no address here"'],
}


@pytest.fixture(scope="module")
def shared_server() -> Iterator[DnsServer]:
    with dns_server(ZONE, silent=["silent.test."], servfail=["broken.test."]) as running:
        yield running


@pytest.fixture
def server(shared_server: DnsServer) -> DnsServer:
    shared_server.queries.clear()  # each test sees only its own queries
    return shared_server


async def resolve(
    server: DnsServer, host: str, policy: EgressPolicy | None = None, lifetime: float = 2.0
) -> tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ...]:
    resolver = make_resolver([(server.host, server.port)], lifetime=lifetime)
    resolution = await resolve_target(
        host, resolver=resolver, policy=policy or EgressPolicy(), lifetime=lifetime
    )
    return resolution.addresses


# --- the policy table ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "what"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.5", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("169.254.169.254", "cloud metadata"),
        ("fd00:ec2::254", "cloud metadata"),
        ("100.100.100.200", "cloud metadata"),
        ("168.63.129.16", "cloud metadata"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("100.127.255.254", "carrier-grade NAT"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("ff02::1", "multicast"),
        ("ff0e::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("0.1.2.3", "this network"),
        ("255.255.255.255", "broadcast"),
        ("240.0.0.1", "reserved"),
        ("192.0.0.8", "IETF protocol assignments"),
        ("192.0.2.1", "documentation"),
        ("198.51.100.7", "documentation"),
        ("203.0.113.9", "documentation"),
        ("2001:db8::1", "documentation"),
        ("3fff::1", "documentation"),
        ("198.18.0.1", "benchmarking"),
        ("198.19.255.1", "benchmarking"),
        ("2001:2::1", "benchmarking"),
        ("192.88.99.1", "6to4 relay"),
        ("100::1", "discard-only"),
        ("2001:10::1", "IETF protocol assignments"),
        ("5f00::1", "segment routing"),
        ("fec0::1", "site-local"),
        ("4000::1", "global unicast range"),
        ("::ffff:127.0.0.1", "IPv4-mapped"),
        ("::ffff:8.8.8.8", "IPv4-mapped"),  # refused even when the IPv4 inside is public
        ("::ffff:0:a00:5", "IPv4-translated"),
        ("::127.0.0.1", "IPv4-compatible"),
        ("::8.8.8.8", "IPv4-compatible"),
        ("64:ff9b::7f00:1", "NAT64"),
        ("64:ff9b::808:808", "NAT64"),
        ("64:ff9b:1::a00:5", "local-use NAT64"),
        ("2002:7f00:1::1", "6to4"),
        ("2002:808:808::1", "6to4"),
        ("2001:0:4136:e378:8000:63bf:80ff:fffe", "Teredo"),
    ],
)
def test_policy_refuses_non_public_addresses(address: str, what: str) -> None:
    """Every non-public range and every IPv4-embedding IPv6 form is refused, naming why."""
    ip = ipaddress.ip_address(address)
    with pytest.raises(PolicyError) as caught:
        EgressPolicy().check(ip)
    assert caught.value.target == str(ip)
    assert what in caught.value.reason
    assert str(ip) in caught.value.reason


@pytest.mark.parametrize(
    ("address", "inner"),
    [
        ("::ffff:127.0.0.1", "127.0.0.1"),
        ("64:ff9b::a00:5", "10.0.0.5"),
        ("2002:7f00:1::1", "127.0.0.1"),
        ("::7f00:1", "127.0.0.1"),
    ],
)
def test_embedded_forms_say_which_ipv4_they_carry(address: str, inner: str) -> None:
    """The reason for an IPv4-embedding form names the IPv4 address inside it."""
    with pytest.raises(PolicyError) as caught:
        EgressPolicy().check(ipaddress.ip_address(address))
    assert f"carries {inner}" in caught.value.reason


def test_reasons_read_as_plain_sentences() -> None:
    """A loopback refusal reads as one plain sentence a user understands."""
    with pytest.raises(PolicyError) as caught:
        EgressPolicy().check(ipaddress.ip_address("127.0.0.1"))
    assert caught.value.reason == (
        "127.0.0.1 is a loopback address; the probe only reaches public mail servers"
    )


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "74.125.140.108", "2606:4700::1111", "2a00:1450::1"]
)
def test_policy_allows_public_addresses(address: str) -> None:
    """Ordinary public unicast addresses pass."""
    ip = ipaddress.ip_address(address)
    EgressPolicy().check(ip)
    assert EgressPolicy().refusal(ip) is None


@pytest.mark.parametrize(
    ("network", "address"),
    [
        ("127.0.0.0/8", "127.0.0.1"),
        ("10.1.0.0/16", "10.1.2.3"),
        ("192.0.2.0/24", "192.0.2.25"),
        ("::1/128", "::1"),
        ("fd00::/8", "fd00::25"),
        ("::ffff:0:0/96", "::ffff:127.0.0.1"),
    ],
)
def test_allow_list_wins(network: str, address: str) -> None:
    """An address inside SMTPCHECK_ALLOW_NETWORKS is allowed whatever its range."""
    policy = EgressPolicy((ipaddress.ip_network(network),))
    policy.check(ipaddress.ip_address(address))


def test_allow_list_is_exact() -> None:
    """Allowing one network opens neither its neighbours nor its IPv4-mapped twin."""
    policy = EgressPolicy([ipaddress.ip_network("127.0.0.0/8")])
    assert policy.allow_networks == (ipaddress.ip_network("127.0.0.0/8"),)
    for address in ("10.0.0.1", "::ffff:127.0.0.1", "::1", "169.254.169.254"):
        with pytest.raises(PolicyError):
            policy.check(ipaddress.ip_address(address))


# --- resolve_target -----------------------------------------------------------------


async def test_public_name_returns_every_address_ipv4_first(server: DnsServer) -> None:
    """A public name is resolved once for A and AAAA; every address returned, IPv4 first."""
    addresses = [str(ip) for ip in await resolve(server, "public.test")]
    assert sorted(addresses[:2]) == ["1.1.1.1", "8.8.8.8"]
    assert addresses[2:] == ["2606:4700::1111"]
    assert sorted(server.queries) == [("public.test.", "A"), ("public.test.", "AAAA")]


async def test_one_family_missing_is_fine(server: DnsServer) -> None:
    """A name with only A, or only AAAA, records resolves to those."""
    assert [str(ip) for ip in await resolve(server, "v4only.test")] == ["8.8.8.8"]
    assert [str(ip) for ip in await resolve(server, "v6only.test")] == ["2606:4700::1111"]


async def test_duplicate_answers_are_collapsed(server: DnsServer) -> None:
    """The same address twice in the answer is returned once."""
    assert [str(ip) for ip in await resolve(server, "dupes.test")] == ["8.8.8.8"]


@pytest.mark.parametrize(
    ("name", "what"),
    [
        ("private.test", "private"),
        ("loopback.test", "loopback"),
        ("metadata.test", "cloud metadata"),
        ("doc.test", "documentation"),
        ("mapped.test", "IPv4-mapped"),
    ],
)
async def test_name_resolving_to_forbidden_address_is_refused(
    server: DnsServer, name: str, what: str
) -> None:
    """A name whose only answers are forbidden is refused, naming the address and why."""
    with pytest.raises(PolicyError) as caught:
        await resolve(server, name)
    assert caught.value.target == name
    assert "resolves only to addresses the probe may not reach" in caught.value.reason
    assert what in caught.value.reason


@pytest.mark.parametrize("name", ["mixed.test", "mixed-family.test"])
async def test_name_mixing_public_and_private_answers_is_refused(
    server: DnsServer, name: str
) -> None:
    """One public plus one private answer refuses the whole name as a rebinding signal."""
    with pytest.raises(PolicyError) as caught:
        await resolve(server, name)
    assert caught.value.target == name
    assert "rebinding" in caught.value.reason


async def test_allow_list_lets_a_loopback_name_through(server: DnsServer) -> None:
    """With 127.0.0.0/8 allowed (test servers), a name resolving to loopback resolves."""
    policy = EgressPolicy((ipaddress.ip_network("127.0.0.0/8"),))
    addresses = await resolve(server, "loopback.test", policy)
    assert addresses == (ipaddress.ip_address("127.0.0.1"),)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("missing.test", "nxdomain"),
        ("text-only.test", "no_answer"),
        ("broken.test", "failure"),
    ],
)
async def test_dns_errors_fail_closed(server: DnsServer, name: str, reason: str) -> None:
    """NXDOMAIN, no address records and SERVFAIL each raise LookupFailed with a reason."""
    with pytest.raises(LookupFailed) as caught:
        await resolve(server, name)
    assert caught.value.name == name
    assert caught.value.reason == reason


async def test_dns_timeout_fails_closed(server: DnsServer) -> None:
    """A resolver that never answers gives LookupFailed(timeout), not an address."""
    with pytest.raises(LookupFailed) as caught:
        await resolve(server, "silent.test", lifetime=0.4)
    assert caught.value.reason == "timeout"


@pytest.mark.parametrize("rcode", ["SERVFAIL", "REFUSED"])
async def test_a_answer_is_used_when_the_aaaa_lookup_errors(rcode: str) -> None:
    """A good A answer with a broken AAAA lookup is used, and the broken lookup noted."""
    zone = {("v4.test.", "A"): ["8.8.8.8"]}
    with dns_server(zone, rcodes={("v4.test.", "AAAA"): rcode}) as server:
        resolver = make_resolver([(server.host, server.port)], lifetime=2.0)
        resolution = await resolve_target(
            "v4.test", resolver=resolver, policy=EgressPolicy(), lifetime=2.0
        )
    assert resolution.addresses == (ipaddress.ip_address("8.8.8.8"),)
    assert resolution.failed == (("AAAA", rcode.lower()),)


async def test_aaaa_answer_is_used_when_the_a_lookup_errors() -> None:
    """The other way round: IPv6 answers are used when the A query is REFUSED."""
    zone = {("v6.test.", "AAAA"): ["2606:4700::1111"]}
    with dns_server(zone, rcodes={("v6.test.", "A"): "REFUSED"}) as server:
        assert await resolve(server, "v6.test") == (ipaddress.ip_address("2606:4700::1111"),)


@pytest.mark.parametrize("rcode", ["SERVFAIL", "REFUSED"])
async def test_forbidden_answer_is_a_policy_refusal_whatever_the_other_lookup_did(
    rcode: str,
) -> None:
    """A private A answer is refused by policy even though AAAA errored (not a DNS error)."""
    zone = {("inside.test.", "A"): ["10.0.0.5"]}
    rcodes = {("inside.test.", "AAAA"): rcode}
    with dns_server(zone, rcodes=rcodes) as server, pytest.raises(PolicyError) as caught:
        await resolve(server, "inside.test")
    assert "10.0.0.5" in caught.value.reason


async def test_both_lookups_erroring_fails_closed() -> None:
    """No answer from either family is still a LookupFailed, with the most telling reason."""
    with (
        dns_server(
            {}, rcodes={("gone.test.", "A"): "REFUSED", ("gone.test.", "AAAA"): "SERVFAIL"}
        ) as server,
        pytest.raises(LookupFailed) as caught,
    ):
        await resolve(server, "gone.test")
    assert caught.value.reason == "failure"


async def test_unreachable_dns_server_fails_at_once() -> None:
    """A DNS server port with nothing behind it is 'unreachable', not a 5 s timeout.

    The lifetime is 5 s; the lookup raises long before only because the refusal is heard
    (it would otherwise be ``timeout``).
    """
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    resolver = make_resolver([("127.0.0.1", port)], lifetime=5.0)
    with pytest.raises(LookupFailed) as caught:
        await resolve_target("any.test", resolver=resolver, policy=EgressPolicy(), lifetime=5.0)
    assert caught.value.reason == "unreachable"


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("8.8.8.8", "8.8.8.8"),
        ("2606:4700::1111", "2606:4700::1111"),
        ("[2606:4700::1]", "2606:4700::1"),
    ],
)
async def test_ip_literal_is_checked_without_dns(
    server: DnsServer, literal: str, expected: str
) -> None:
    """An IP literal comes back as itself after the check; DNS is never asked."""
    assert [str(ip) for ip in await resolve(server, literal)] == [expected]
    assert server.queries == []


@pytest.mark.parametrize("literal", ["127.0.0.1", "::1", "::ffff:127.0.0.1", "10.0.0.5"])
async def test_forbidden_ip_literal_is_refused_without_dns(server: DnsServer, literal: str) -> None:
    """A forbidden IP literal is refused by the policy before any DNS query."""
    with pytest.raises(PolicyError):
        await resolve(server, literal)
    assert server.queries == []


@pytest.mark.parametrize(
    "host", ["2130706433", "0x7f.1", "127.1", "0", "017700000001", "1.2.3.4.", "fe80::1%eth0"]
)
async def test_numeric_tricks_never_reach_the_resolver(server: DnsServer, host: str) -> None:
    """Numeric spellings are refused by resolve_target itself, before any lookup."""
    with pytest.raises(PolicyError) as caught:
        await resolve(server, host)
    assert caught.value.target == host
    assert server.queries == []
