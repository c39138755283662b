"""Settings from the environment, validated once at start-up into a frozen object.

``Settings.from_env(os.environ)`` is called at the entry points only; everything
else receives the object. A bad value raises ``ConfigError`` naming the variable,
which the entry points print as one line before exiting.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from bot.errors import ConfigError
from bot.oauth.settings import OAuthSettings
from bot.secret import Secret

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_PORTS: Final = frozenset({25, 465, 587, 2525})
DEFAULT_SLACK_API_URL: Final = "https://slack.com/api/"
LOG_LEVELS: Final = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
_SLACK_ID: Final = re.compile(r"[A-Z0-9]{2,20}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Everything the process is configured with."""

    slack_bot_token: Secret | None = None
    slack_signing_secret: Secret | None = None
    slack_app_token: Secret | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    redis_url: Secret | None = None
    port: int = 3000
    log_level: str = "INFO"
    allow_networks: tuple[IPNetwork, ...] = ()
    allowed_ports: frozenset[int] = DEFAULT_PORTS
    dns_servers: tuple[tuple[str, int], ...] = ()
    ca_file: Path | None = None
    admins: frozenset[str] = field(default_factory=frozenset)
    triage_channels: frozenset[str] = field(default_factory=frozenset)
    helpdesk_channel: str | None = None
    oauth: OAuthSettings = field(default_factory=OAuthSettings)
    metrics_token: Secret | None = None
    escalation_webhook: Secret | None = None  # a ticketing URL may carry a token
    escalation_webhook_secret: Secret | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Read and validate every variable; raise ``ConfigError`` on the first bad one."""

        def get(name: str) -> str | None:
            value = environ.get(name, "").strip()
            return value or None

        return cls(
            slack_bot_token=_token(get("SLACK_BOT_TOKEN"), "SLACK_BOT_TOKEN", "xoxb-"),
            slack_signing_secret=_opt_secret(get("SLACK_SIGNING_SECRET")),
            slack_app_token=_token(get("SLACK_APP_TOKEN"), "SLACK_APP_TOKEN", "xapp-"),
            slack_api_url=_api_url(get("SLACK_API_URL")),
            redis_url=_redis_url(get("REDIS_URL")),
            port=_port(get("PORT")),
            log_level=_log_level(get("LOG_LEVEL")),
            allow_networks=_networks(get("SMTPCHECK_ALLOW_NETWORKS")),
            allowed_ports=_ports(get("SMTPCHECK_ALLOWED_PORTS")),
            dns_servers=_dns_servers(get("SMTPCHECK_DNS_SERVERS")),
            ca_file=_ca_file(get("SMTPCHECK_CA_FILE")),
            admins=_slack_ids(get("SMTPCHECK_ADMINS"), "SMTPCHECK_ADMINS"),
            triage_channels=_slack_ids(
                get("SMTPCHECK_TRIAGE_CHANNELS"), "SMTPCHECK_TRIAGE_CHANNELS"
            ),
            helpdesk_channel=_one_slack_id(get("SMTPCHECK_HELPDESK_CHANNEL")),
            oauth=OAuthSettings.from_env(get),
            metrics_token=_metrics_token(get("SMTPCHECK_METRICS_TOKEN")),
            **_webhook(
                get("SMTPCHECK_ESCALATION_WEBHOOK"), get("SMTPCHECK_ESCALATION_WEBHOOK_SECRET")
            ),
        )


def _webhook(url: str | None, secret: str | None) -> dict[str, Secret | None]:
    """The escalation webhook and its signing secret: both or neither."""
    if url is None:
        if secret is not None:
            raise ConfigError(
                name="SMTPCHECK_ESCALATION_WEBHOOK_SECRET",
                reason="is set but SMTPCHECK_ESCALATION_WEBHOOK is not",
            )
        return {}
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", url):
        raise ConfigError(name="SMTPCHECK_ESCALATION_WEBHOOK", reason="must be an http(s) URL")
    if secret is None or len(secret) < 16:
        raise ConfigError(
            name="SMTPCHECK_ESCALATION_WEBHOOK_SECRET",
            reason="must be set (at least 16 characters) to sign the webhook's body",
        )
    return {"escalation_webhook": Secret(url), "escalation_webhook_secret": Secret(secret)}


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _opt_secret(value: str | None) -> Secret | None:
    return Secret(value) if value else None


def _token(value: str | None, name: str, prefix: str) -> Secret | None:
    if value is None:
        return None
    if not value.startswith(prefix) or any(c.isspace() for c in value):
        raise ConfigError(name=name, reason=f"must be a Slack token starting with {prefix!r}")
    return Secret(value)


def _api_url(value: str | None) -> str:
    if value is None:
        return DEFAULT_SLACK_API_URL
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
        raise ConfigError(name="SLACK_API_URL", reason="must be an http(s) URL")
    return value if value.endswith("/") else value + "/"


def _redis_url(value: str | None) -> Secret | None:
    if value is None:
        return None
    if not re.fullmatch(r"(redis|rediss|unix)://\S+", value):
        raise ConfigError(name="REDIS_URL", reason="must start with redis://, rediss:// or unix://")
    return Secret(value)  # may carry a password


def _port(value: str | None) -> int:
    if value is None:
        return 3000
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= 65535:
        raise ConfigError(name="PORT", reason=f"{value!r} is not a port number (1-65535)")
    return int(value)


def _log_level(value: str | None) -> str:
    level = (value or "INFO").upper()
    if level not in LOG_LEVELS:
        raise ConfigError(name="LOG_LEVEL", reason=f"must be one of {', '.join(LOG_LEVELS)}")
    return level


def _networks(value: str | None) -> tuple[IPNetwork, ...]:
    networks = []
    for part in _split(value or ""):
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ConfigError(
                name="SMTPCHECK_ALLOW_NETWORKS", reason=f"{part!r} is not a CIDR network"
            ) from None
    return tuple(networks)


def _ports(value: str | None) -> frozenset[int]:
    if value is None:
        return DEFAULT_PORTS
    ports = set()
    for part in _split(value):
        if not (part.isascii() and part.isdigit()) or not 1 <= int(part) <= 65535:
            raise ConfigError(
                name="SMTPCHECK_ALLOWED_PORTS", reason=f"{part!r} is not a port number"
            )
        ports.add(int(part))
    if not ports:
        raise ConfigError(name="SMTPCHECK_ALLOWED_PORTS", reason="lists no port")
    return frozenset(ports)


def _dns_servers(value: str | None) -> tuple[tuple[str, int], ...]:
    servers = []
    for part in _split(value or ""):
        host, port = part, 53
        if part.startswith("["):  # [v6]:port
            host, _, rest = part[1:].partition("]")
            if rest:
                if not rest.startswith(":"):
                    raise ConfigError(name="SMTPCHECK_DNS_SERVERS", reason=f"{part!r} is malformed")
                port = _dns_port(rest[1:], part)
        elif part.count(":") == 1:
            host, port_text = part.split(":")
            port = _dns_port(port_text, part)
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise ConfigError(
                name="SMTPCHECK_DNS_SERVERS", reason=f"{part!r} is not an IP or IP:port"
            ) from None
        servers.append((host, port))
    return tuple(servers)


def _dns_port(text: str, part: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 65535:
        raise ConfigError(name="SMTPCHECK_DNS_SERVERS", reason=f"{part!r} has a bad port")
    return int(text)


def _ca_file(value: str | None) -> Path | None:
    if value is None:
        return None
    from bot.probe.tls import ca_file_problem, shown_path  # ssl: only when a CA file is set

    path, shown = Path(value), shown_path(value)
    if not path.is_file():
        raise ConfigError(name="SMTPCHECK_CA_FILE", reason=f"{shown} is not a readable file")
    problem = ca_file_problem(path)
    if problem is not None:
        raise ConfigError(name="SMTPCHECK_CA_FILE", reason=f"{shown} {problem}")
    return path


def _metrics_token(value: str | None) -> Secret | None:
    if value is None:
        return None
    if len(value) < 16 or any(c.isspace() for c in value):
        raise ConfigError(
            name="SMTPCHECK_METRICS_TOKEN", reason="must be at least 16 characters, no spaces"
        )
    return Secret(value)


def _slack_ids(value: str | None, name: str) -> frozenset[str]:
    ids = _split(value or "")
    for item in ids:
        if not _SLACK_ID.fullmatch(item):
            raise ConfigError(name=name, reason=f"{item!r} is not a Slack ID")
    return frozenset(ids)


def _one_slack_id(value: str | None) -> str | None:
    if value is None:
        return None
    if not _SLACK_ID.fullmatch(value):
        raise ConfigError(
            name="SMTPCHECK_HELPDESK_CHANNEL", reason=f"{value!r} is not a Slack channel ID"
        )
    return value
