"""Finding a port's TLS mode quickly, from evidence rather than the port number.

- ``greeting_or_tls``: a plaintext session got no greeting within a short
  window. Either the server is slow to greet, or the port wants TLS from the
  first byte and is waiting for our ClientHello. A second connection sends a
  ClientHello while the first keeps waiting for the greeting (as Thunderbird
  races its candidates): whichever answers first decides. The first
  connection stays untouched, so a slow but plaintext server still gets a
  clean session. Port 25 is never raced: greeting too early there (postscreen's
  pregreet test) can get the address blocked.
- ``survey``: implicit TLS met plain SMTP. A separate plaintext connection
  reads the greeting and EHLO, to say what the port does offer (STARTTLS or
  no encryption at all) instead of guessing.

Both bound nothing themselves beyond what they are told: callers pass budgets.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import aiosmtplib

from bot.probe.request import IPAddress
from bot.probe.session import ehlo_name, first_bytes, open_socket
from bot.probe.tls import speaks_tls

# Port 25 is server-to-server: postscreen and friends punish clients that talk first.
NO_RACE_PORTS: Final = frozenset({25})
_SHOWN: Final = 12


@dataclass(frozen=True, slots=True)
class Port:
    """The checked address and port being probed, with the name and TLS context to use."""

    address: IPAddress
    port: int
    host: str  # SNI and certificate name
    context: ssl.SSLContext


@dataclass(frozen=True, slots=True)
class Offer:
    """What a plaintext SMTP port offered in its EHLO."""

    starttls: bool
    auth: tuple[str, ...]


async def greeting_or_tls(
    sock: socket.socket, target: Callable[[], Port], *, window: float, race: float
) -> tuple[bool, bytes | None]:
    """Whether the port answers TLS (an implicit-TLS port), and the first bytes of the
    greeting when they came within ``window`` (b"": closed). Not TLS and no bytes: the
    question stays open, and the caller waits for the greeting.

    Waits ``window`` seconds for the greeting on ``sock``; then races it for up
    to ``race`` seconds against a ClientHello on a second connection to ``target()``.
    """
    head = await first_bytes(sock, within=window)
    if head is not None:
        return False, head
    port = target()
    if port.port in NO_RACE_PORTS or race <= 0:
        return False, None
    greeting = asyncio.ensure_future(first_bytes(sock))
    hello = asyncio.ensure_future(_tls_answers(port))
    try:
        done, _ = await asyncio.wait({greeting, hello}, timeout=race, return_when="FIRST_COMPLETED")
        tls = (
            hello in done and not hello.cancelled() and hello.exception() is None and hello.result()
        )
        return tls, None
    finally:
        for task in (greeting, hello):
            task.cancel()
        await asyncio.gather(greeting, hello, return_exceptions=True)


async def _tls_answers(target: Port) -> bool:
    try:
        sock = await open_socket(target.address, target.port)
    except OSError:
        return False
    try:
        return await speaks_tls(sock, context=target.context, server_hostname=target.host)
    finally:
        sock.close()


async def late_tls_check(sock: socket.socket, target: Port, *, budget: float) -> bool:
    """After a whole banner timeout (a port not raced): does ``sock`` answer a ClientHello?"""
    if budget <= 0:
        return False
    try:
        async with asyncio.timeout(budget):
            return await speaks_tls(sock, context=target.context, server_hostname=target.host)
    except TimeoutError:
        return False


async def survey(target: Port, *, budget: float) -> Offer | None:
    """Greet and EHLO on a fresh plaintext connection; None when that does not work out."""
    if budget <= 0:
        return None
    smtp: aiosmtplib.SMTP | None = None
    sock: socket.socket | None = None
    try:
        async with asyncio.timeout(budget):
            sock = await open_socket(target.address, target.port)
            smtp = aiosmtplib.SMTP(
                hostname=target.host, sock=sock, local_hostname=ehlo_name(sock), timeout=None,
                start_tls=False, use_tls=False,
            )  # fmt: skip
            await smtp.connect()
            await smtp.ehlo()
            offer = Offer(
                starttls=smtp.supports_extension("starttls"),
                auth=tuple(m.upper()[:30] for m in smtp.server_auth_methods)[:_SHOWN],
            )
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await smtp.quit()
            return offer
    except (TimeoutError, OSError, aiosmtplib.SMTPException):
        return None
    finally:
        if smtp is not None:
            smtp.close()
        if sock is not None:
            sock.close()  # no-op once aiosmtplib's transport closed it
