"""make_resolver and lookup against a local DNS server: answers and fail-closed errors."""

from __future__ import annotations

import pytest

from bot.errors import LookupFailed
from bot.resolver import lookup as dns_lookup
from bot.resolver import make_resolver
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
