"""An implicit-TLS server that shakes hands at once and greets only later."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator

GREETING_DELAY = 0.6


@contextlib.asynccontextmanager
async def slow_greeting_tls_server(
    context: ssl.SSLContext, delay: float = GREETING_DELAY
) -> AsyncIterator[int]:
    """Implicit TLS: the handshake at once, the greeting ``delay`` seconds later, then
    a refusal of everything."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            await asyncio.sleep(delay)
            writer.write(b"220 slow.test ESMTP\r\n")
            while await reader.readline():
                writer.write(b"554 5.3.0 no service\r\n")
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=context)
    async with server:
        yield server.sockets[0].getsockname()[1]
