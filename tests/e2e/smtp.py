"""An aiosmtpd submission server for the end-to-end tiers: STARTTLS with a trustme
certificate for 127.0.0.1, AUTH PLAIN/LOGIN after TLS, one known account. It records
each AUTH (mechanism and login, never the password) so tests can prove a probe made
exactly one, and can hold AUTH replies for as long as a test needs (shutdown and
crash tests)."""

from __future__ import annotations

import asyncio
import contextlib
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
    """What the server saw, and the gate its AUTH replies wait on.

    ``auth_commands`` counts AUTH commands as they arrive (before any reply), so
    an AUTH whose client died while the reply was held still counts; it keeps the
    mechanism only, never the initial response (that carries the password).
    """

    port: int
    ca_file: Path
    auth_commands: list[str] = field(default_factory=list)
    logins: list[tuple[str, bool]] = field(default_factory=list)  # (login, accepted)
    hold: asyncio.Event | None = None  # when set-able: AUTH replies wait for it
    hold_at_most: float = 60.0

    @property
    def auth_attempts(self) -> list[str]:
        """The logins tried, in order (never a password)."""
        return [login for login, _ in self.logins]

    def hold_auth(self, *, at_most: float = 60.0) -> None:
        """From now on, an AUTH reply waits until ``release_auth`` (or ``at_most`` s)."""
        self.hold = asyncio.Event()
        self.hold_at_most = at_most

    def release_auth(self) -> None:
        if self.hold is not None:
            self.hold.set()


class _Handler:
    pass


class _GatedSMTP(SMTP):
    def __init__(self, seen: SmtpServer, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._seen = seen

    async def smtp_AUTH(self, arg: str) -> None:
        self._seen.auth_commands.append(arg.split()[0].upper() if arg else "")
        gate = self._seen.hold
        if gate is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(gate.wait(), self._seen.hold_at_most)
        await super().smtp_AUTH(arg)


@asynccontextmanager
async def smtp_server(tmp_path: Path) -> AsyncIterator[SmtpServer]:
    """STARTTLS (trustme certificate for 127.0.0.1, CA written to ``ca.pem``),
    AUTH after TLS, one account: ``USER`` / ``PASSWORD``."""
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_ctx)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    seen = SmtpServer(port=0, ca_file=ca_file)

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = data.login.decode() == USER and data.password.decode() == PASSWORD
        seen.logins.append((data.login.decode(), ok))
        return AuthResult(success=ok, handled=False)

    listener = await asyncio.get_running_loop().create_server(
        lambda: _GatedSMTP(
            seen,
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
    seen.port = int(listener.sockets[0].getsockname()[1])
    try:
        yield seen
    finally:
        seen.release_auth()  # no held reply outlives the test
        listener.close()
        await listener.wait_closed()
