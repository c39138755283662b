"""discover_settings with every source: ISPDB, autoconfig, gateways, and honest DNS failures."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import pytest

from bot.errors import FetchFailed
from bot.resolver import DNS_LIFETIME, make_resolver
from knowledge import Candidate, KnowledgeBase, discover_settings
from knowledge.discover import MxRecord, known_discovery, rank_candidates
from knowledge.model import Problem
from tests.support.dns_server import DnsServer, dns_server

ZONE = {
    ("acme.test.", "MX"): ["10 mx0a-001.pphosted.com.", "20 backup.acme.test."],
    ("hosted.test.", "MX"): ["10 in1.mx.example-isp.net."],
    ("both.test.", "MX"): ["10 mail.both.test."],
    ("_submission._tcp.both.test.", "SRV"): ["0 1 25 plain.both.test."],
}
AUTOCONFIG = b"""<clientConfig version="1.1"><emailProvider id="own.test">
<outgoingServer type="smtp"><hostname>smtp.own.test</hostname><port>587</port>
<socketType>STARTTLS</socketType><username>%EMAILADDRESS%</username>
<authentication>OAuth2</authentication></outgoingServer></emailProvider></clientConfig>"""


@pytest.fixture
def server() -> Iterator[DnsServer]:
    with dns_server(ZONE, refused=["refused.test."], servfail=["broken.test."]) as running:
        yield running


def _hosts(candidates: tuple[Candidate, ...]) -> list[tuple[str, int, str, str]]:
    return [(c.host, c.port, c.security, c.source) for c in candidates]


def _dead_resolver(sock: socket.socket) -> object:
    sock.bind(("127.0.0.1", 0))  # bound, never answers: an unreachable resolver
    return make_resolver([sock.getsockname()], lifetime=5)


async def test_ispdb_hit_answers_without_dns(kb: KnowledgeBase) -> None:
    """An ISPDB domain answers from the snapshot at once, even with DNS unreachable."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as dead:
        resolver = _dead_resolver(dead)
        started = time.monotonic()
        found = await discover_settings(kb, "Bob@Example-ISP.example", resolver=resolver)  # type: ignore[arg-type]
    assert time.monotonic() - started < 0.5
    assert found.provider is not None and found.provider.id == "example-isp.test"
    assert _hosts(found.candidates) == [
        ("smtp.example-isp.test", 465, "tls", "ispdb"),
        ("smtp.example-isp.test", 587, "starttls", "ispdb"),
        ("plain.example-isp.test", 25, "none", "ispdb"),
    ]
    assert found.complete and found.username == "your full email address"
    assert found.as_dict()["provider_source"] == "ispdb"


async def test_plaintext_only_provider_is_never_recommended_first(kb: KnowledgeBase) -> None:
    """ISPDB's plaintext-only server is kept, last; a STARTTLS try on it comes first."""
    found = await discover_settings(
        kb, "plainmail.test", resolver=make_resolver([("127.0.0.1", 9)])
    )
    assert _hosts(found.candidates) == [
        ("mail.plainmail.test", 587, "starttls", "guess"),
        ("mail.plainmail.test", 25, "none", "ispdb"),
    ]
    assert found.username == "only the part of your address before the @"
    assert any("unencrypted" in note for note in found.notes)


async def test_oauth_only_provider_is_said_up_front(kb: KnowledgeBase) -> None:
    """A provider whose servers take only OAuth2: flagged, and the first note says so."""
    found = await discover_settings(
        kb, "x@oauthonly.test", resolver=make_resolver([("127.0.0.1", 9)])
    )
    assert found.oauth_only and found.as_dict()["oauth_only"] is True
    assert found.notes[0].startswith("OAuth Only Mail accepts only OAuth sign-in")


async def test_email_domain_template_is_filled_in(kb: KnowledgeBase) -> None:
    """ISPDB's mail.%EMAILDOMAIN% host becomes the looked-up domain's host."""
    found = await discover_settings(
        kb, "templated.test", resolver=make_resolver([("127.0.0.1", 9)])
    )
    assert _hosts(found.candidates) == [("mail.templated.test", 465, "tls", "ispdb")]


