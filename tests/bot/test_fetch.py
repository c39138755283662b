"""HttpsFetcher: autoconfig over HTTPS through the egress policy, against a local server.

The server is aiohttp on 127.0.0.1, port 0, with a trustme certificate for the test
names; a local DNS server resolves them. The policy allows loopback only here, so a
redirect to a private address is refused exactly as in production.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import ipaddress
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
import trustme
from aiohttp import web

from bot.errors import FetchFailed
from bot.fetch import HttpsFetcher, lazy_fetch_context, within
from bot.probe.egress import EgressPolicy
from bot.resolver import make_resolver
from knowledge import discover_settings, get_knowledge
from knowledge.autoconfig import BadDocument, parse_autoconfig
from tests.support.dns_server import DnsServer, dns_server

GOOD = b"""<?xml version="1.0"?>
<clientConfig version="1.1"><emailProvider id="corp.test">
  <domain>corp.test</domain>
  <outgoingServer type="smtp"><hostname>old.corp.test</hostname><port>25</port>
    <socketType>plain</socketType><username>%EMAILADDRESS%</username>
    <authentication>password-cleartext</authentication></outgoingServer>
  <outgoingServer type="smtp"><hostname>mail.corp.test</hostname><port>465</port>
    <socketType>SSL</socketType><username>%EMAILLOCALPART%</username>
    <authentication>password-cleartext</authentication></outgoingServer>
