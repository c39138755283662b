"""The probe modal's submission: validate, admit, close the modal, start the check."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Final

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages
from bot.checks.contracts import Admission, CheckOrder, CheckRefused
from bot.errors import InputError, RateLimited, StoreUnavailable
from bot.oauth.settings import Provider
from bot.probe.model import ProbeRequest
from bot.probe.policy_hints import port_hint
from bot.probe.request import PortNotAllowed, build_request
from bot.runtime.deps import deps_of
from bot.runtime.private import tell_privately, trusted_response_url
from bot.secret import Secret
from bot.store.base import CheckRecord
from handlers.blocks import kit, modal
from handlers.check_thread import SlackCheckSink

log = logging.getLogger(__name__)

# Slack wants a view submission answered within 3 s; past this the admission (a slow store)
# finishes behind a modal that says the outcome comes in the DM.
ADMIT_WITHIN: Final = 2.0
_HOST_PORT: Final = re.compile(r"(?P<host>[^:\[\]]+):(?P<port>\d{1,5})")


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeForm:
    """The modal's values. The password is a ``Secret`` from the moment it is read."""

    email: str | None
    host: str | None
    port: str | None
    security: str
    username: str | None
    password: Secret | None
    sign_in: str | None = None  # "microsoft" / "google": OAuth instead of the password

    def provider(self, offered: tuple[Provider, ...]) -> Provider | None:
        """The OAuth provider chosen (one of ``offered``), or None for a password check."""
        if self.sign_in in (None, modal.PASSWORD_SIGN_IN):
            return None
        chosen = next((p for p in offered if p.value == self.sign_in), None)
        if chosen is None:
            raise InputError(field="signin", reason=messages.SIGN_IN_UNAVAILABLE)
        if self.password is not None:
            raise InputError(field="password", reason=messages.SIGN_IN_TYPED_NOT_USED)
        if not (self.username or self.email):
            raise InputError(field="username", reason=messages.SIGN_IN_NEEDS_USER)
        return chosen

    def to_oauth_request(self, allowed_ports: frozenset[int]) -> ProbeRequest:
        """Like ``to_request``, for one XOAUTH2 AUTH with the token the sign-in will give."""
        # Validated as a full XOAUTH2 request; the stand-in token is dropped at once and
        # the runner puts the real one in just before the probe.
        stand_in = replace(self, username=self.username or self.email, password=Secret("-"))
        request = stand_in.to_request(allowed_ports, mechanism="xoauth2")
        return replace(request, password=None)

    def to_request(self, allowed_ports: frozenset[int], mechanism: str = "auto") -> ProbeRequest:
        """Validate into a ``ProbeRequest``; ``InputError.field`` names the block."""
        host, port = self.host, self.port
        split = _HOST_PORT.fullmatch(host or "")
        if split and not port:  # "smtp.example.com:587" typed into the host field
            host, port = split.group("host"), split.group("port")
        if not host and self.email:
            raise InputError(
                field="host", reason=messages.HOST_NEEDED_WITH_EMAIL.format(email=self.email)
            )
        username = self.username or (self.email if self.password else None)
        return build_request(
            host=host or "",
            port=port,
            security=self.security,
            mechanism=mechanism,
            username=username,
            password=self.password,
            allowed_ports=allowed_ports,
        )


def read_form(view: dict[str, Any]) -> ProbeForm:
    values: dict[str, Any] = view.get("state", {}).get("values", {})

    def text(block_id: str) -> str | None:
        state = values.get(block_id, {}).get(modal.VALUE_ACTION, {})
        selected = state.get("selected_option") or {}
        value = state.get("value") or selected.get("value")
        return str(value) if value else None

    password = text("password")
    return ProbeForm(
        email=text("email"),
        host=text("host"),
        port=text("port"),
        security=text("security") or "auto",
        username=text("username"),
        password=Secret(password) if password else None,
        sign_in=text(modal.SIGN_IN_BLOCK),
    )


_CHANNEL_ID: Final = re.compile(r"[CDG][A-Z0-9]{1,40}")


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        carried = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return carried if isinstance(carried, dict) else {}


def origin_channel(view: dict[str, Any]) -> str | None:
    """The channel the modal was opened from (a Slack channel id, else None)."""
    origin = _metadata(view).get("origin")
    return origin if isinstance(origin, str) and _CHANNEL_ID.fullmatch(origin) else None


def reply_url(view: dict[str, Any], api_url: str) -> str | None:
    """The opener's ``response_url``, only if it is one of Slack's (checked again here:
    the bot never POSTs to an address that merely came back in a payload)."""
    return trusted_response_url(_metadata(view).get(modal.REPLY_FIELD), api_url)


