"""``smtpcheck probe ... --oauth microsoft|google``: sign in, then one XOAUTH2 AUTH.

Microsoft: the device code and link are printed (to stderr, so ``--json`` output
stays clean) and the token endpoint is polled. Google: a loopback listener on
127.0.0.1 at a random port (RFC 8252) receives the browser's redirect; the link
to open is printed. Either way the access token is returned as a ``Secret`` and
never printed.
"""

from __future__ import annotations

import sys
from typing import Final

import aiohttp

from bot.oauth.client import IdentityProvider
from bot.oauth.device import DeviceAuthorization
from bot.oauth.errors import Problem, SignInFailed
from bot.oauth.flows import CodeSignIn, Sleep, device_sign_in
from bot.oauth.loopback import LoopbackRedirect
from bot.oauth.pkce import new_state
from bot.oauth.settings import OAuthSettings, Provider
from bot.secret import Secret

BROWSER_WAIT: Final = 300.0  # seconds to complete the Google sign-in in the browser


def missing_client(provider: Provider, settings: OAuthSettings) -> str | None:
    """Why ``provider`` cannot be used with these settings, or None."""
    if provider is Provider.MICROSOFT and not settings.microsoft:
        return "--oauth microsoft needs SMTPCHECK_MS_CLIENT_ID (see the README)"
    if provider is Provider.GOOGLE and not settings.google:
        return (
            "--oauth google needs SMTPCHECK_GOOGLE_CLIENT_ID and "
            "SMTPCHECK_GOOGLE_CLIENT_SECRET (see the README)"
        )
    return None


async def sign_in(
    provider: Provider, settings: OAuthSettings, *, login_hint: str, sleep: Sleep | None = None
) -> Secret:
    """The access token for one check; ``SignInFailed`` says why there is none."""
    async with aiohttp.ClientSession() as session:
        idp = IdentityProvider(settings, session)
        if provider is Provider.MICROSOFT:
            if sleep is None:
                return await device_sign_in(idp, show=_show_device_code)
            return await device_sign_in(idp, show=_show_device_code, sleep=sleep)
        return await _google(idp, login_hint)


async def _show_device_code(authorization: DeviceAuthorization) -> None:
    minutes = max(1, round(authorization.expires_in / 60))
    print(
        f"To sign in with Microsoft, open {authorization.verification_uri} and enter the "
        f"code {authorization.user_code} (valid for {minutes} minutes). Waiting...",
        file=sys.stderr,
        flush=True,
    )


async def _google(idp: IdentityProvider, login_hint: str) -> Secret:
    state = new_state()
    async with LoopbackRedirect(state) as redirect:
        started = CodeSignIn.start(
            idp, redirect_uri=redirect.redirect_uri, login_hint=login_hint, state=state
        )
        print(
            f"To sign in with Google, open this link in a browser on this computer:\n"
            f"{started.url}\nWaiting...",
            file=sys.stderr,
            flush=True,
        )
        try:
            code = await redirect.code(within=BROWSER_WAIT)
        except TimeoutError:
            raise SignInFailed(Problem.EXPIRED) from None
    return await started.finish(idp, code)