async def test_mx_at_an_ispdb_mx_hint_names_that_provider(
    kb: KnowledgeBase, server: DnsServer
) -> None:
    """A custom domain whose MX is under an ISPDB MX hint gets that provider's servers."""
    resolver = make_resolver([(server.host, server.port)], lifetime=2)
    found = await discover_settings(kb, "hosted.test", resolver=resolver)
    assert found.provider is not None and found.provider.id == "example-isp.test"
    assert _hosts(found.candidates)[0] == ("smtp.example-isp.test", 465, "tls", "mx")
    assert _hosts(found.candidates)[-1] == ("plain.example-isp.test", 25, "none", "mx")


async def test_filtering_gateway_hides_the_provider(kb: KnowledgeBase, server: DnsServer) -> None:
    """An MX at Proofpoint names the gateway, no provider, and says what to ask IT."""
    resolver = make_resolver([(server.host, server.port)], lifetime=2)
    found = await discover_settings(kb, "it@acme.test", resolver=resolver)
    assert found.provider is None and found.gateway is not None
    assert found.as_dict()["gateway"] == "Proofpoint"
    assert _hosts(found.candidates) == [("smtp.acme.test", 587, "starttls", "guess")]
    text = " ".join(found.notes)
    assert "does not show who hosts the mailboxes" in text
    assert "Ask IT" in text and "acme.test" in text
    assert found.complete


@pytest.mark.parametrize(
    ("domain", "problem", "words"),
    [("refused.test", Problem.REFUSED, "refused"), ("broken.test", Problem.SERVFAIL, "SERVFAIL")],
)
async def test_refused_and_servfail_are_incomplete(
    kb: KnowledgeBase, server: DnsServer, domain: str, problem: Problem, words: str
) -> None:
    """A DNS server answering REFUSED or SERVFAIL: incomplete, and the problem says which."""
    resolver = make_resolver([(server.host, server.port)], lifetime=2)
    found = await discover_settings(kb, domain, resolver=resolver)
    assert not found.complete and found.problem is problem
    assert found.as_dict()["problem"] == problem.value and found.as_dict()["complete"] is False
    assert words in found.notes[0]
    assert _hosts(found.candidates) == [(f"smtp.{domain}", 587, "starttls", "guess")]


