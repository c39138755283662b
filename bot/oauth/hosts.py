"""Which identity provider signs in for a submission host (the modal's choices)."""

from __future__ import annotations

from typing import Final

from bot.oauth.settings import Provider

_SUFFIXES: Final = (
    ("office365.com", Provider.MICROSOFT),
    ("outlook.com", Provider.MICROSOFT),
    ("microsoft.com", Provider.MICROSOFT),
    ("gmail.com", Provider.GOOGLE),
    ("googlemail.com", Provider.GOOGLE),
    ("google.com", Provider.GOOGLE),
)

MICROSOFT_SMTP_HOST: Final = "smtp.office365.com"


def provider_for_host(host: str | None) -> Provider | None:
    """Microsoft for smtp.office365.com, smtp-mail.outlook.com...; Google for smtp.gmail.com."""
    name = (host or "").strip().lower().rstrip(".")
    for suffix, provider in _SUFFIXES:
        if name == suffix or name.endswith("." + suffix):
            return provider
    return None
