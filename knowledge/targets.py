"""What discovery is asked about: an email address or a bare domain, checked and normalised."""

from __future__ import annotations

import re
import unicodedata
from typing import Final

import idna

from bot.errors import InputError

__all__ = ["MAX_INPUT", "parse_target"]

MAX_INPUT: Final = 320
_LABEL: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_LOCAL_FORBIDDEN: Final = re.compile(r"[\s\x00-\x1f\x7f<>()\[\],;:\\\"]")


def parse_target(value: str) -> tuple[str, str]:
    """``(local part or "", domain)`` from an email address or a bare domain.

    The domain comes back lower-case ASCII (IDN as punycode, UTS-46).
    Raises ``InputError(field="email")`` for anything else.
    """
    if not isinstance(value, str):
        raise InputError(field="email", reason="must be text, like alice@example.com")
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        raise InputError(field="email", reason="is empty; give an address like alice@example.com")
    if len(text) > MAX_INPUT:
        raise InputError(field="email", reason=f"is longer than {MAX_INPUT} characters")
    if any(ch in text for ch in "\r\n\x00"):
        raise InputError(field="email", reason="contains a line break or NUL character")
    if "://" in text or "/" in text:
        raise InputError(field="email", reason="looks like a URL; give an address or a domain")
    local, at, domain = text.rpartition("@")
    if at and (not local or _LOCAL_FORBIDDEN.search(local) or len(local) > 64):
        raise InputError(field="email", reason="the part before '@' is not a valid mailbox")
    return local, _domain(domain, after_at=bool(at))


def _domain(domain: str, *, after_at: bool) -> str:
    domain = domain.removesuffix(".")
    if not domain:
        raise InputError(field="email", reason="has no domain after '@'")
    if any(ch.isspace() for ch in domain):
        where = "the domain after '@'" if after_at else "it"
        raise InputError(
            field="email",
            reason=f"{where} contains a space; give an address like alice@example.com "
            "or a domain like example.com",
        )
    try:
        if domain.isascii() and "--" not in domain:
            # Plain ASCII without punycode or double hyphens: UTS-46 would only lower-case
            # it, and its mapping table costs a one-shot CLI process ~40 ms to load.
            ascii_domain = domain.lower()
        else:
            ascii_domain = idna.encode(domain, uts46=True).decode("ascii").lower()
    except (idna.IDNAError, UnicodeError):
        raise InputError(field="email", reason=f"{domain!r} is not a valid domain name") from None
    labels = ascii_domain.split(".")
    if len(ascii_domain) > 253 or len(labels) < 2:
        raise InputError(
            field="email", reason=f"{domain!r} is not a full domain name, like example.com"
        )
    if not all(_LABEL.fullmatch(label) for label in labels) or labels[-1].isdigit():
        raise InputError(field="email", reason=f"{domain!r} is not a valid domain name")
    return ascii_domain
