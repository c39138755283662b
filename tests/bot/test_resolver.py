"""make_resolver and lookup against a local DNS server: answers and fail-closed errors."""

from __future__ import annotations

import time

import dns.message
import dns.resolver
import pytest

from bot.errors import LookupFailed
from bot.resolver import DNS_LIFETIME, QUERY_TIMEOUT, failure_detail, make_resolver
from bot.resolver import lookup as dns_lookup
from tests.support.dns_server import dns_server

ZONE = {("mail.example.test.", "A"): ["8.8.8.8"], ("mx-only.test.", "MX"): ["10 mx.test."]}


async def test_lookup_returns_the_answer() -> None:
    """A record in the zone comes back through the configured server and port."""
    with dns_server(ZONE) as server:
        resolver = make_resolver([(server.host, server.port)], lifetime=2)
        answer = await dns_lookup(resolver, "mail.example.test", "A")
    assert [r.to_text() for r in answer] == ["8.8.8.8"]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("missing.test", "nxdomain"),
        ("mx-only.test", "no_answer"),
        ("silent.test", "timeout"),
        ("broken.test", "failure"),
    ],
)
async def test_lookup_failures_have_one_vocabulary(name: str, reason: str) -> None:
    """NXDOMAIN, no answer, timeout and SERVFAIL each become LookupFailed with a reason."""
    with dns_server(ZONE, silent=["silent.test."], servfail=["broken.test."]) as server:
        resolver = make_resolver([(server.host, server.port)], lifetime=0.5)
        with pytest.raises(LookupFailed) as caught:
            await dns_lookup(resolver, name, "A")
    assert caught.value.reason == reason


async def test_single_label_is_not_expanded_with_search_domains() -> None:
    """A single label is queried as an absolute name, never with a search suffix."""
    with dns_server(ZONE) as server:
        resolver = make_resolver([(server.host, server.port)], lifetime=1)
        with pytest.raises(LookupFailed):
            await dns_lookup(resolver, "intranet", "A")
        assert [q[0] for q in server.queries] == ["intranet."]


@pytest.mark.parametrize(
    ("kwargs", "detail"),
    [({"refused": ["r.test."]}, "refused"), ({"servfail": ["r.test."]}, "servfail")],
)
async def test_failure_detail_names_what_the_server_said(
    kwargs: dict[str, list[str]], detail: str
) -> None:
    """A 'failure' says whether the server answered REFUSED or SERVFAIL."""
    with dns_server({}, **kwargs) as server:
        resolver = make_resolver([(server.host, server.port)], lifetime=2)
        with pytest.raises(LookupFailed) as caught:
            await dns_lookup(resolver, "r.test", "MX")
    assert caught.value.reason == "failure" and failure_detail(caught.value) == detail


def test_failure_detail_for_an_unreachable_server() -> None:
    """Every server failing with a socket error is 'unreachable'; other reasons pass through."""
    unreachable = dns.resolver.NoNameservers(
        request=dns.message.make_query("x.test", "MX"),
        errors=[("127.0.0.1", False, 53, ConnectionRefusedError(), None)],
    )
    failed = LookupFailed(name="x.test", reason="failure")
    failed.__cause__ = unreachable
    assert failure_detail(failed) == "unreachable"
    assert failure_detail(LookupFailed(name="x.test", reason="timeout")) == "timeout"


async def test_a_server_that_never_answers_fails_in_about_a_second() -> None:
    """Every packet dropped: one query and one retry, then 'timeout' after DNS_LIFETIME."""
    with dns_server(ZONE, silent_all=True) as server:
        resolver = make_resolver([(server.host, server.port)])
        started = time.monotonic()
        with pytest.raises(LookupFailed) as caught:
            await dns_lookup(resolver, "mail.example.test", "A")
        elapsed = time.monotonic() - started
        asked = list(server.queries)
    assert caught.value.reason == "timeout"
    assert DNS_LIFETIME - 0.05 <= elapsed < DNS_LIFETIME + 0.5  # not dnspython's 5 s
    assert asked == [("mail.example.test.", "A")] * 2  # the query and one retry


async def test_one_lost_datagram_is_retried() -> None:
    """The first query dropped, the retry answered: the lookup still succeeds."""
    with dns_server(ZONE, drop_first=1) as server:
        resolver = make_resolver([(server.host, server.port)])
        answer = await dns_lookup(resolver, "mail.example.test", "A")
        asked = len(server.queries)
    assert [r.to_text() for r in answer] == ["8.8.8.8"] and asked == 2


async def test_a_slow_but_answering_server_still_works() -> None:
    """Answers half a second late (a cold recursive lookup) arrive within the query timeout."""
    with dns_server(ZONE, delay=0.5) as server:
        resolver = make_resolver([(server.host, server.port)])
        answer = await dns_lookup(resolver, "mail.example.test", "A")
        asked = len(server.queries)
    assert [r.to_text() for r in answer] == ["8.8.8.8"] and asked == 1
    assert 0.5 < QUERY_TIMEOUT < DNS_LIFETIME


@pytest.mark.parametrize(
    "kwargs", [{"refused": ["r.test."]}, {"servfail": ["r.test."]}, {"refuse_all": True}]
)
async def test_an_error_answer_ends_the_lookup_at_once(kwargs: dict[str, object]) -> None:
    """REFUSED or SERVFAIL: one query, no retry, no TCP, no search suffix; milliseconds."""
    with dns_server({}, **kwargs) as server:
        resolver = make_resolver([(server.host, server.port)])
        started = time.monotonic()
        with pytest.raises(LookupFailed):
            await dns_lookup(resolver, "r.test", "MX")
        elapsed = time.monotonic() - started
        asked = list(server.queries)
    assert asked == [("r.test.", "MX")]
    assert elapsed < 0.3


def test_resolv_conf_timeouts_do_not_apply() -> None:
    """The system resolver gets the same per-query timeout and lifetime as a configured one."""
    resolver = make_resolver()
    assert (resolver.timeout, resolver.lifetime) == (QUERY_TIMEOUT, DNS_LIFETIME)
    assert resolver.search == [] and not resolver.retry_servfail
    longer = make_resolver([("127.0.0.1", 53)], lifetime=5)
    assert (longer.timeout, longer.lifetime) == (QUERY_TIMEOUT, 5)
