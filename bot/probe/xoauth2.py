"""The error an XOAUTH2 server sends in its 334 challenge, decoded (pure).

A server that refuses the token does not answer 535 at once: it sends
``334 <base64 JSON>`` (``{"status":"400","schemes":"Bearer","scope":"..."}``, Google's
documented XOAUTH2 protocol), the client answers an empty line, then comes the
final 5xx. The JSON says why (status 400/401: invalid or expired token; the scope
the server wants). ``decode_challenge`` reads it; anything else is ``None``.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Final

from bot.probe.replies import clean_text

_MAX_CHALLENGE: Final = 4096


@dataclass(frozen=True, slots=True)
class OAuthChallenge:
    """What an XOAUTH2 error challenge says; each field cleaned and short."""

    status: str | None
    scope: str | None
    schemes: str | None

    def describe(self) -> str:
        parts = [
            f"{name} {value}"
            for name, value in (
                ("status", self.status),
                ("scope", self.scope),
                ("schemes", self.schemes),
            )
            if value
        ]
        return ", ".join(parts)


def decode_challenge(message: str | None) -> OAuthChallenge | None:
    """The decoded 334 error challenge, or None when ``message`` is not one."""
    if not message or len(message) > _MAX_CHALLENGE:
        return None
    try:
        payload = json.loads(base64.b64decode(message.strip(), validate=True))
    except (binascii.Error, ValueError):
        return None
    if not isinstance(payload, dict):
        return None

    def field(name: str) -> str | None:
        value = payload.get(name)
        if isinstance(value, int | str) and str(value):
            return clean_text(str(value), max_chars=120)
        return None

    challenge = OAuthChallenge(field("status"), field("scope"), field("schemes"))
    return challenge if any((challenge.status, challenge.scope, challenge.schemes)) else None
