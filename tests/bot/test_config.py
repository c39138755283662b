"""Settings.from_env: defaults, parsing, and one clear error per bad value."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
import trustme

from bot.config import DEFAULT_PORTS, DEFAULT_SLACK_API_URL, Settings
from bot.errors import ConfigError


def test_defaults_from_an_empty_environment() -> None:
    """An empty environment gives the documented defaults and no credentials."""
    settings = Settings.from_env({})
    assert settings.port == 3000
    assert settings.log_level == "INFO"
    assert settings.allowed_ports == DEFAULT_PORTS
    assert settings.slack_api_url == DEFAULT_SLACK_API_URL
    assert settings.redis_url is None
    assert settings.slack_bot_token is None


def test_every_variable_is_parsed() -> None:
    """Each documented variable lands in its typed field."""
    settings = Settings.from_env(
        {
            "SLACK_BOT_TOKEN": "xoxb-1-abc",
            "SLACK_SIGNING_SECRET": "shh",
            "SLACK_APP_TOKEN": "xapp-1-abc",
            "SLACK_API_URL": "http://127.0.0.1:9999/api",
            "REDIS_URL": "redis://:pw@127.0.0.1:6379/0",
            "PORT": "8080",
            "LOG_LEVEL": "debug",
            "SMTPCHECK_ALLOW_NETWORKS": "10.0.0.0/8, fd00::/8",
            "SMTPCHECK_ALLOWED_PORTS": "587,465",
            "SMTPCHECK_DNS_SERVERS": "127.0.0.1:5353,::1,[::1]:53",
            "SMTPCHECK_ADMINS": "U123,U456",
            "SMTPCHECK_TRIAGE_CHANNELS": "C1234",
            "SMTPCHECK_HELPDESK_CHANNEL": "C999",
        }
    )
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.reveal() == "xoxb-1-abc"
    assert settings.slack_api_url == "http://127.0.0.1:9999/api/"
    assert settings.port == 8080
    assert settings.log_level == "DEBUG"
    assert settings.allow_networks == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("fd00::/8"),
    )
    assert settings.allowed_ports == frozenset({587, 465})
    assert settings.dns_servers == (("127.0.0.1", 5353), ("::1", 53), ("::1", 53))
    assert settings.admins == frozenset({"U123", "U456"})
    assert settings.helpdesk_channel == "C999"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PORT", "eighty"),
        ("PORT", "70000"),
        ("LOG_LEVEL", "LOUD"),
        ("SLACK_BOT_TOKEN", "xapp-wrong-kind"),
        ("SLACK_APP_TOKEN", "xoxb-wrong-kind"),
        ("SLACK_API_URL", "ftp://example.com"),
        ("REDIS_URL", "localhost:6379"),
        ("SMTPCHECK_ALLOW_NETWORKS", "10.0.0.0/33"),
        ("SMTPCHECK_ALLOWED_PORTS", "587,abc"),
        ("SMTPCHECK_ALLOWED_PORTS", "0"),
        ("SMTPCHECK_DNS_SERVERS", "dns.google"),
        ("SMTPCHECK_DNS_SERVERS", "127.0.0.1:99999"),
        ("SMTPCHECK_CA_FILE", "/nonexistent/ca.pem"),
        ("SMTPCHECK_CA_FILE", "/nonexistent/ca\n.pem"),  # the message stays one line
        ("SMTPCHECK_ADMINS", "not an id"),
        ("SMTPCHECK_HELPDESK_CHANNEL", "#helpdesk"),
    ],
)
def test_a_bad_value_names_its_variable(name: str, value: str) -> None:
    """A malformed value raises ConfigError whose message starts with the variable name."""
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({name: value})
    assert caught.value.name == name
    assert str(caught.value).startswith(f"{name}: ")
    assert "\n" not in str(caught.value)


def test_ca_file_must_hold_a_pem_certificate(tmp_path: Path) -> None:
    """A CA file that holds no PEM certificate, or a broken one, is refused; a real one is taken."""
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate")
    with pytest.raises(ConfigError, match="no PEM certificate"):
        Settings.from_env({"SMTPCHECK_CA_FILE": str(junk)})
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    with pytest.raises(ConfigError, match="not a valid PEM certificate bundle"):
        Settings.from_env({"SMTPCHECK_CA_FILE": str(broken)})
    pem = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(pem))
    assert Settings.from_env({"SMTPCHECK_CA_FILE": str(pem)}).ca_file == pem


def test_token_errors_do_not_echo_the_token() -> None:
    """A rejected token is not repeated in the error text."""
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"SLACK_BOT_TOKEN": "canary-token-value"})
    assert "canary-token-value" not in str(caught.value)


def test_settings_repr_hides_secrets() -> None:
    """The settings object can be printed without revealing tokens or the Redis password."""
    settings = Settings.from_env(
        {"SLACK_BOT_TOKEN": "xoxb-canary", "REDIS_URL": "redis://:canarypw@h:1/0"}
    )
    assert "xoxb-canary" not in repr(settings)
    assert "canarypw" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "name", "reason"),
    [
        ({"SMTPCHECK_ESCALATION_WEBHOOK": "ftp://x"}, "SMTPCHECK_ESCALATION_WEBHOOK", "http(s)"),
        (
            {"SMTPCHECK_ESCALATION_WEBHOOK": "https://tickets.example/hook"},
            "SMTPCHECK_ESCALATION_WEBHOOK_SECRET",
            "must be set",
        ),
        (
            {"SMTPCHECK_ESCALATION_WEBHOOK_SECRET": "s" * 20},
            "SMTPCHECK_ESCALATION_WEBHOOK_SECRET",
            "is set but",
        ),
    ],
)
def test_escalation_webhook_needs_a_url_and_a_secret(
    env: dict[str, str], name: str, reason: str
) -> None:
    """The webhook and its signing secret come together; a bad one names itself."""
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(env)
    assert raised.value.name == name and reason in raised.value.reason


def test_escalation_webhook_settings_are_secrets() -> None:
    """The URL (it may carry a token) and the secret never show in a repr."""
    settings = Settings.from_env(
        {
            "SMTPCHECK_ESCALATION_WEBHOOK": "https://tickets.example/hook?token=t0k3n",
            "SMTPCHECK_ESCALATION_WEBHOOK_SECRET": "a-long-signing-secret",
        }
    )
    assert settings.escalation_webhook is not None
    assert "t0k3n" not in repr(settings) and "a-long-signing-secret" not in repr(settings)