async def test_unreachable_resolver_costs_about_a_second(kb: KnowledgeBase) -> None:
    """A resolver that never answers is given up after the DNS deadline, not the overall one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as dead:
        resolver = _dead_resolver(dead)
        started = time.monotonic()
        found = await discover_settings(kb, "unknown.test", resolver=resolver, deadline=5)  # type: ignore[arg-type]
    assert time.monotonic() - started < 2.5  # the DNS deadline is 1 s; generous for CI
    assert not found.complete and found.problem is Problem.TIMEOUT


async def test_a_dns_server_dropping_every_packet_is_given_up_in_about_a_second(
    kb: KnowledgeBase,
) -> None:
    """Every query dropped: one retry each, then an incomplete answer that says DNS was silent."""
    with dns_server(ZONE, silent_all=True) as silent:
        resolver = make_resolver([(silent.host, silent.port)])
        started = time.monotonic()
        found = await discover_settings(kb, "it@acme.test", resolver=resolver, deadline=5)
        elapsed = time.monotonic() - started
        asked = len(silent.queries)
    assert elapsed < DNS_LIFETIME + 0.8  # not the 5 s deadline, nor dnspython's 5 s lifetime
    assert not found.complete and found.problem is Problem.TIMEOUT
    assert found.notes[0].startswith("The DNS server did not answer when looking up acme.test")
    assert asked == 6  # SRV x2 and MX, each asked twice; autoconfig never tried
    assert _hosts(found.candidates) == [("smtp.acme.test", 587, "starttls", "guess")]


async def test_a_slow_but_answering_dns_server_gives_the_full_answer(kb: KnowledgeBase) -> None:
    """Every answer half a second late: still complete, the MX still read (here a gateway)."""
    with dns_server(ZONE, delay=0.5) as slow:
        resolver = make_resolver([(slow.host, slow.port)])
        found = await discover_settings(kb, "it@acme.test", resolver=resolver)
    assert found.complete and found.problem is None
    assert found.gateway is not None and found.gateway.id == "proofpoint"


async def test_one_lost_dns_packet_does_not_make_the_answer_incomplete(
    kb: KnowledgeBase,
) -> None:
    """The first query of each name dropped: the retry answers; nothing is missing."""
    with dns_server(ZONE, drop_first=1) as lossy:
        resolver = make_resolver([(lossy.host, lossy.port)])
        found = await discover_settings(kb, "hosted.test", resolver=resolver)
    assert found.complete and found.provider is not None
    assert found.provider.id == "example-isp.test"


async def test_a_slow_autoconfig_is_not_blamed_on_dns(kb: KnowledgeBase, server: DnsServer) -> None:
    """DNS answered, the autoconfig fetch outlived the deadline: 'deadline', not 'timeout'."""

    async def stalling(url: str, *, domain: str) -> bytes:
        await asyncio.sleep(10)
        raise AssertionError("unreachable")  # pragma: no cover

    resolver = make_resolver([(server.host, server.port)])
    found = await discover_settings(
        kb, "both.test", resolver=resolver, fetcher=stalling, deadline=0.4
    )
    assert not found.complete and found.problem is Problem.DEADLINE
    assert "autoconfig" in found.notes[0] and "DNS server" not in found.notes[0]
    assert _hosts(found.candidates)[0] == ("plain.both.test", 25, "starttls", "srv")


async def test_refusing_resolver_with_everyone_refused(kb: KnowledgeBase) -> None:
    """Every query REFUSED (a resolver that serves no one outside): incomplete at once."""
    with dns_server({}, refuse_all=True) as refusing:
        resolver = make_resolver([(refusing.host, refusing.port)], lifetime=2)
        found = await discover_settings(kb, "anything.test", resolver=resolver)
    assert found.problem is Problem.REFUSED and not found.complete


async def test_autoconfig_is_first_and_failures_are_quiet(
    kb: KnowledgeBase, server: DnsServer
) -> None:
    """The domain's own document ranks first; a missing one (404) is no failure of the lookup."""
    asked: list[str] = []

    async def fetcher(url: str, *, domain: str) -> bytes:
        asked.append(url)
        if url.startswith("https://autoconfig."):
            raise FetchFailed(url=url, reason="HTTP status 404")
        return AUTOCONFIG

    resolver = make_resolver([(server.host, server.port)], lifetime=2)
    found = await discover_settings(kb, "both.test", resolver=resolver, fetcher=fetcher)
    assert asked == [
        "https://autoconfig.both.test/mail/config-v1.1.xml",
        "https://both.test/.well-known/autoconfig/mail/config-v1.1.xml",
    ]
    assert _hosts(found.candidates) == [
        ("smtp.own.test", 587, "starttls", "autoconfig"),
        ("plain.both.test", 25, "starttls", "srv"),
        ("smtp.both.test", 587, "starttls", "guess"),
    ]
    assert found.oauth_only and found.complete


def test_ranking_puts_encrypted_before_plaintext(kb: KnowledgeBase) -> None:
    """Whatever the source order, no plaintext candidate precedes an encrypted one."""
    autoconfig = [
        Candidate(host="old.x.test", port=25, security="none", source="autoconfig"),
        Candidate(host="new.x.test", port=465, security="tls", source="autoconfig"),
    ]
    srv = [Candidate(host="srv.x.test", port=587, security="starttls", source="srv")]
    _, ranked = rank_candidates(
        kb, "x.test", autoconfig=autoconfig, srv=srv, mx=[MxRecord(5, "mx.unknown.test")]
    )
    assert _hosts(ranked) == [
        ("new.x.test", 465, "tls", "autoconfig"),
        ("srv.x.test", 587, "starttls", "srv"),
        ("smtp.x.test", 587, "starttls", "guess"),
        ("old.x.test", 25, "none", "autoconfig"),
    ]


def test_known_discovery_is_the_directory_alone(kb: KnowledgeBase) -> None:
    """The pure directory answer: ISPDB or table hit, None for a domain only DNS could place."""
    found = known_discovery(kb, "Bob@Example-ISP.example")
    assert found is not None and found.complete and found.provider is not None
    assert [c.source for c in found.candidates] == ["ispdb", "ispdb", "ispdb"]
    assert known_discovery(kb, "unknown.test") is None
