"""Credential redaction for text people paste: run before anything is quoted back,
searched, stored or sent on (help threads, triage, the shortcut, the feedback log).

Pasted transcripts and config snippets carry passwords in a few recognisable shapes:
an ``AUTH PLAIN <base64>`` line, the base64 of ``\\0user\\0password`` on a line of its
own, the base64 answers to ``334`` prompts of AUTH LOGIN, and ``password=...`` or
``pass: ...`` fields. Each is replaced by ``[redacted]``; the caller learns that
something was hidden so it can say so.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Final

MASK: Final = "[redacted]"

_AUTH_LINE: Final = re.compile(
    r"(?i)\b(AUTH\s+(?:PLAIN|LOGIN|CRAM-MD5|XOAUTH2|OAUTHBEARER))[ \t]+[^\s]+"
)
_LABEL: Final = r"(?<![A-Za-z])(?:app[ _-]?)?(?:password|passwd|passwort|pass|pwd|secret)\b"
_FIELD: Final = re.compile(rf"""(?i)({_LABEL}["']?\s*[:=]\s*)("[^"\n]*"|'[^'\n]*'|[^\s"',;&]+)""")
# "my password is hunter2": only a value with a digit or symbol, so that
# "your password is incorrect" stays readable.
_SAID: Final = re.compile(rf"(?i)({_LABEL}\s+is\s+)(?=\S*[^A-Za-z\s.,!?])([^\s,;]+)")
_BASE64: Final = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{8,}={0,2}(?![A-Za-z0-9+/=])")
_PROMPT_334: Final = re.compile(r"^\W{0,4}(?:[SC]:\s*)?334\b")
_LONE_TOKEN: Final = re.compile(r"^(\W{0,4}(?:[SC]:\s*)?)([A-Za-z0-9+/]{4,}={0,2})\s*$")


@dataclass(frozen=True, slots=True)
class Redacted:
    text: str
    hidden: bool  # something credential-shaped was replaced


def _decodes_to_credentials(token: str) -> bool:
    """base64 of ``authzid\\0user\\0password`` (AUTH PLAIN) or an XOAUTH2 bearer string."""
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return raw.count(b"\0") >= 2 or (b"auth=Bearer" in raw and b"\x01" in raw)


def _after_prompts(text: str) -> str:
    """Mask the base64 answers that follow ``334`` prompts (AUTH LOGIN user and password)."""
    lines = text.split("\n")
    for i in range(1, len(lines)):
        lone = _LONE_TOKEN.match(lines[i])
        if lone and _PROMPT_334.match(lines[i - 1]):
            lines[i] = lone.group(1) + MASK
    return "\n".join(lines)


def redact_credentials(text: str) -> Redacted:
    """``text`` with every credential-looking part replaced by ``[redacted]``."""
    out = _AUTH_LINE.sub(rf"\1 {MASK}", text)
    out = _FIELD.sub(lambda m: m.group(1) + MASK, out)
    out = _SAID.sub(lambda m: m.group(1) + MASK, out)
    out = _BASE64.sub(lambda m: MASK if _decodes_to_credentials(m.group(0)) else m.group(0), out)
    out = _after_prompts(out)
    return Redacted(out, out != text)
