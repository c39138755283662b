"""A minimal aiosmtpd submission server for the end-to-end tier: STARTTLS with a
trustme certificate for 127.0.0.1, AUTH PLAIN/LOGIN after TLS, one known account.
Counts AUTH attempts so tests can prove a probe made exactly one."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

USER = "alice@example.com"
PASSWORD = "Right-pa55word-e2e"


@dataclass(slots=True)
class SmtpServer:
    port: int
    ca_file: Path
    auth_attempts: list[str] = field(default_factory=list)  # logins tried, no passwords


class _Handler:
    pass


@asynccontextmanager
async def smtp_server(tmp_path: Path, *, password: str = PASSWORD) -> AsyncIterator[SmtpServer]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    attempts: list[str] = []

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        attempts.append(data.login.decode())
        ok = data.login.decode() == USER and data.password.decode() == password
        return AuthResult(success=ok, handled=False)

    loop = asyncio.get_running_loop()
    listener = await loop.create_server(
        lambda: SMTP(
            _Handler(),
            hostname="mail.test",
            tls_context=server_ctx,
            require_starttls=True,
            authenticator=authenticator,
            auth_require_tls=True,
        ),
        "127.0.0.1",
        0,
    )
    port = int(listener.sockets[0].getsockname()[1])
    try:
        yield SmtpServer(port=port, ca_file=ca_file, auth_attempts=attempts)
    finally:
        listener.close()
        await listener.wait_closed()