</emailProvider></clientConfig>"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<clientConfig><emailProvider><outgoingServer type="smtp"><hostname>&lol3;</hostname>
</outgoingServer></emailProvider></clientConfig>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE c [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<clientConfig><emailProvider><outgoingServer type="smtp"><hostname>&xxe;</hostname>
<port>465</port><socketType>SSL</socketType></outgoingServer></emailProvider></clientConfig>"""
NAMES = ("autoconfig.corp.test", "corp.test", "other.test", "private.corp.test")
PATH = "/mail/config-v1.1.xml"


@dataclass
class Site:
    port: int
    ca: trustme.CA
    dns: DnsServer
    hits: list[str]

    def fetcher(self, *, deadline: float = 2.0, trust: bool = True) -> HttpsFetcher:
        context = ssl.create_default_context()
        if trust:
            self.ca.configure_trust(context)
        return HttpsFetcher(
            resolver=make_resolver([(self.dns.host, self.dns.port)], lifetime=2),
            policy=EgressPolicy([ipaddress.ip_network("127.0.0.0/8")]),
            ssl_context=context,
            port=self.port,
            deadline=deadline,
        )

    def url(self, host: str, path: str = PATH) -> str:
        return f"https://{host}{path}"


@pytest.fixture
def zone_server() -> Iterator[DnsServer]:
    zone = {(f"{name}.", "A"): ["127.0.0.1"] for name in NAMES[:3]}
    zone[("private.corp.test.", "A")] = ["10.1.2.3"]
    with dns_server(zone) as running:
        yield running


@pytest.fixture
async def site(zone_server: DnsServer) -> AsyncIterator[Site]:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*NAMES).configure_cert(context)
    hits: list[str] = []
    holder: dict[str, int] = {}

    async def handle(request: web.Request) -> web.StreamResponse:
        hits.append(f"{request.host.split(':')[0]}{request.path}")
        port = holder["port"]
        routes = {
            PATH: lambda: web.Response(body=GOOD, content_type="text/xml"),
            "/to-private": lambda: web.HTTPFound(f"https://private.corp.test:{port}{PATH}"),
            "/to-other": lambda: web.HTTPFound(f"https://other.test:{port}{PATH}"),
            "/to-http": lambda: web.HTTPFound(f"http://corp.test:{port}{PATH}"),
            "/to-same": lambda: web.HTTPFound(f"https://corp.test:{port}{PATH}"),
            "/loop": lambda: web.HTTPFound("/loop"),
            "/big": lambda: web.Response(body=b"<x>" + b"a" * 70_000 + b"</x>"),
            "/missing": lambda: web.Response(status=404),
            "/laughs": lambda: web.Response(body=LAUGHS),
        }
        if request.path == "/chunked":
            response = web.StreamResponse()
            await response.prepare(request)
            for _ in range(20):
                await response.write(b"a" * 8192)  # no Content-Length: counted as it comes
            return response
        if request.path == "/slow":
            await asyncio.sleep(30)
        make = routes.get(request.path)
        if make is None:
            return web.Response(status=404)
        result = make()
        if isinstance(result, web.HTTPException):
            raise result
        return result

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    tcp = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await tcp.start()
    server = tcp._server
    assert server is not None
    holder["port"] = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield Site(port=holder["port"], ca=ca, dns=zone_server, hits=hits)
    finally:
        await runner.cleanup()


async def test_good_document_is_fetched_and_parsed(site: Site) -> None:
    """A trusted server on a checked address gives the document; it parses, TLS first."""
    body = await site.fetcher()(site.url("autoconfig.corp.test"), domain="corp.test")
    answer = parse_autoconfig(body)
    assert [(c.host, c.port, c.security) for c in answer.candidates] == [
        ("mail.corp.test", 465, "tls"),
        ("old.corp.test", 25, "none"),
    ]
    assert answer.username == "only the part of your address before the @"


async def test_redirect_within_the_domain_is_followed(site: Site) -> None:
    """A redirect to another name in the mail domain is resolved, checked and followed."""
    body = await site.fetcher()(site.url("autoconfig.corp.test", "/to-same"), domain="corp.test")
    assert body == GOOD
    assert site.hits == ["autoconfig.corp.test/to-same", f"corp.test{PATH}"]


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/to-private", "refused by the egress policy: private.corp.test resolves only"),
        ("/to-other", "other.test is outside the mail domain corp.test"),
        ("/to-http", "only https URLs are fetched"),
        ("/loop", "more than 2 redirects"),
    ],
)
async def test_bad_redirects_are_refused(site: Site, path: str, reason: str) -> None:
    """Redirects to a private address, off the domain, to http, or in a loop: FetchFailed."""
    with pytest.raises(FetchFailed) as caught:
        await site.fetcher()(site.url("autoconfig.corp.test", path), domain="corp.test")
    assert reason in caught.value.reason
    assert not any(hit.startswith(("private.", "other.")) for hit in site.hits)


@pytest.mark.parametrize("path", ["/big", "/chunked"])
async def test_oversized_documents_are_refused(site: Site, path: str) -> None:
    """More than 64 KiB, announced or streamed, is refused rather than read."""
    with pytest.raises(FetchFailed) as caught:
        await site.fetcher()(site.url("corp.test", path), domain="corp.test")
    assert "larger than 65536 bytes" in caught.value.reason


async def test_slow_server_is_cut_by_the_deadline(site: Site) -> None:
    """A server that never answers costs the fetch deadline, then FetchFailed."""
    with pytest.raises(FetchFailed) as caught:
        await site.fetcher(deadline=0.5)(site.url("corp.test", "/slow"), domain="corp.test")
    assert "no answer within 0.5 s" in caught.value.reason


async def test_untrusted_certificate_is_refused(site: Site) -> None:
    """TLS is verified: a certificate from an unknown CA is a failure, not a document."""
    with pytest.raises(FetchFailed) as caught:
        await site.fetcher(trust=False)(site.url("corp.test"), domain="corp.test")
    assert "certificate" in caught.value.reason
    assert site.hits == []


async def test_http_errors_and_private_names_fail(site: Site) -> None:
    """A 404 is a failure; a name resolving to a private address is never connected to."""
    with pytest.raises(FetchFailed, match="HTTP status 404"):
        await site.fetcher()(site.url("corp.test", "/missing"), domain="corp.test")
    with pytest.raises(FetchFailed, match="egress policy"):
        await site.fetcher()(site.url("private.corp.test"), domain="corp.test")


async def test_hostile_xml_is_refused_by_the_parser(site: Site) -> None:
    """Billion laughs from the server, and external entities, never expand."""
    body = await site.fetcher()(site.url("corp.test", "/laughs"), domain="corp.test")
    for document in (body, EXTERNAL):
        with pytest.raises(BadDocument, match="refused unsafe XML"):
            parse_autoconfig(document)
    with pytest.raises(BadDocument, match="not well-formed"):
        parse_autoconfig(b"<clientConfig><outgoingServer>")


async def test_discover_uses_the_domains_autoconfig(site: Site) -> None:
    """discover_settings with the real fetcher: the domain's own file ranks first."""
    found = await discover_settings(
        get_knowledge(), "alice@corp.test", resolver=site.fetcher().resolver, fetcher=site.fetcher()
    )
    assert [(c.host, c.port, c.source) for c in found.candidates] == [
        ("mail.corp.test", 465, "autoconfig"),
        ("smtp.corp.test", 587, "guess"),
        ("old.corp.test", 25, "autoconfig"),
    ]
    assert found.username == "only the part of your address before the @"
    assert site.hits[0] == f"autoconfig.corp.test{PATH}"


def test_within_the_mail_domain() -> None:
    """Only the domain itself and names under it count as inside it."""
    assert within("autoconfig.corp.test", "corp.test") and within("CORP.test.", "corp.test")
    assert not within("evilcorp.test", "corp.test") and not within("corp.test.evil", "corp.test")


async def test_a_lazy_context_is_made_once_and_only_for_a_connection(site: Site) -> None:
    """``ssl_context`` may be a function: called on the first connection, then reused; a
    name the policy refuses never makes it (the CLI's discover never loads the CA store)."""
    made: list[ssl.SSLContext] = []

    def make() -> ssl.SSLContext:
        context = ssl.create_default_context()
        site.ca.configure_trust(context)
        made.append(context)
        return context

    fetcher = dataclasses.replace(site.fetcher(), ssl_context=functools.cache(make))
    with pytest.raises(FetchFailed, match="egress policy"):
        await fetcher(site.url("private.corp.test"), domain="corp.test")
    assert made == []
    assert await fetcher(site.url("corp.test"), domain="corp.test") == GOOD
    assert await fetcher(site.url("autoconfig.corp.test"), domain="corp.test") == GOOD
    assert len(made) == 1


def test_lazy_fetch_context_is_made_on_first_call_and_kept() -> None:
    make = lazy_fetch_context()
    assert isinstance(make(), ssl.SSLContext)
    assert make() is make()
