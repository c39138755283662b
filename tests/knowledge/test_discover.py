"""discover_settings against a local DNS server: SRV, MX, provider table, failures, deadline."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from bot.errors import InputError
from bot.resolver import make_resolver
from knowledge import Candidate, KnowledgeBase, discover_settings, get_knowledge
from knowledge.discover import (
    MxRecord,
    SrvRecord,
    base_domains,
    parse_srv,
    parse_target,
    provider_for_mx,
    rank_candidates,
)
from tests.support.dns_server import DnsServer, dns_server

ZONE = {
    ("_submissions._tcp.srv.test.", "SRV"): ["0 1 465 mail.srv.test."],
    ("_submission._tcp.srv.test.", "SRV"): ["10 1 587 mail.srv.test.", "5 1 2525 alt.srv.test."],
    ("srv.test.", "MX"): ["10 mx.srv.test."],
    ("_submissions._tcp.dot.test.", "SRV"): ["0 0 0 ."],
    ("_submission._tcp.dot.test.", "SRV"): ["0 1 587 smtp.dot.test."],
    ("dot.test.", "MX"): ["10 mx.dot.test."],
    ("contoso.test.", "MX"): ["0 contoso-test.mail.protection.outlook.com."],
    ("fabrikam.test.", "MX"): [
        "5 alt1.aspmx.l.google.com.",
        "1 aspmx.l.google.com.",
        "10 alt2.aspmx.l.google.com.",
    ],
    ("plain.test.", "MX"): ["10 mail.plain.test."],
}


@pytest.fixture
def server() -> Iterator[DnsServer]:
    with dns_server(ZONE, silent=["slow.test.", "_submissions._tcp.slow.test."]) as running:
        yield running


def _hosts(candidates: tuple[Candidate, ...]) -> list[tuple[str, int, str, str]]:
    return [(c.host, c.port, c.security, c.source) for c in candidates]


async def test_srv_records_come_first_in_rfc_order(kb: KnowledgeBase, server: DnsServer) -> None:
    """_submissions (465, TLS) then _submission (587/STARTTLS, by priority), then the guess."""
    resolver = make_resolver([(server.host, server.port)], lifetime=2)
    found = await discover_settings(kb, "alice@srv.test", resolver=resolver)
    assert found.provider is None and found.complete
    assert _hosts(found.candidates) == [
        ("mail.srv.test", 465, "tls", "srv"),
        ("alt.srv.test", 2525, "starttls", "srv"),
        ("mail.srv.test", 587, "starttls", "srv"),
        ("smtp.srv.test", 587, "starttls", "guess"),
    ]


async def test_srv_dot_target_means_no_service(kb: KnowledgeBase, server: DnsServer) -> None:
    """A '.' SRV target (RFC 6186) removes that service; the other one still counts."""
    resolver = make_resolver([(server.host, server.port)], lifetime=2)
    found = await discover_settings(kb, "dot.test", resolver=resolver)
    assert _hosts(found.candidates) == [
        ("smtp.dot.test", 587, "starttls", "srv"),
    ]


async def test_custom_domain_at_microsoft_365(kb: KnowledgeBase, server: DnsServer) -> None:
    """An MX at *.mail.protection.outlook.com means Microsoft 365: smtp.office365.com:587."""
    resolver = make_resolver([(server.host, server.port)], lifetime=2)
    found = await discover_settings(kb, "bob@Contoso.test", resolver=resolver)
    assert found.provider is not None and found.provider.id == "microsoft365"
    assert found.domain == "contoso.test"
    assert _hosts(found.candidates) == [
        ("smtp.office365.com", 587, "starttls", "mx"),
        ("smtp.contoso.test", 587, "starttls", "guess"),
    ]


async def test_custom_domain_at_google(kb: KnowledgeBase, server: DnsServer) -> None:
    """The lowest-preference MX at Google means Google Workspace, not consumer Gmail."""
    resolver = make_resolver([(server.host, server.port)], lifetime=2)
    found = await discover_settings(kb, "carol@fabrikam.test", resolver=resolver)
    assert found.provider is not None and found.provider.id == "google-workspace"
    assert _hosts(found.candidates)[:2] == [
        ("smtp.gmail.com", 465, "tls", "mx"),
        ("smtp.gmail.com", 587, "starttls", "mx"),
    ]


async def test_unknown_mx_leaves_only_the_guess(kb: KnowledgeBase, server: DnsServer) -> None:
    """An MX that matches no provider adds nothing; the guess stays, last."""
    resolver = make_resolver([(server.host, server.port)], lifetime=2)
    found = await discover_settings(kb, "plain.test", resolver=resolver)
    assert found.provider is None
    assert _hosts(found.candidates) == [("smtp.plain.test", 587, "starttls", "guess")]


async def test_nxdomain_gives_no_candidates(kb: KnowledgeBase, server: DnsServer) -> None:
    """A domain that does not exist gets no invented server, and says so."""
    resolver = make_resolver([(server.host, server.port)], lifetime=2)
    found = await discover_settings(kb, "dave@missing.test", resolver=resolver)
    assert found.candidates == ()
    assert found.problem == "nxdomain"
    assert found.as_dict()["provider"] is None


async def test_silent_dns_is_cut_by_the_deadline(kb: KnowledgeBase, server: DnsServer) -> None:
    """A name whose server never answers returns partial results within the deadline."""
    resolver = make_resolver([(server.host, server.port)], lifetime=30)
    started = time.monotonic()
    found = await discover_settings(kb, "erin@slow.test", resolver=resolver, deadline=0.5)
    assert time.monotonic() - started < 2.5  # generous for a loaded 2-core machine
    assert not found.complete
    assert _hosts(found.candidates) == [("smtp.slow.test", 587, "starttls", "guess")]


async def test_known_domain_needs_no_dns(kb: KnowledgeBase) -> None:
    """gmail.com answers from the provider table at once, even with DNS unreachable."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as dead:
        dead.bind(("127.0.0.1", 0))  # bound, never answers
        resolver = make_resolver([dead.getsockname()], lifetime=5)
        started = time.monotonic()
        found = await discover_settings(kb, "frank@GMAIL.com", resolver=resolver)
    assert time.monotonic() - started < 0.5
    assert found.provider is not None and found.provider.id == "gmail"
    assert _hosts(found.candidates) == [
        ("smtp.gmail.com", 465, "tls", "provider"),
        ("smtp.gmail.com", 587, "starttls", "provider"),
    ]


