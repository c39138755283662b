"""A fake identity provider and an XOAUTH2 SMTP server, both on 127.0.0.1 port 0.

- ``FakeIdentityProvider``: Microsoft's device authorization and token endpoints
  (answers scripted per poll: ``authorization_pending``, ``slow_down``, ``token`` or
  any error, optionally with an AADSTS description) and Google's authorization and
  token endpoints (the authorization endpoint plays the consenting user: it redirects
  the "browser" to the redirect URI with a code, or with ``error=access_denied``).
  The token endpoints check the client, the scope and the PKCE verifier.
- ``xoauth2_server``: aiosmtpd with STARTTLS that accepts XOAUTH2 for the known token
  and otherwise answers ``334 <base64 JSON error>`` then 535, as Gmail does.

Canary values for every secret are module constants, for the leak tests.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from aiosmtpd.smtp import MISSING, SMTP, AuthResult

from bot.oauth.client import DEVICE_GRANT, GOOGLE_SCOPE, MICROSOFT_SCOPE
from bot.oauth.settings import OAuthSettings
from bot.secret import Secret
from tests.support.smtp_server import SERVER_NAME, USER

TOKEN = "ya29.Canary-access-token-5e1f"
REFRESH_TOKEN = "1//Canary-refresh-token-77aa"
AUTH_CODE = "4/Canary-authorization-code-c0de"
DEVICE_CODE = "Canary-device-code-d3v1c3"
CLIENT_SECRET = "Canary-client-secret-9s9s"
CANARIES = (TOKEN, REFRESH_TOKEN, AUTH_CODE, DEVICE_CODE, CLIENT_SECRET)
MS_CLIENT_ID = "11111111-2222-3333-4444-555555555555"
GOOGLE_CLIENT_ID = "fake-client.apps.googleusercontent.com"
USER_CODE = "ABCD-1234"
VERIFICATION_URI = "https://microsoft.com/devicelogin"
TENANT = "organizations"
ERROR_CHALLENGE = {"status": "400", "schemes": "Bearer", "scope": "https://mail.google.com/"}


def b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def leaked(text: str) -> list[str]:
    """The canaries (in any of their usual encodings) found in ``text``."""
    forms = [(c, form) for c in CANARIES for form in (c, b64(c))]
    forms += [(TOKEN, b64(f"user={USER}\x01auth=Bearer {TOKEN}\x01\x01"))]
    return sorted({c for c, form in forms if form in text})


@dataclass
class FakeIdentityProvider:
    """The Microsoft and Google endpoints the sign-ins talk to."""

    polls: list[str] = field(default_factory=lambda: ["authorization_pending", "token"])
    description: str = ""  # error_description for a scripted error (AADSTS code...)
    interval: int = 0
    expires_in: int = 900
    google_deny: bool = False
    polled: list[str] = field(default_factory=list)  # the answer given to each poll
    challenges: dict[str, str] = field(default_factory=dict)  # state -> PKCE challenge
    redeemed: int = 0
    base_url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self, ssl_context: ssl.SSLContext | None = None) -> FakeIdentityProvider:
        app = web.Application()
        app.router.add_post(f"/{TENANT}/oauth2/v2.0/devicecode", self._devicecode)
        app.router.add_post(f"/{TENANT}/oauth2/v2.0/token", self._ms_token)
        app.router.add_get("/google/auth", self._google_auth)
        app.router.add_post("/google/token", self._google_token)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=ssl_context)
        await site.start()
        scheme = "https" if ssl_context else "http"
        self.base_url = f"{scheme}://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def settings(self, *, public_url: str | None = None, **changes: Any) -> OAuthSettings:
        """Settings pointing at this provider (http on loopback: tests only)."""
        fields: dict[str, Any] = {
            "ms_client_id": MS_CLIENT_ID,
            "ms_authority": self.base_url,
            "google_client_id": GOOGLE_CLIENT_ID,
            "google_client_secret": Secret(CLIENT_SECRET),
            "google_auth_url": f"{self.base_url}/google/auth",
            "google_token_url": f"{self.base_url}/google/token",
            "public_url": public_url,
            "insecure_loopback": True,
        }
        fields.update(changes)
        return OAuthSettings(**fields)

    @staticmethod
    def _error(error: str, description: str = "", status: int = 400) -> web.Response:
        body = {"error": error, "error_description": description}
        return web.json_response(body, status=status)

    @staticmethod
    def _token() -> web.Response:
        return web.json_response(
            {
                "token_type": "Bearer",
                "access_token": TOKEN,
                "refresh_token": REFRESH_TOKEN,  # sent unasked: must be ignored
                "expires_in": 3599,
            }
        )

    async def _devicecode(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("client_id") != MS_CLIENT_ID:
            return self._error("invalid_client", "AADSTS700016: Application not found.")
        if form.get("scope") != MICROSOFT_SCOPE:
            return self._error("invalid_scope", "AADSTS70011: The provided scope is invalid.")
        return web.json_response(
            {
                "device_code": DEVICE_CODE,
                "user_code": USER_CODE,
                "verification_uri": VERIFICATION_URI,
                "expires_in": self.expires_in,
                "interval": self.interval,
                "message": f"To sign in, enter the code {USER_CODE}",
            }
        )

    async def _ms_token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != DEVICE_GRANT or form.get("device_code") != DEVICE_CODE:
            return self._error("invalid_grant", "AADSTS70000: bad grant")
        answer = self.polls.pop(0) if len(self.polls) > 1 else self.polls[0]
        self.polled.append(answer)
        if answer == "token":
            return self._token()
        return self._error(answer, self.description)

    async def _google_auth(self, request: web.Request) -> web.Response:
        query = request.query
        redirect = query.get("redirect_uri", "")
        if (
            query.get("client_id") != GOOGLE_CLIENT_ID
            or query.get("scope") != GOOGLE_SCOPE
            or query.get("response_type") != "code"
            or query.get("code_challenge_method") != "S256"
            or not query.get("code_challenge")
            or not redirect
        ):
            return web.Response(status=400, text="bad authorization request")
        state = query.get("state", "")
        if self.google_deny:
            params = {"error": "access_denied", "state": state}
        else:
            self.challenges[state] = query["code_challenge"]
            params = {"code": AUTH_CODE, "state": state, "scope": GOOGLE_SCOPE}
        raise web.HTTPFound(f"{redirect}?{urlencode(params)}")

    async def _google_token(self, request: web.Request) -> web.Response:
        form = await request.post()
        verifier = str(form.get("code_verifier", ""))
        digest = hashlib.sha256(verifier.encode()).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        if (
            form.get("grant_type") != "authorization_code"
            or form.get("client_id") != GOOGLE_CLIENT_ID
            or form.get("client_secret") != CLIENT_SECRET
            or form.get("code") != AUTH_CODE
            or challenge not in self.challenges.values()
        ):
            return self._error("invalid_grant", "Bad Request")
        self.redeemed += 1
        return self._token()


@contextlib.asynccontextmanager
async def identity_provider(
    ssl_context: ssl.SSLContext | None = None, **options: Any
) -> AsyncIterator[FakeIdentityProvider]:
    idp = await FakeIdentityProvider(**options).start(ssl_context)
    try:
        yield idp
    finally:
        await idp.stop()


class XOAuth2Handler:
    """aiosmtpd handler: XOAUTH2 only, for ``USER`` with ``TOKEN``."""

    def __init__(self) -> None:
        self.attempts = 0
        self.accepted = 0

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        self.attempts += 1
        blob = args[1] if len(args) > 1 else await server.challenge_auth("")
        if blob is MISSING:
            return AuthResult(success=False, handled=True)
        text = base64.b64decode(blob if isinstance(blob, bytes) else blob.encode()).decode()
        fields = dict(part.split("=", 1) for part in text.split("\x01") if "=" in part)
        if fields.get("user") == USER and fields.get("auth") == f"Bearer {TOKEN}":
            self.accepted += 1
            return AuthResult(success=True, auth_data=USER)
        error = base64.b64encode(json.dumps(ERROR_CHALLENGE).encode())
        await server.challenge_auth(error, encode_to_b64=False)
        return AuthResult(success=False, handled=False)


@dataclass
class RunningXOAuth2:
    host: str
    port: int
    handler: XOAuth2Handler


@contextlib.asynccontextmanager
async def xoauth2_server(context: ssl.SSLContext) -> AsyncIterator[RunningXOAuth2]:
    """STARTTLS, then AUTH XOAUTH2 (and nothing else)."""
    loop = asyncio.get_running_loop()
    handler = XOAuth2Handler()

    def factory() -> SMTP:
        return SMTP(
            handler,
            hostname=SERVER_NAME,
            tls_context=context,
            auth_require_tls=True,
            auth_exclude_mechanism=["PLAIN", "LOGIN"],
            loop=loop,
        )

    server = await loop.create_server(factory, "127.0.0.1", 0)
    try:
        yield RunningXOAuth2("127.0.0.1", server.sockets[0].getsockname()[1], handler)
    finally:
        server.close()
        await server.wait_closed()
