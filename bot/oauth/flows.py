"""The two sign-ins end to end, each returning one access token as a ``Secret``.

- ``device_sign_in`` (Microsoft, RFC 8628): show the user code and link through
  ``show``, then poll on ``DevicePoll``'s schedule until a token or a final refusal.
- ``CodeSignIn`` (Google, authorization code + PKCE): the sign-in link and, once the
  browser comes back with a code, its redemption. Where the code arrives from (the
  bot's callback route, the CLI's loopback listener) is the caller's business.

``sleep`` and ``clock`` are injected so the schedule is tested without waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.oauth.client import IdentityProvider
from bot.oauth.device import Answer, DeviceAuthorization, DevicePoll, access_token_of
from bot.oauth.pkce import Pkce, new_pkce, new_state
from bot.secret import Secret

ShowCode = Callable[[DeviceAuthorization], Awaitable[None]]
Sleep = Callable[[float], Awaitable[None]]


async def device_sign_in(
    idp: IdentityProvider,
    *,
    show: ShowCode,
    sleep: Sleep = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Secret:
    """Sign in with a device code; raise ``SignInFailed`` when no token comes."""
    authorization = await idp.start_device()
    poll = DevicePoll(authorization, now=clock())
    await show(authorization)
    while True:
        await sleep(poll.wait(clock()))
        status, payload = await idp.poll_device(authorization)
        if poll.answer(status, payload) is Answer.TOKEN:
            return access_token_of(payload)


@dataclass(frozen=True, slots=True)
class CodeSignIn:
    """One Google sign-in under way: its ``state``, PKCE pair and redirect URI."""

    state: str
    pkce: Pkce
    redirect_uri: str
    url: str

    @classmethod
    def start(
        cls,
        idp: IdentityProvider,
        *,
        redirect_uri: str,
        login_hint: str | None,
        state: str | None = None,
    ) -> CodeSignIn:
        """A fresh PKCE pair and (unless given) ``state``, and the link to open."""
        state, pkce = state or new_state(), new_pkce()
        url = idp.google_authorization_url(
            state=state, challenge=pkce.challenge, redirect_uri=redirect_uri, login_hint=login_hint
        )
        return cls(state, pkce, redirect_uri, url)

    async def finish(self, idp: IdentityProvider, code: Secret) -> Secret:
        """Redeem the code the browser brought back (its ``state`` already checked)."""
        return await idp.redeem_google_code(
            code, verifier=self.pkce.verifier, redirect_uri=self.redirect_uri
        )
