"""The thin aiohttp client for the identity provider's endpoints.

Three calls: the Microsoft device authorization request, one poll of its token
endpoint, and the Google authorization-code redemption (with the PKCE verifier).
Network trouble becomes ``SignInFailed(unreachable)`` and an unreadable body
``bad_response``, here and nowhere else. No request or response body is logged.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, Final
from urllib.parse import urlencode

import aiohttp

from bot.oauth.device import DeviceAuthorization, access_token_of
from bot.oauth.errors import Problem, SignInFailed, provider_error
from bot.oauth.settings import OAuthSettings
from bot.secret import Secret

# SMTP AUTH with XOAUTH2 needs exactly this delegated permission. No offline_access:
# one probe uses one access token at once and never refreshes it, so a refresh token
# would only be one more secret to keep out of everything.
MICROSOFT_SCOPE: Final = "https://outlook.office.com/SMTP.Send"
GOOGLE_SCOPE: Final = "https://mail.google.com/"
DEVICE_GRANT: Final = "urn:ietf:params:oauth:grant-type:device_code"
REQUEST_TIMEOUT: Final = 10.0
MAX_RESPONSE: Final = 64 * 1024


class IdentityProvider:
    """HTTP calls to the configured Microsoft and Google endpoints."""

    def __init__(self, settings: OAuthSettings, session: aiohttp.ClientSession) -> None:
        self._settings = settings
        self._session = session

    async def start_device(self) -> DeviceAuthorization:
        """Microsoft: ask for a device code and the user code to show (RFC 8628 3.1)."""
        client_id = self._settings.ms_client_id
        if client_id is None:
            raise SignInFailed(Problem.CLIENT_MISCONFIGURED)
        form = {"client_id": client_id, "scope": MICROSOFT_SCOPE}
        status, payload = await self._post(self._settings.ms_endpoint("devicecode"), form)
        if status != 200:
            raise SignInFailed.from_error(provider_error(payload))
        return DeviceAuthorization.parse(payload)

    async def poll_device(self, authorization: DeviceAuthorization) -> tuple[int, object]:
        """Microsoft: one poll of the token endpoint; ``DevicePoll.answer`` reads it."""
        form = {
            "grant_type": DEVICE_GRANT,
            "client_id": self._settings.ms_client_id or "",
            "device_code": authorization.device_code.reveal(),
        }
        return await self._post(self._settings.ms_endpoint("token"), form)

    def google_authorization_url(
        self, *, state: str, challenge: str, redirect_uri: str, login_hint: str | None
    ) -> str:
        """Google: the sign-in link (authorization code with PKCE S256, no offline access)."""
        params = {
            "client_id": self._settings.google_client_id or "",
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": GOOGLE_SCOPE,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "access_type": "online",
        }
        if login_hint:
            params["login_hint"] = login_hint
        return f"{self._settings.google_auth_url}?{urlencode(params)}"

    async def redeem_google_code(
        self, code: Secret, *, verifier: Secret, redirect_uri: str
    ) -> Secret:
        """Google: exchange the authorization code for an access token."""
        client_secret = self._settings.google_client_secret
        if self._settings.google_client_id is None or client_secret is None:
            raise SignInFailed(Problem.CLIENT_MISCONFIGURED)
        form = {
            "grant_type": "authorization_code",
            "code": code.reveal(),
            "code_verifier": verifier.reveal(),
            "redirect_uri": redirect_uri,
            "client_id": self._settings.google_client_id,
            "client_secret": client_secret.reveal(),
        }
        status, payload = await self._post(self._settings.google_token_url, form)
        if status != 200:
            raise SignInFailed.from_error(provider_error(payload))
        return access_token_of(payload)

    async def _post(self, url: str, form: dict[str, str]) -> tuple[int, object]:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT):
                async with self._session.post(
                    url, data=form, headers={"Accept": "application/json"}, allow_redirects=False
                ) as response:
                    body = await response.content.read(MAX_RESPONSE + 1)
                    status = response.status
        except (aiohttp.ClientError, TimeoutError, OSError):
            raise SignInFailed(Problem.UNREACHABLE) from None  # no URL or body in the chain
        return status, _json(body)


def _json(body: bytes) -> object:
    if len(body) > MAX_RESPONSE:
        return None
    try:
        payload: Any = json.loads(body)
    except ValueError:
        return None
    return payload
