"""The probe's one AUTH attempt: the mechanism ``plan.choose_mechanism`` picks, the
before-AUTH hook (the lockout guard books the attempt there; its failure sends nothing),
the password unwrapped only here, and an XOAUTH2 refusal's 334 challenge decoded."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final

import aiosmtplib
from aiosmtplib import SMTPResponse
from aiosmtplib.auth import auth_plain_encode, auth_xoauth2_encode

from bot.probe import failures, words
from bot.probe.draft import ReportDraft
from bot.probe.model import AuthAttempt, AuthWithheld, BeforeAuth, Mechanism, ProbeRequest
from bot.probe.plan import choose_mechanism
from bot.probe.replies import format_reply
from bot.probe.request import IPAddress
from bot.probe.session import TappedSMTP
from bot.probe.stage_run import StageRun
from bot.probe.xoauth2 import decode_challenge
from bot.secret import Secret


async def authenticate(
    stage: StageRun,
    smtp: TappedSMTP,
    draft: ReportDraft,
    request: ProbeRequest,
    *,
    username: str,
    secret: Secret,
    addresses: tuple[IPAddress, ...],
    before_auth: BeforeAuth | None,
) -> None:
    """The one AUTH attempt, with the one mechanism ``plan.choose_mechanism`` picks."""
    wanted = request.mechanism
    mechanism = choose_mechanism(wanted, draft.offered, over_tls=draft.tls is not None)
    if mechanism is None:
        stage.fail(failures.mechanism_not_offered(wanted, draft.offered))
    draft.mechanism = mechanism.value.upper()
    draft.secrets.extend(secret.forms())
    sending = _send(smtp, mechanism, secret, before_auth, request, draft, username, addresses)
    try:
        response = await stage.run(sending)
    except aiosmtplib.SMTPAuthenticationError as exc:
        challenge = decode_challenge(smtp.challenge) if mechanism is Mechanism.XOAUTH2 else None
        if challenge is None:
            raise
        draft.transcript.note(f"XOAUTH2 error challenge: {challenge.describe()}")
        stage.fail(failures.xoauth2_refused(stage.classify(exc), challenge))
    reply = smtp.reply(response, secrets=draft.secrets)
    detail = words.AUTH_OK.format(mechanism=draft.mechanism, reply=format_reply(reply))
    stage.ok(detail, reply)


_SENDERS: Final[dict[Mechanism, Callable[[TappedSMTP, str, str], Awaitable[SMTPResponse]]]] = {
    Mechanism.PLAIN: TappedSMTP.auth_plain,
    Mechanism.LOGIN: TappedSMTP.auth_login,
    Mechanism.CRAM_MD5: TappedSMTP.auth_crammd5,
    Mechanism.XOAUTH2: TappedSMTP.auth_xoauth2,
}


async def _send(
    smtp: TappedSMTP,
    mechanism: Mechanism,
    secret: Secret,
    hook: BeforeAuth | None,
    request: ProbeRequest,
    draft: ReportDraft,
    username: str,
    addresses: tuple[IPAddress, ...],
) -> SMTPResponse:
    """The hook, then the credentials: the one place the password is unwrapped."""
    await _before_auth(hook, request, draft, username, addresses)
    password = secret.reveal()
    draft.secrets.extend(
        blob.decode("ascii")
        for blob in (
            auth_plain_encode(username, password),
            auth_xoauth2_encode(username, password),
        )
    )
    return await _SENDERS[mechanism](smtp, username, password)


async def _before_auth(
    hook: BeforeAuth | None,
    request: ProbeRequest,
    draft: ReportDraft,
    username: str,
    addresses: tuple[IPAddress, ...],
) -> None:
    """The last word before the credentials leave; its failure sends nothing."""
    if hook is None:
        return
    attempt = AuthAttempt(
        host=request.host,
        port=request.port,
        username=username,
        address=str(draft.address),
        addresses=tuple(str(ip) for ip in addresses),
    )
    try:
        await hook(attempt)
    except Exception as exc:
        raise AuthWithheld(str(exc)) from exc
