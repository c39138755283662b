"""make_resolver and lookup against a local DNS server: answers and fail-closed errors."""

from __future__ import annotations

import dns.message
import dns.resolver
import pytest

from bot.errors import LookupFailed
from bot.resolver import failure_detail, make_resolver
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
