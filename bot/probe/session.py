"""Socket and SMTP-client plumbing for one probe session.

- ``open_socket``: a non-blocking TCP socket connected to one checked address.
  The probe connects the socket itself and hands it to aiosmtplib (``sock=``),
  so aiosmtplib never resolves anything; ``hostname=`` is then only used for
  SNI and the certificate name check.
- ``first_bytes``: wait until the server sends something and peek at it without
  consuming it, so a port speaking TLS from the first byte is recognised before
  aiosmtplib tries to parse it as SMTP, and a silent port stays ours to test.
- ``TappedSMTP``: aiosmtplib's client with every command and reply copied to
  the transcript (aiosmtplib has no logging of its own); ``greet`` and
  ``upgrade`` read the greeting and do STARTTLS with the transcript kept too.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Sequence
from typing import Any, Final, Literal

import aiosmtplib
from aiosmtplib.typing import Default

from bot.probe.model import Reply, ReplyCode
from bot.probe.replies import parse_reply, reply_from_lines
from bot.probe.request import IPAddress
from bot.probe.transcript import Transcript

PEEK_BYTES: Final = 8
_PEEK_NOW: Final = socket.MSG_PEEK | socket.MSG_DONTWAIT


async def open_socket(address: IPAddress, port: int) -> socket.socket:
    """Connect a non-blocking TCP socket to ``address``; the caller bounds the wait."""
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await asyncio.get_running_loop().sock_connect(sock, (str(address), port))
    except BaseException:  # including cancellation: never leave the socket open
        sock.close()
        raise
    return sock


async def first_bytes(sock: socket.socket, *, within: float | None = None) -> bytes | None:
    """Wait for the server to send something; return up to 8 bytes without consuming them.

    ``b""`` means the server closed the connection; None that ``within`` seconds passed
    with nothing sent (a plain timer, not a cancelling timeout). Without ``within`` the
    caller bounds the wait.
    """
    try:  # already there: no reader, no timer, no loop iteration
        return sock.recv(PEEK_BYTES, _PEEK_NOW)
    except BlockingIOError:
        pass
    loop = asyncio.get_running_loop()
    fd = sock.fileno()
    while True:
        readable: asyncio.Future[None] = loop.create_future()
        loop.add_reader(fd, _wake, readable)
        timer = None if within is None else loop.call_later(within, _wake, readable)
        try:
            await readable
        finally:
            loop.remove_reader(fd)
            if timer is not None:
                timer.cancel()
        try:
            return sock.recv(PEEK_BYTES, _PEEK_NOW)
        except BlockingIOError:
            if within is not None:
                return None


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def ehlo_name(sock: socket.socket) -> str:
    """Our own address as an RFC 5321 address literal: we have no meaningful name to give.

    Taken from the socket, so no ``socket.getfqdn()`` (a thread and perhaps a
    reverse DNS lookup) per probe.
    """
    host = sock.getsockname()[0]
    if ":" not in host:  # IPv4: getsockname gives the canonical dotted quad already
        return f"[{host}]"
    return f"[IPv6:{ipaddress.ip_address(host)}]"


class TappedSMTP(aiosmtplib.SMTP):
    """aiosmtplib's client, copying each command and its reply to a ``Transcript``.

    Every command aiosmtplib sends after the greeting goes through
    ``execute_command`` (EHLO, each line of an AUTH exchange, QUIT); the greeting
    and the STARTTLS reply are read elsewhere, so ``greet`` and ``upgrade``
    record those: call them instead of ``connect`` and ``starttls``.
    """

    def __init__(self, *, transcript: Transcript, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.transcript = transcript
        self.challenge: str | None = None  # the last 334 text (an XOAUTH2 error, say)
        # The last reply recorded, as (message, the lines the transcript made of it).
        self._heard: tuple[str, list[str]] | None = None

    @classmethod
    def on_socket(
        cls,
        sock: socket.socket,
        host: str,
        context: ssl.SSLContext,
        transcript: Transcript,
        use_tls: bool,
    ) -> TappedSMTP:
        """A client for a connected socket; from here on it owns (and closes) the socket."""
        return cls(
            transcript=transcript,
            hostname=host,  # SNI and certificate name only: the socket is connected
            sock=sock,
            local_hostname=ehlo_name(sock),
            timeout=None,  # the probe's own stage timeouts and deadline govern
            use_tls=use_tls,
            start_tls=False,  # STARTTLS is decided by the probe, never silently by aiosmtplib
            tls_context=context,
        )

    async def execute_command(
        self,
        *args: bytes,
        timeout: float | Literal[Default.token] | None = Default.token,  # noqa: ASYNC109 (aiosmtplib's signature)
    ) -> aiosmtplib.SMTPResponse:
        self.transcript.client(args)
        response = await super().execute_command(*args, timeout=timeout)
        self._hear(response)
        if response.code == ReplyCode.AUTH_CONTINUE:
            self.challenge = response.message
        return response

    async def greet(self) -> aiosmtplib.SMTPResponse:
        """``connect()`` on the socket given at construction: the greeting (over TLS if asked)."""
        try:
            response = await self.connect()
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code >= 0:  # a negative code is garbage, not a reply: the caller shows it
                self.transcript.server(exc.code, exc.message)
            raise
        self._hear(response)
        return response

    async def upgrade(self, *, server_hostname: str, context: ssl.SSLContext) -> None:
        """STARTTLS and the handshake, verifying the certificate for ``server_hostname``."""
        self.transcript.client((b"STARTTLS",))
        try:
            response = await self.starttls(server_hostname=server_hostname, tls_context=context)
        except aiosmtplib.SMTPResponseException as exc:
            self.transcript.server(exc.code, exc.message)
            raise
        self._hear(response)

    def _hear(self, response: aiosmtplib.SMTPResponse) -> None:
        message = response.message
        self._heard = (message, self.transcript.server(response.code, message))

    def reply(
        self, response: aiosmtplib.SMTPResponse, *, secrets: Sequence[str] = (), lines: int = 0
    ) -> Reply:
        """``replies.parse_reply`` of ``response`` (its first ``lines`` lines, 0: all); the
        last reply heard is built from the lines its transcript entry cleaned already."""
        heard = self._heard
        if heard is None or heard[0] is not response.message:
            message = response.message
            if lines:
                message = "\n".join(message.split("\n", lines)[:lines])
            return parse_reply(response.code, message, secrets)
        return reply_from_lines(response.code, heard[1][:lines] if lines else heard[1], secrets)

    def close(self) -> None:
        """Abort rather than close: a closing TLS transport would keep the socket open for a
        shutdown handshake (up to 30 s) after we are done; aborting drops it at once."""
        if isinstance(self.transport, asyncio.Transport):
            self.transport.abort()
        super().close()
