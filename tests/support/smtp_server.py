"""SMTP servers for probe tests: real aiosmtpd sessions and scripted fault servers.

Everything listens on 127.0.0.1, port 0, in the test's own event loop.

- ``make_certs(directory)``: a trustme CA written to ``ca.pem`` and server
  contexts for a good leaf (``mail.test``, ``localhost``, ``127.0.0.1``), an
  expired leaf, a leaf for another name, and a leaf from a CA nobody trusts.
- ``smtp_server(...)``: aiosmtpd with STARTTLS, implicit TLS or neither, the
  AUTH mechanisms asked for (PLAIN, LOGIN and a CRAM-MD5 hook aiosmtpd lacks),
  and an ``AuthRecorder`` that counts every AUTH command the server receives.
- ``fault_server(script)``: a hand-written SMTP responder for misbehaviour the
  real server will not produce (silence, dripped bytes, garbage, 421, dropping
  the connection mid-AUTH, over-long replies, slowness).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import hmac
import logging
import secrets
import ssl
from base64 import b64decode, b64encode
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.smtp import MISSING, SMTP, AuthResult, Envelope, LoginPassword, Session

ALL_MECHANISMS = ("PLAIN", "LOGIN", "CRAM-MD5")
USER = "alice@example.com"
PASSWORD = "correct horse battery staple"
SERVER_NAME = "mail.test"

# aiosmtpd logs each line of each session on "mail.log" at DEBUG and INFO. A test that runs
# the CLI in-process with LOG_LEVEL=DEBUG leaves the root logger at DEBUG, and the server
# thread's last lines ("connection lost") then land on the terminal while pytest writes
# its report. The server's own chatter is never what a test checks.
logging.getLogger("mail.log").setLevel(logging.WARNING)


@dataclass(frozen=True)
class Certs:
    ca_file: Path
    good: ssl.SSLContext
    expired: ssl.SSLContext
    mismatch: ssl.SSLContext
    untrusted: ssl.SSLContext


def _server_context(cert: trustme.LeafCert) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    return context


def make_certs(directory: Path) -> Certs:
    """Issue every certificate the tests need; only ``ca_file`` is trusted by the probe."""
    ca = trustme.CA()
    ca_file = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    names = (SERVER_NAME, "localhost", "127.0.0.1")
    yesterday = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=1)
    last_year = yesterday - datetime.timedelta(days=365)
    return Certs(
        ca_file=ca_file,
        good=_server_context(ca.issue_cert(*names)),
        expired=_server_context(ca.issue_cert(*names, not_before=last_year, not_after=yesterday)),
        mismatch=_server_context(ca.issue_cert("other.test")),
        untrusted=_server_context(trustme.CA().issue_cert(*names)),
    )


@dataclass
class AuthRecorder:
    """Checks credentials and counts AUTH commands; keeps no password it was sent."""

    users: Mapping[str, str]
    commands: list[str] = field(default_factory=list)  # mechanism of each AUTH command
    checked: list[tuple[str, bool]] = field(default_factory=list)  # (mechanism, accepted)
    hide_auth: bool = False
    quits: int = 0  # QUIT commands received

    async def handle_QUIT(self, server: SMTP, session: Session, envelope: Envelope) -> Any:
        self.quits += 1
        return MISSING

    async def handle_AUTH(
        self, server: SMTP, session: Session, envelope: Envelope, args: Any
    ) -> Any:
        self.commands.append(str(args[0]).upper())
        return MISSING  # let aiosmtpd run the mechanism

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        if self.hide_auth:
            return [line for line in responses if not line[4:].upper().startswith("AUTH")]
        return responses

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = False
        if isinstance(data, LoginPassword):
            login, password = data.login.decode(), data.password.decode()
            ok = self.users.get(login) == password
        self.checked.append((mechanism, ok))
        return AuthResult(success=ok, handled=False)

    async def auth_CRAM__MD5(self, server: SMTP, args: list[str]) -> AuthResult:
        """CRAM-MD5 (RFC 2195), which aiosmtpd does not ship."""
        challenge = f"<{secrets.token_hex(8)}@{SERVER_NAME}>".encode()
        answer = await server.challenge_auth(challenge)
        if answer is MISSING:
            return AuthResult(success=False, handled=True)
        login, _, digest = bytes(answer).decode(errors="replace").rpartition(" ")
        password = self.users.get(login)
        expected = hmac.new(password.encode(), challenge, "md5").hexdigest() if password else ""
        ok = bool(password) and hmac.compare_digest(expected, digest)
        self.checked.append(("CRAM-MD5", ok))
        return AuthResult(success=ok, handled=False)


@dataclass
class RunningServer:
    host: str
    port: int
    recorder: AuthRecorder


@contextlib.asynccontextmanager
async def smtp_server(
    *,
    tls: str = "starttls",  # "starttls" | "implicit" | "none"
    context: ssl.SSLContext | None = None,
    mechanisms: Sequence[str] = ALL_MECHANISMS,
    users: Mapping[str, str] | None = None,
    auth_in_clear: bool = False,
) -> AsyncIterator[RunningServer]:
    """An aiosmtpd server; ``mechanisms=()`` advertises no AUTH at all."""
    loop = asyncio.get_running_loop()
    recorder = AuthRecorder(users={USER: PASSWORD} if users is None else users)
    recorder.hide_auth = not mechanisms
    exclude = [m for m in ALL_MECHANISMS if m not in mechanisms]

    def factory() -> SMTP:
        return SMTP(
            recorder,
            hostname=SERVER_NAME,
            tls_context=context if tls == "starttls" else None,
            # Implicit TLS is TLS from the start, which aiosmtpd does not count for this.
            auth_require_tls=not (auth_in_clear or tls == "implicit"),
            auth_exclude_mechanism=exclude,
            authenticator=recorder.authenticate,
            loop=loop,
        )

    server = await loop.create_server(
        factory, "127.0.0.1", 0, ssl=context if tls == "implicit" else None
    )
    port = server.sockets[0].getsockname()[1]
    try:
        yield RunningServer(host="127.0.0.1", port=port, recorder=recorder)
    finally:
        server.close()
        await server.wait_closed()


# -- fault servers --------------------------------------------------------------------------


@dataclass(frozen=True)
class Script:
    """How a fault server misbehaves. Replies are complete CRLF-terminated byte strings."""

    banner: bytes | None = b"220 fault.test ESMTP\r\n"  # None: never greet
    ehlo: bytes = b"250-fault.test\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n"
    ehlo_after_tls: bytes = b"250-fault.test\r\n250 AUTH PLAIN LOGIN\r\n"
    auth: bytes = b"535 5.7.8 Authentication credentials invalid\r\n"
    drop_on_auth: bool = False
    close_after_banner: bool = False
    delay: float = 0.0  # before every reply
    drip: float | None = None  # seconds between single bytes of every reply
    tls: ssl.SSLContext | None = None  # for STARTTLS
    echo_auth: bool = False  # put the client's AUTH line in the refusal (a hostile server)
    auth_delay: float = 0.0  # before the AUTH reply only (servers slow down refusals)
    answer_auth: bool = True  # False: read AUTH and never answer (a tarpit, a stuck backend)
    answer_quit: bool = True  # False: read QUIT and never answer


@dataclass
class FaultServer:
    host: str
    port: int
    auth_commands: int = 0
    connections: int = 0
    closed: int = 0
    quits: int = 0


@contextlib.asynccontextmanager
async def fault_server(script: Script) -> AsyncIterator[FaultServer]:
    state = FaultServer(host="127.0.0.1", port=0)

    async def send(writer: asyncio.StreamWriter, data: bytes) -> None:
        if script.delay:
            await asyncio.sleep(script.delay)
        if script.drip is None:
            writer.write(data)
            await writer.drain()
            return
        for index in range(len(data)):
            writer.write(data[index : index + 1])
            await writer.drain()
            await asyncio.sleep(script.drip)

    async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state.connections += 1
        tls_on = False
        try:
            if script.banner is None:
                await reader.read()  # say nothing; wait for the client to give up
                return
            await send(writer, script.banner)
            if script.close_after_banner:
                return
            while line := await reader.readline():
                verb = line.split(b" ", 1)[0].strip().upper()
                if verb == b"EHLO":
                    await send(writer, script.ehlo_after_tls if tls_on else script.ehlo)
                elif verb == b"STARTTLS" and script.tls is not None and not tls_on:
                    await send(writer, b"220 2.0.0 Ready to start TLS\r\n")
                    await writer.start_tls(script.tls)
                    tls_on = True
                elif verb == b"AUTH":
                    state.auth_commands += 1
                    if script.drop_on_auth:
                        return
                    if not script.answer_auth:
                        await reader.read()  # hold the line until the client gives up
                        return
                    if line.split()[1:2] == [b"LOGIN"]:
                        await send(writer, b"334 " + b64encode(b"Password:") + b"\r\n")
                        line = line.rstrip() + b" " + (await reader.readline()).strip()
                    reply = script.auth
                    if script.auth_delay:
                        await asyncio.sleep(script.auth_delay)
                    if script.echo_auth:
                        # the blob as sent, decoded, in hex and re-encoded out of step
                        blob = b64decode(line.split()[-1] + b"==")
                        moved = b64encode(b"?" + blob)
                        echoed = b" ".join((line.strip(), blob, blob.hex().encode(), moved))
                        reply = b"535 5.7.8 Rejected: " + echoed.replace(b"\x00", b" ") + b"\r\n"
                    await send(writer, reply)
                elif verb == b"QUIT":
                    state.quits += 1
                    if script.answer_quit:
                        await send(writer, b"221 2.0.0 Bye\r\n")
                    else:
                        await reader.read()
                    return
                else:
                    await send(writer, b"502 5.5.2 Command not recognised\r\n")
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
            pass
        finally:
            state.closed += 1
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await writer.wait_closed()

    server = await asyncio.start_server(session, "127.0.0.1", 0)
    state.port = server.sockets[0].getsockname()[1]
    try:
        yield state
    finally:
        server.close()
        await server.wait_closed()


def long_reply(size: int = 40 * 1024) -> bytes:
    """An EHLO reply longer than aiosmtplib's 32 KiB cap, in valid-looking lines."""
    line = b"250-" + b"X" * 100 + b"\r\n"
    return line * (size // len(line) + 1) + b"250 HELP\r\n"
