"""Sign-ins for live checks started from Slack (no Slack here: prompts go through ``show``).

``SignIns.offered(host)`` lists the providers the modal may offer for a host;
``SignIns.sign_in(...)`` runs one sign-in for one check and returns its token.
What the user must do (open a link, enter a code) reaches them as a
``SignInPrompt`` through ``show``, which the Slack side renders in the check's
DM thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import aiohttp

from bot.oauth.client import IdentityProvider
from bot.oauth.device import DeviceAuthorization
from bot.oauth.flows import CodeSignIn, Sleep, device_sign_in
from bot.oauth.hosts import provider_for_host
from bot.oauth.pending import PendingSignIns
from bot.oauth.settings import OAuthSettings, Provider
from bot.secret import Secret


@dataclass(frozen=True, slots=True, kw_only=True)
class SignInPrompt:
    """What to show the user: a link, and for the device flow the code to type there."""

    provider: Provider
    link: str
    expires_in: float
    user_code: str | None = None


ShowPrompt = Callable[[SignInPrompt], Awaitable[None]]


class SignIns:
    """The configured providers, and the sign-ins this process runs."""

    def __init__(
        self,
        settings: OAuthSettings,
        *,
        pending: PendingSignIns,
        http_mode: bool,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.pending = pending
        self._http_mode = http_mode
        self._sleep = sleep

    def offered(self, host: str | None) -> tuple[Provider, ...]:
        """Microsoft for Microsoft hosts, Google for Google hosts (both for an unknown one),
        each only when configured; Google needs HTTP mode (its callback comes to us)."""
        known = provider_for_host(host)
        usable = {
            Provider.MICROSOFT: self.settings.microsoft,
            Provider.GOOGLE: self.settings.google_in_slack and self._http_mode,
        }
        return tuple(p for p in Provider if usable[p] and known in (None, p))

    async def sign_in(
        self,
        provider: Provider,
        *,
        user_id: str,
        check_id: str,
        login_hint: str | None,
        show: ShowPrompt,
    ) -> Secret:
        """One sign-in for one check; ``SignInFailed`` when it yields no token."""
        async with aiohttp.ClientSession() as session:
            idp = IdentityProvider(self.settings, session)
            if provider is Provider.MICROSOFT:

                async def show_code(authorization: DeviceAuthorization) -> None:
                    await show(
                        SignInPrompt(
                            provider=provider,
                            link=authorization.verification_uri,
                            expires_in=authorization.expires_in,
                            user_code=authorization.user_code,
                        )
                    )

                return await device_sign_in(idp, show=show_code, sleep=self._sleep)
            started = CodeSignIn.start(
                idp, redirect_uri=self.settings.google_redirect_uri, login_hint=login_hint
            )
            await self.pending.open(started.state, user_id=user_id, check_id=check_id)
            await show(
                SignInPrompt(provider=provider, link=started.url, expires_in=self.pending.ttl)
            )
            code = await self.pending.wait(started.state)
            return await started.finish(idp, code)