@pytest.mark.parametrize(
    ("email", "provider", "hosts"),
    [
        (
            "kim@naver.com",
            "naver",
            [
                ("smtp.naver.com", 587, "starttls", "provider"),
                ("smtp.naver.com", 465, "tls", "provider"),
            ],
        ),
        ("lee@hanmail.net", "daum", [("smtp.daum.net", 465, "tls", "provider")]),
    ],
)
async def test_korean_providers_come_from_the_provider_table(
    email: str, provider: str, hosts: list[tuple[str, int, str, str]]
) -> None:
    """Naver and Daum are in the curated table, so the note that mail-app access has to be
    switched on comes with their servers (ISPDB alone knows only the servers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as dead:
        dead.bind(("127.0.0.1", 0))
        resolver = make_resolver([dead.getsockname()])
        found = await discover_settings(get_knowledge(), email, resolver=resolver)
    assert found.provider is not None and found.provider.id == provider
    assert _hosts(found.candidates) == hosts
    assert any("사용함" in note for note in found.notes), found.notes


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("not an email", "it contains a space"),
        ("alice@", "no domain after '@'"),
        ("@example.com", "not a valid mailbox"),
        ("a b@example.com", "not a valid mailbox"),
        ("alice@localhost", "not a full domain name"),
        ("http://example.com", "looks like a URL"),
        ("alice@exa mple.com", "the domain after '@' contains a space"),
        ("alice@example.com\r\nRCPT TO:<x>", "line break"),
        ("alice@-bad-.com", "not a valid domain name"),
        ("alice@1.2.3.4", "not a valid domain name"),
        ("a" * 400 + "@example.com", "longer than 320"),
        (5, "must be text"),
    ],
)
def test_bad_input_names_the_email_field(value: str, reason: str) -> None:
    """Anything but an address or a domain is an InputError for 'email' saying what is wrong."""
    with pytest.raises(InputError) as caught:
        parse_target(value)
    assert caught.value.field == "email"
    assert reason in caught.value.reason


def test_idn_domain_becomes_punycode() -> None:
    """International domains are normalised (UTS-46) to their ASCII form."""
    assert parse_target("José@Bücher.example") == ("José", "xn--bcher-kva.example")
    assert parse_target("example.com.") == ("", "example.com")


def test_base_domains_thunderbird_style() -> None:
    """An MX host reduces to base domain plus one label, then the base domain."""
    assert base_domains("contoso-test.mail.protection.outlook.com") == (
        "contoso-test.mail.protection.outlook.com",
        "protection.outlook.com",
        "outlook.com",
    )
    assert base_domains("mx1.mail.example.co.uk") == (
        "mx1.mail.example.co.uk",
        "mail.example.co.uk",
        "example.co.uk",
    )


def test_mx_matching_prefers_the_most_specific_provider(kb: KnowledgeBase) -> None:
    """Outlook.com's MX is not taken for Microsoft 365, nor Gmail's for Workspace."""
    olc = provider_for_mx(kb, "eur.olc.protection.outlook.com")
    assert olc is not None and olc.id == "outlook-com"
    gmail = provider_for_mx(kb, "gmail-smtp-in.l.google.com")
    assert gmail is not None and gmail.id == "gmail"
    assert provider_for_mx(kb, "mx.unknown.example") is None


def test_srv_order_and_deduplication(kb: KnowledgeBase) -> None:
    """SRV by priority then weight; a host:port from SRV and the provider table appears once."""
    records = [
        SrvRecord(10, 5, 587, "b.test."),
        SrvRecord(0, 1, 587, "a.test."),
        SrvRecord(10, 50, 587, "c.test."),
    ]
    assert [c.host for c in parse_srv(records, "starttls")] == ["a.test", "c.test", "b.test"]
    srv = [Candidate(host="smtp.gmail.com", port=465, security="tls", source="srv")]
    provider, candidates = rank_candidates(
        kb, "fabrikam.test", srv=srv, mx=[MxRecord(1, "aspmx.l.google.com")]
    )
    assert provider is not None and provider.id == "google-workspace"
    assert _hosts(candidates) == [
        ("smtp.gmail.com", 465, "tls", "srv"),
        ("smtp.gmail.com", 587, "starttls", "mx"),
        ("smtp.fabrikam.test", 587, "starttls", "guess"),
    ]
