"""The OAuth client registrations and identity-provider URLs, from the environment.

Production identity-provider URLs must be https. Only code (the tests) that
builds ``OAuthSettings`` itself can set ``insecure_loopback`` and point them at
an http server on 127.0.0.0/8: no environment variable turns that on.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final
from urllib.parse import urlsplit

from bot.errors import ConfigError
from bot.secret import Secret

DEFAULT_MS_AUTHORITY: Final = "https://login.microsoftonline.com"
DEFAULT_MS_TENANT: Final = "organizations"
DEFAULT_GOOGLE_AUTH_URL: Final = "https://accounts.google.com/o/oauth2/v2/auth"
DEFAULT_GOOGLE_TOKEN_URL: Final = "https://oauth2.googleapis.com/token"  # noqa: S105 (a URL)
GOOGLE_CALLBACK_PATH: Final = "/oauth/google/callback"


class Provider(StrEnum):
    """An identity provider the bot can sign in with."""

    MICROSOFT = "microsoft"
    GOOGLE = "google"


@dataclass(frozen=True, slots=True, kw_only=True)
class OAuthSettings:
    """Client registrations; a provider is usable only when its client is configured."""

    ms_client_id: str | None = None
    ms_tenant: str = DEFAULT_MS_TENANT
    ms_authority: str = DEFAULT_MS_AUTHORITY
    google_client_id: str | None = None
    google_client_secret: Secret | None = None
    google_auth_url: str = DEFAULT_GOOGLE_AUTH_URL
    google_token_url: str = DEFAULT_GOOGLE_TOKEN_URL
    public_url: str | None = None
    insecure_loopback: bool = False  # tests only: http://127.x identity providers

    def __post_init__(self) -> None:
        for name, url in (
            ("SMTPCHECK_MS_AUTHORITY", self.ms_authority),
            ("SMTPCHECK_GOOGLE_AUTH_URL", self.google_auth_url),
            ("SMTPCHECK_GOOGLE_TOKEN_URL", self.google_token_url),
        ):
            _check_url(name, url, insecure_loopback=self.insecure_loopback)
        if self.public_url is not None:
            _check_url(
                "SMTPCHECK_PUBLIC_URL", self.public_url, insecure_loopback=self.insecure_loopback
            )

    @classmethod
    def from_env(cls, get: Callable[[str], str | None]) -> OAuthSettings:
        """Read the ``SMTPCHECK_MS_*``, ``SMTPCHECK_GOOGLE_*`` and public URL variables."""
        tenant = get("SMTPCHECK_MS_TENANT") or DEFAULT_MS_TENANT
        if not tenant.replace("-", "").replace(".", "").isalnum():
            raise ConfigError(name="SMTPCHECK_MS_TENANT", reason="must be a tenant id or domain")
        google_id, google_secret = (
            get("SMTPCHECK_GOOGLE_CLIENT_ID"),
            get("SMTPCHECK_GOOGLE_CLIENT_SECRET"),
        )
        if (google_id is None) != (google_secret is None):
            raise ConfigError(
                name="SMTPCHECK_GOOGLE_CLIENT_SECRET",
                reason="SMTPCHECK_GOOGLE_CLIENT_ID and SMTPCHECK_GOOGLE_CLIENT_SECRET go together",
            )
        public = get("SMTPCHECK_PUBLIC_URL")
        return cls(
            ms_client_id=get("SMTPCHECK_MS_CLIENT_ID"),
            ms_tenant=tenant,
            ms_authority=(get("SMTPCHECK_MS_AUTHORITY") or DEFAULT_MS_AUTHORITY).rstrip("/"),
            google_client_id=google_id,
            google_client_secret=Secret(google_secret) if google_secret else None,
            google_auth_url=get("SMTPCHECK_GOOGLE_AUTH_URL") or DEFAULT_GOOGLE_AUTH_URL,
            google_token_url=get("SMTPCHECK_GOOGLE_TOKEN_URL") or DEFAULT_GOOGLE_TOKEN_URL,
            public_url=public.rstrip("/") if public else None,
        )

    @property
    def microsoft(self) -> bool:
        """Device-code sign-in with Microsoft is configured."""
        return self.ms_client_id is not None

    @property
    def google(self) -> bool:
        """A Google client is configured (the CLI can use it with a loopback redirect)."""
        return self.google_client_id is not None and self.google_client_secret is not None

    @property
    def google_in_slack(self) -> bool:
        """Google sign-in from Slack: needs the client and the bot's public URL (HTTP mode)."""
        return self.google and self.public_url is not None

    @property
    def google_redirect_uri(self) -> str:
        assert self.public_url is not None
        return self.public_url + GOOGLE_CALLBACK_PATH

    def ms_endpoint(self, name: str) -> str:
        """``devicecode`` or ``token`` under the configured authority and tenant."""
        return f"{self.ms_authority.rstrip('/')}/{self.ms_tenant}/oauth2/v2.0/{name}"


def _check_url(name: str, url: str, *, insecure_loopback: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and insecure_loopback and _is_loopback(parts.hostname):
        return
    raise ConfigError(name=name, reason="must be an https:// URL")


def _is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