def field_error(exc: InputError) -> dict[str, str]:
    """``response_action: errors`` keyed by the block the problem is in."""
    block = exc.field if exc.field in (*modal.FIELD_BLOCKS, modal.SIGN_IN_BLOCK) else "host"
    return {block: kit.clip(f"The {exc.field} {exc.reason}", 150)}


async def handle_submit_probe(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: dict[str, Any],
) -> None:
    """Field errors keep the modal open; refusals replace it with a notice; else it closes."""
    deps = deps_of(context)
    try:
        form = read_form(view)
        provider = form.provider(deps.sign_in_choices(form.host))
        allowed_ports = deps.settings.allowed_ports
        request = (
            form.to_oauth_request(allowed_ports) if provider else form.to_request(allowed_ports)
        )
    except InputError as exc:
        if isinstance(exc, PortNotAllowed):  # the operator's setting, never shown in Slack
            log.info("port refused in a check form; %s", port_hint(exc.port, allowed_ports))
        await ack(response_action="errors", errors=field_error(exc))
        return
    order = CheckOrder(
        user_id=body["user"]["id"],
        team_id=(body.get("team") or {}).get("id"),
        origin_channel=origin_channel(view),
        submission_key=f"{view['id']}:{view.get('hash', '')}",
    )
    admitting = asyncio.ensure_future(deps.runner.admit(order, request))
    try:
        admission = await asyncio.wait_for(asyncio.shield(admitting), ADMIT_WITHIN)
    except (RateLimited, StoreUnavailable, CheckRefused) as exc:
        await ack(response_action="update", view=modal.notice_modal(refusal_text(exc)))
        return
    except TimeoutError:
        # A slow store (not a dead one): Slack wants its answer within 3 s, so the modal
        # says the outcome comes in the DM, and the admission finishes behind it.
        await ack(response_action="update", view=modal.notice_modal(messages.ADMISSION_SLOW))
        deps.runner.background(
            _admitted_late(admitting, body["user"]["id"], client, view, context, provider, request),
            name="admission",
        )
        return
    await ack()
    _start(admission, client, view, context, provider, request)


async def _admitted_late(
    admitting: asyncio.Future[Admission | None],
    user: str,
    client: AsyncWebClient,
    view: dict[str, Any],
    context: dict[str, Any],
    provider: Provider | None,
    request: ProbeRequest,
) -> None:
    """The admission the modal no longer waited for: run the check, or say in the DM why not."""
    try:
        admission = await admitting
    except (RateLimited, StoreUnavailable, CheckRefused) as exc:
        await _tell(client, user, refusal_text(exc))
        return
    except Exception:  # a bug: the user still hears how it ended, the log has the rest
        reference = secrets.token_hex(4)
        log.exception("late admission failed (reference %s)", reference)
        await _tell(client, user, messages.UNEXPECTED.format(ref=reference))
        return
    _start(admission, client, view, context, provider, request)


async def _tell(client: AsyncWebClient, user: str, text: str) -> None:
    try:
        await tell_privately(None, client, user, text)
    except Exception as failed:  # Slack down too: the log has it
        log.warning("late admission outcome not delivered (%s)", type(failed).__name__)


def _start(
    admission: Admission | None,
    client: AsyncWebClient,
    view: dict[str, Any],
    context: dict[str, Any],
    provider: Provider | None,
    request: ProbeRequest,
) -> None:
    """Launch an admitted check; None is a duplicate delivery of one already running."""
    if admission is None:
        return
    deps = deps_of(context)
    sink = SlackCheckSink(
        client,
        origin_channel=origin_channel(view),
        response_url=reply_url(view, deps.settings.slack_api_url),
        kb=deps.kb,
    )
    sign_in = None
    if provider is not None and deps.sign_ins is not None:
        sign_ins, login_hint = deps.sign_ins, request.username

        async def sign_in(record: CheckRecord) -> Secret:
            show = partial(sink.sign_in_prompt, record)
            return await sign_ins.sign_in(
                provider,
                user_id=record.user_id,
                check_id=record.check_id,
                login_hint=login_hint,
                show=show,
            )

    deps.runner.launch(admission, request, sink, sign_in=sign_in)


def refusal_text(exc: Exception) -> str:
    if isinstance(exc, RateLimited):
        return messages.REFUSED_RATE.format(reason=exc.reason)
    if isinstance(exc, CheckRefused):
        return exc.message
    return messages.REFUSED_STORE


def register(app: AsyncApp) -> None:
    app.view(modal.MODAL_CALLBACK)(handle_submit_probe)
