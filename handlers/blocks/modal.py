"""The probe modal (block ids ``email host port security username password``) and notices."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from bot import messages
from handlers.blocks.kit import METADATA_MAX, Block, context, escape, plain_text, section

MODAL_CALLBACK: Final = "smtpcheck_probe"


NOTICE_CALLBACK: Final = "smtpcheck_notice"


FIELD_BLOCKS: Final = ("email", "host", "port", "security", "username", "password")
SIGN_IN_BLOCK: Final = "signin"  # only when sign-in providers are offered
PASSWORD_SIGN_IN: Final = "password"  # noqa: S105 (the choice "use the typed password")


VALUE_ACTION: Final = "value"  # action_id of every input element in the modal


# -- the probe modal ---------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class Prefill:
    """Non-secret values to put in the modal (there is never a password here)."""

    email: str | None = None
    host: str | None = None
    port: int | None = None
    security: str = "auto"
    username: str | None = None
    note: str | None = None  # one line shown under the intro (e.g. where settings came from)


def _text_input(
    block_id: str, *, initial: str | None, optional: bool, max_length: int | None = None
) -> Block:
    label, placeholder = messages.MODAL_FIELDS[block_id]
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": VALUE_ACTION}
    if placeholder:
        element["placeholder"] = plain_text(placeholder)
    if initial:
        element["initial_value"] = initial
    if max_length:
        element["max_length"] = max_length
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": plain_text(label),
        "element": element,
    }
    if block_id in messages.MODAL_HINTS:
        block["hint"] = plain_text(messages.MODAL_HINTS[block_id])
    return block


def _security_input(initial: str) -> Block:
    options = [
        {"text": plain_text(label), "value": value} for value, label in messages.SECURITY_CHOICES
    ]
    chosen = next((o for o in options if o["value"] == initial), options[0])
    # A static_select inside an input block dispatches nothing before submit (no
    # dispatch_action), so it cannot resend the typed password.
    return {
        "type": "input",
        "block_id": "security",
        "label": plain_text(messages.MODAL_FIELDS["security"][0]),
        "element": {
            "type": "static_select",
            "action_id": VALUE_ACTION,
            "options": options,
            "initial_option": chosen,
        },
    }


def _sign_in_input(providers: Sequence[str]) -> Block:
    """Password, or "Sign in with Microsoft / Google" for the providers offered."""
    options = [
        {"text": plain_text(messages.SIGN_IN_CHOICES[value]), "value": value}
        for value in (PASSWORD_SIGN_IN, *providers)
    ]
    return {
        "type": "input",
        "block_id": SIGN_IN_BLOCK,
        "optional": True,
        "label": plain_text(messages.SIGN_IN_LABEL),
        "hint": plain_text(messages.SIGN_IN_HINT),
        "element": {
            "type": "radio_buttons",
            "action_id": VALUE_ACTION,
            "options": options,
            "initial_option": options[0],
        },
    }


REPLY_FIELD: Final = "reply"  # private_metadata: the opener's response_url

# Each text field's max_length; Slack rejects a view whose initial_value is longer.
FIELD_MAX: Final = {"email": 320, "host": 300, "port": 5, "username": 320}


def _fitted(prefill: Prefill) -> tuple[dict[str, str | None], list[str]]:
    """The prefilled values cut to their fields' limits, and the labels of those cut."""
    port = str(prefill.port) if prefill.port is not None else None
    raw = {"email": prefill.email, "host": prefill.host, "port": port}
    raw["username"] = prefill.username
    values: dict[str, str | None] = {}
    cut: list[str] = []
    for name, value in raw.items():
        if value is not None and len(value) > FIELD_MAX[name]:
            value = value[: FIELD_MAX[name]]
            cut.append(messages.MODAL_FIELDS[name][0])
        values[name] = value
    return values, cut


def probe_modal(
    prefill: Prefill,
    *,
    origin_channel: str | None,
    sign_in: Sequence[str] = (),
    response_url: str | None = None,
) -> dict[str, Any]:
    """The modal that asks for what a probe needs. No element dispatches actions.

    ``private_metadata`` carries where the modal was opened (channel) and that payload's
    ``response_url``, to tell the person there where the check's result goes: never a
    prefilled value, a username or anything secret.

    ``sign_in`` lists the OAuth providers to offer (``SignIns.offered``); none, no choice.
    Prefilled values longer than their field allows are cut, and the modal says so.
    """
    values, cut = _fitted(prefill)
    intro = messages.MODAL_INTRO
    if prefill.note:
        intro += "\n_" + escape(prefill.note[:500]) + "_"
    if cut:
        intro += "\n_" + escape(messages.PREFILL_CLIPPED.format(fields=", ".join(cut))) + "_"
    blocks = [
        section(intro),
        _text_input("email", initial=values["email"], optional=True, max_length=320),
        _text_input("host", initial=values["host"], optional=True, max_length=300),
        _text_input("port", initial=values["port"], optional=True, max_length=5),
        _security_input(prefill.security),
        *([_sign_in_input(sign_in)] if sign_in else []),
        _text_input("username", initial=values["username"], optional=True, max_length=320),
        _text_input("password", initial=None, optional=True, max_length=4096),
        context(messages.MODAL_FOOTER),
    ]
    carried: dict[str, str | None] = {"origin": origin_channel}
    if response_url:
        carried[REPLY_FIELD] = response_url
    metadata = json.dumps(carried, separators=(",", ":"))
    return {
        "type": "modal",
        "callback_id": MODAL_CALLBACK,
        "title": plain_text(messages.MODAL_TITLE),
        "submit": plain_text(messages.MODAL_SUBMIT),
        "close": plain_text(messages.MODAL_CLOSE),
        "private_metadata": metadata[:METADATA_MAX],
        "blocks": blocks,
    }


def notice_modal(text: str) -> dict[str, Any]:
    """What the modal turns into when a check is refused (no inputs, nothing kept)."""
    return {
        "type": "modal",
        "callback_id": NOTICE_CALLBACK,
        "title": plain_text(messages.REFUSED_TITLE),
        "close": plain_text("OK"),
        "blocks": [section(text)],
    }
