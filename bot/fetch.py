"""HTTPS GET under the probe's egress policy: how settings discovery reads autoconfig files.

Knowledge does no HTTP of its own; the CLI and the bot inject an ``HttpsFetcher``
into ``discover_settings``. Every fetch follows the probe's rules:

- resolve the name once (``resolve_target``: A and AAAA, every address checked by
  ``EgressPolicy``, a mix of public and private answers refused as rebinding);
- connect only to a checked address (aiohttp is given a resolver that knows the
  checked addresses of that one name and nothing else), TLS verified with the host
  name as SNI and certificate name;
- no redirect off the mail domain, off https or off the port; a redirect target is
  resolved and checked again, at most ``max_redirects`` times;
- a small size cap, one deadline for everything, no proxy from the environment, no
  decompression (a gzip bomb stays a few KiB).

Every failure is one ``FetchFailed`` whose reason says why in words; aiohttp's and
ssl's exceptions are translated here and nowhere else.

aiohttp (about 0.15 s to import) loads only once a name has resolved to addresses the
policy allows: a ``smtpcheck discover`` stopped by DNS or the policy never pays for it.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import ssl
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from yarl import URL

from bot.errors import FetchFailed, LookupFailed, PolicyError
from bot.probe.addresses import IPAddress
from bot.probe.egress import EgressPolicy, resolve_target
from bot.resolver import DNS_LIFETIME  # per name, as for discovery's own lookups

if TYPE_CHECKING:
    import aiohttp
    import dns.asyncresolver
    from aiohttp.abc import AbstractResolver

MAX_BYTES: Final = 64 * 1024
DEADLINE: Final = 3.0  # seconds for the whole fetch, redirects included
MAX_REDIRECTS: Final = 2
_REDIRECTS: Final = frozenset({301, 302, 303, 307, 308})


def fetch_context(ca_files: Iterable[Path] = ()) -> ssl.SSLContext:
    """A verifying client context: the system store plus ``SMTPCHECK_CA_FILE`` and friends."""
    context = ssl.create_default_context()
    for path in ca_files:
        context.load_verify_locations(cafile=str(path))
    return context


def lazy_fetch_context(ca_files: Iterable[Path] = ()) -> Callable[[], ssl.SSLContext]:
    """``fetch_context`` made on the first call and reused: loading the system store takes
    tens of milliseconds, which a discovery stopped by DNS or the policy never pays."""
    files = tuple(ca_files)
    return functools.cache(lambda: fetch_context(files))


@functools.cache
def _pinned_resolver_class() -> Callable[[str, Sequence[IPAddress]], AbstractResolver]:
    """The aiohttp resolver class below, defined when aiohttp is first needed."""
    from aiohttp.abc import AbstractResolver, ResolveResult

    class PinnedResolver(AbstractResolver):
        """Answers for the one checked name with its checked addresses; refuses any other."""

        def __init__(self, host: str, addresses: Sequence[IPAddress]) -> None:
            self._host = host
            self._addresses = tuple(addresses)

        async def resolve(
            self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
        ) -> list[ResolveResult]:
            if host != self._host:
                raise OSError(f"{host} was not checked by the egress policy")
            return [
                ResolveResult(
                    hostname=host,
                    host=str(ip),
                    port=port,
                    family=socket.AF_INET if ip.version == 4 else socket.AF_INET6,
                    proto=0,
                    flags=socket.AI_NUMERICHOST,
                )
                for ip in self._addresses
            ]

        async def close(self) -> None:
            return None

    return PinnedResolver


def within(host: str, domain: str) -> bool:
    """``host`` is the mail domain or a name under it."""
    host, domain = host.lower().rstrip("."), domain.lower().rstrip(".")
    return host == domain or host.endswith("." + domain)


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpsFetcher:
    """``await fetcher(url, domain=...)`` -> the body; ``FetchFailed`` for anything else."""

    resolver: dns.asyncresolver.Resolver
    policy: EgressPolicy
    # a context, or a function making it on first use (``lazy_fetch_context``)
    ssl_context: ssl.SSLContext | Callable[[], ssl.SSLContext] = field(
        default_factory=fetch_context
    )
    port: int = 443  # tests point it at a local server; redirects must keep it
    deadline: float = DEADLINE
    max_bytes: int = MAX_BYTES
    max_redirects: int = MAX_REDIRECTS

    async def __call__(self, url: str, *, domain: str) -> bytes:
        try:
            async with asyncio.timeout(self.deadline):
                return await self._follow(url, domain)
        except TimeoutError:
            raise FetchFailed(url=url, reason=f"no answer within {self.deadline:g} s") from None

    async def _follow(self, url: str, domain: str) -> bytes:
        target = self._checked_url(url, domain)
        for _ in range(self.max_redirects + 1):
            status, location, body = await self._get(target)
            if status not in _REDIRECTS:
                if status != 200:
                    raise FetchFailed(url=str(target), reason=f"HTTP status {status}")
                return body
            if not location:
                raise FetchFailed(url=str(target), reason="a redirect without a Location")
            target = self._checked_url(str(target.join(URL(location))), domain)
        raise FetchFailed(url=url, reason=f"more than {self.max_redirects} redirects")

    def _checked_url(self, url: str, domain: str) -> URL:
        try:
            parsed = URL(url)
        except (ValueError, TypeError):
            raise FetchFailed(url=url, reason="not a valid URL") from None
        if parsed.scheme != "https" or not parsed.host:
            raise FetchFailed(url=url, reason="only https URLs are fetched")
        if not within(parsed.host, domain):
            raise FetchFailed(url=url, reason=f"{parsed.host} is outside the mail domain {domain}")
        if parsed.user or parsed.password:
            raise FetchFailed(url=url, reason="URLs with credentials are not fetched")
        if parsed.explicit_port and parsed.port != self.port:
            raise FetchFailed(url=url, reason=f"port {parsed.port} is not the https port")
        return parsed.with_port(None if self.port == 443 else self.port).with_fragment(None)

    async def _get(self, url: URL) -> tuple[int, str | None, bytes]:
        host = str(url.host)
        try:
            resolved = await resolve_target(
                host,
                resolver=self.resolver,
                policy=self.policy,
                lifetime=min(self.deadline, DNS_LIFETIME),
            )
        except PolicyError as exc:
            reason = f"refused by the egress policy: {exc.reason}"
            raise FetchFailed(url=str(url), reason=reason) from None
        except LookupFailed as exc:
            raise FetchFailed(url=str(url), reason=f"DNS lookup failed ({exc.reason})") from None
        import aiohttp  # only now: see the module docstring

        connector = aiohttp.TCPConnector(
            resolver=_pinned_resolver_class()(host, resolved.addresses),
            ssl=self._ssl_context(),
            use_dns_cache=False,
            force_close=True,
            limit=1,
        )
        options: dict[str, Any] = {"allow_redirects": False, "headers": _HEADERS}
        try:
            async with (
                aiohttp.ClientSession(
                    connector=connector, trust_env=False, auto_decompress=False
                ) as session,
                session.get(url, **options) as response,
            ):
                if response.status in _REDIRECTS:
                    return response.status, response.headers.get("Location"), b""
                if response.status != 200:
                    return response.status, None, b""
                return response.status, None, await self._body(url, response)
        except FetchFailed:
            raise  # ours already (an OSError too): keep its reason
        except (aiohttp.ClientError, ssl.SSLError, OSError) as exc:
            raise FetchFailed(url=str(url), reason=_describe(exc)) from None

    def _ssl_context(self) -> ssl.SSLContext:
        context = self.ssl_context
        return context if isinstance(context, ssl.SSLContext) else context()

    async def _body(self, url: URL, response: aiohttp.ClientResponse) -> bytes:
        if response.content_length is not None and response.content_length > self.max_bytes:
            raise FetchFailed(url=str(url), reason=f"larger than {self.max_bytes} bytes")
        if response.headers.get("Content-Encoding", "identity").lower() != "identity":
            raise FetchFailed(url=str(url), reason="compressed answers are not accepted")
        body = bytearray()
        async for chunk in response.content.iter_chunked(8192):
            body += chunk
            if len(body) > self.max_bytes:
                raise FetchFailed(url=str(url), reason=f"larger than {self.max_bytes} bytes")
        return bytes(body)


_HEADERS: Final = {"Accept-Encoding": "identity", "User-Agent": "smtpcheck-autoconfig"}


def _describe(exc: BaseException) -> str:
    import aiohttp  # loaded already: only _get's aiohttp calls raise what is described here

    if isinstance(exc, aiohttp.ClientConnectorCertificateError | ssl.SSLCertVerificationError):
        return "the TLS certificate could not be verified"
    if isinstance(exc, aiohttp.ClientSSLError | ssl.SSLError):
        return "TLS failed"
    if isinstance(exc, aiohttp.ClientConnectorError | ConnectionError):
        return "could not connect"
    return f"the request failed ({type(exc).__name__})"
