"""build_request: every input is validated before any network I/O, with plain reasons."""

from __future__ import annotations

from typing import Any

import pytest

from bot.errors import InputError
from bot.probe.model import Mechanism, ProbeRequest, Security
from bot.probe.request import build_request, is_numeric_name, normalise_host, parse_ip_literal
from bot.secret import Secret

PORTS = frozenset({25, 465, 587, 2525})
CANARY = "canary-Pw-7f3a9c"


def build(**overrides: Any) -> ProbeRequest:
    arguments: dict[str, Any] = {"host": "smtp.example.com", "port": None, "allowed_ports": PORTS}
    arguments.update(overrides)
    return build_request(**arguments)


def rejection(**overrides: Any) -> InputError:
    with pytest.raises(InputError) as caught:
        build(**overrides)
    return caught.value


# --- host ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("smtp.example.com", "smtp.example.com"),
        ("SMTP.Example.COM", "smtp.example.com"),
        ("  smtp.example.com\t", "smtp.example.com"),
        ("smtp.example.com.", "smtp.example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("BÜCHER.example", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("faß.de", "xn--fa-hia.de"),  # UTS-46 non-transitional: ß is kept, not mapped to ss
        ("smtp\u3002example\u3002com", "smtp.example.com"),  # ideographic full stop
        ("r3---sn-4g5e.example.com", "r3---sn-4g5e.example.com"),  # valid DNS, not IDNA 2008
        ("mail1.example.com", "mail1.example.com"),
        ("8.8.8.8", "8.8.8.8"),
        ("2606:4700::1111", "2606:4700::1111"),
        ("[2606:4700::1111]", "2606:4700::1111"),
        ("2606:4700:0:0:0:0:0:1111", "2606:4700::1111"),
        ("127.0.0.1", "127.0.0.1"),  # a well-formed literal; the egress policy decides
        ("[::1]", "::1"),
    ],
)
def test_accepted_hosts_are_normalised(host: str, expected: str) -> None:
    """Names become lower-case punycode without a trailing dot; IP literals canonical."""
    assert build(host=host).host == expected


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("smtp.exa\x00mple.com", "NUL"),
        ("smtp.example.com\r\nRCPT TO:<x>", "line break"),
        ("smtp.example.com\nx", "line break"),
        ("smtp.example .com", "space"),
        ("smtp\texample.com", "space"),
        ("smtp\u00a0example.com", "space"),  # no-break space
        ("smtp\x07example.com", "control character"),
        ("smtp://smtp.example.com", "URL"),
        ("http://smtp.example.com/", "URL"),
        ("SMTPS://smtp.example.com", "URL"),
        ("user@smtp.example.com", "'@'"),
        ("alice@example.com", "username field"),
        ("alice\uff20example.com", "'@'"),  # full-width commercial at
        ("smtp.example.com/path", "slash"),
        ("smtp.example.com\\x", "slash"),
        ("smtp.example.com:587", "port field"),
        ("smtp.example.com\uff1a587", "port field"),  # full-width colon
        ("8.8.8.8:25", "port field"),
        ("[2606:4700::1111]:587", "port field"),
        ("localhost", "single word"),
        ("intranet.", "single word"),
        ("a" * 64 + ".example.com", "longer than 63"),
        (".".join(["a" * 60] * 5), "too long"),
        ("x" * 2000, "too long"),
        ("smtp..example.com", "empty part"),
        (".example.com", "empty part"),
        ("-smtp.example.com", "characters a server name cannot have"),
        ("smtp-.example.com", "characters a server name cannot have"),
        ("smtp_relay.example.com", "characters a server name cannot have"),
        ("smtp.exa*mple.com", "characters a server name cannot have"),
        ("xn--zz.example", "international domain name"),
        ("\u200b.example.com", "empty part"),  # UTS-46 drops the zero-width space
        ("256.1.1.1", "not a valid IPv4"),
        ("127.000.000.001", "not a valid IPv4"),
        ("010.0.0.1", "not a valid IPv4"),
        ("2606:4700::zzzz", "not a valid IPv6"),
        ("[smtp.example.com]", "'[' or ']'"),
        ("[8.8.8.8]", "'[' or ']'"),
        ("2606:4700::1111]", "'[' or ']'"),
        ("fe80::1%eth0", "zone index"),
        ("[fe80::1%25eth0]", "zone index"),
    ],
)
def test_rejected_hosts_name_the_field_and_reason(host: str, reason: str) -> None:
    """Each malformed host is refused with field 'host' and a reason in plain words."""
    error = rejection(host=host)
    assert error.field == "host"
    assert reason in error.reason


@pytest.mark.parametrize(
    "host",
    [
        "2130706433",  # 127.0.0.1 as one decimal number
        "0x7f.1",
        "0x7f000001",
        "127.1",
        "127.0.1",
        "0",
        "017700000001",  # octal
        "0x7f.0x0.0x0.0x1",
        "1.2.3.4.",  # trailing dot turns a literal into a "name"
        "example.0x1",
        "\uff11\uff12\uff17\u3002\uff10\u3002\uff10\u3002\uff11",  # full-width 127.0.0.1
    ],
)
def test_numeric_tricks_are_not_hostnames(host: str) -> None:
    """Numeric spellings getaddrinfo would read as addresses are refused as hostnames."""
    error = rejection(host=host)
    assert error.field == "host"
    assert "number" in error.reason


def test_host_that_is_not_text_is_refused() -> None:
    """A non-string host is an input error, not a crash."""
    assert rejection(host=None).field == "host"


def test_helpers_recognise_literals_and_numbers() -> None:
    """The shared helpers parse canonical literals only and spot numeric names."""
    assert str(parse_ip_literal("[::1]")) == "::1"
    assert parse_ip_literal("127.1") is None
    assert parse_ip_literal("2130706433") is None
    assert parse_ip_literal("fe80::1%eth0") is None
    assert is_numeric_name("0x7f.1") and is_numeric_name("2130706433.")
    assert not is_numeric_name("smtp.example.com")
    assert normalise_host(" Bücher.Example. ") == "xn--bcher-kva.example"


# --- port ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("port", "security", "expected"),
    [
        (None, "auto", 587),
        (None, "starttls", 587),
        (None, "tls", 465),
        (None, "TLS", 465),
        (None, "none", 587),
        ("465", "auto", 465),
        (2525, "auto", 2525),
        ("25", "auto", 25),
    ],
)
def test_port_defaults_and_values(port: str | int | None, security: str, expected: int) -> None:
    """No port means 587, or 465 for implicit TLS; digits and ints are accepted."""
    assert build(port=port, security=security).port == expected


@pytest.mark.parametrize(
    ("port", "reason"),
    [
        ("\uff15\uff18\uff17", "digits 0-9"),  # full-width 587
        ("\u0665\u0668\u0667", "digits 0-9"),  # Arabic-Indic 587
        (" 587", "digits 0-9"),
        ("587 ", "digits 0-9"),
        ("+587", "digits 0-9"),
        ("-1", "digits 0-9"),
        ("0x24b", "digits 0-9"),
        ("5_87", "digits 0-9"),
        ("", "digits 0-9"),
        ("0", "between 1 and 65535"),
        ("65536", "between 1 and 65535"),
        ("9" * 50, "between 1 and 65535"),
        (0, "between 1 and 65535"),
        (70000, "between 1 and 65535"),
        (-25, "between 1 and 65535"),
        (True, "whole number"),
        (587.0, "whole number"),
        ("8080", "allowed ports: 25, 465, 587, 2525"),
        (22, "22 is not allowed here"),
    ],
)
def test_rejected_ports(port: object, reason: str) -> None:
    """Ports must be ASCII digits or an int, in range, and in the allowed set."""
    error = rejection(port=port)
    assert error.field == "port"
    assert reason in error.reason


def test_default_port_outside_the_allowed_set_is_refused() -> None:
    """When 587 is not allowed, omitting the port says so instead of probing it."""
    error = rejection(port=None, allowed_ports=frozenset({25}))
    assert error.field == "port"
    assert "default port 587" in error.reason
    assert "allowed ports: 25" in error.reason


# --- security and mechanism ---------------------------------------------------------


def test_enum_fields_are_case_insensitive() -> None:
    """Choices are matched case-insensitively and become the model's enums."""
    request = build(security="STARTTLS", mechanism="CRAM-MD5", username="u", password="p")
    assert request.security is Security.STARTTLS
    assert request.mechanism is Mechanism.CRAM_MD5


@pytest.mark.parametrize(
    ("field", "value", "choices"),
    [
        ("security", "ssl", "auto, starttls, tls or none"),
        ("security", "", "auto, starttls, tls or none"),
        ("security", " tls", "auto, starttls, tls or none"),
        ("mechanism", "gssapi", "auto, plain, login, cram-md5 or xoauth2"),
        ("mechanism", None, "auto, plain, login, cram-md5 or xoauth2"),
    ],
)
def test_unknown_choices_list_the_valid_ones(field: str, value: object, choices: str) -> None:
    """An unknown security or mechanism names the field and lists every choice."""
    error = rejection(**{field: value})
    assert error.field == field
    assert choices in error.reason


# --- credentials --------------------------------------------------------------------


def test_credentials_are_kept_and_the_password_wrapped() -> None:
    """A str password becomes a Secret; the username is trimmed of surrounding spaces."""
    request = build(username=" alice@example.com ", password=CANARY)
    assert request.username == "alice@example.com"
    assert isinstance(request.password, Secret)
    assert request.password.reveal() == CANARY
    assert request.has_credentials


def test_secret_password_is_accepted() -> None:
    """A password that is already a Secret is used as is."""
    secret = Secret(CANARY)
    assert build(username="alice", password=secret).password is secret


def test_no_credentials_is_a_capability_check() -> None:
    """Neither username nor password (or empty ones) means no credentials at all."""
    for user, password in [(None, None), ("", ""), ("  ", None), (None, Secret(""))]:
        request = build(username=user, password=password)
        assert request.username is None and request.password is None
        assert not request.has_credentials


def test_xoauth2_token_may_be_longer_than_a_password() -> None:
    """With xoauth2 the password is the access token, which may exceed 4 KiB."""
    token = "t" * 6000
    request = build(username="alice", password=token, mechanism="xoauth2")
    assert request.password is not None and request.password.reveal() == token


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        ({"username": "alice"}, "password", "without a password"),
        ({"password": CANARY}, "username", "without a username"),
        ({"mechanism": "plain"}, "mechanism", "plain needs a username and password"),
        ({"mechanism": "xoauth2"}, "mechanism", "xoauth2 needs a username"),
        ({"username": "al\rice", "password": "p"}, "username", "line break"),
        ({"username": "al\nice", "password": "p"}, "username", "line break"),
        ({"username": "al\x00ice", "password": "p"}, "username", "NUL"),
        ({"username": "a" * 321, "password": "p"}, "username", "at most 320"),
        ({"username": 42, "password": "p"}, "username", "must be text"),
        ({"username": "alice", "password": CANARY + "\r\n"}, "password", "line break"),
        ({"username": "alice", "password": "\n" + CANARY}, "password", "line break"),
        ({"username": "alice", "password": CANARY + "\x00"}, "password", "NUL"),
        ({"username": "alice", "password": Secret(CANARY + "\r")}, "password", "line break"),
        ({"username": "alice", "password": "p" * 4097}, "password", "at most 4096"),
        ({"username": "alice", "password": 1234}, "password", "must be text"),
    ],
)
def test_rejected_credentials(overrides: dict[str, Any], field: str, reason: str) -> None:
    """Credentials come both or neither, without CR/LF/NUL, within length bounds."""
    error = rejection(**overrides)
    assert error.field == field
    assert reason in error.reason


@pytest.mark.parametrize(
    "overrides",
    [
        {"password": CANARY},
        {"username": "alice", "password": CANARY + "\r\nAUTH"},
        {"username": "alice", "password": CANARY + "\x00"},
        {"username": "alice", "password": CANARY * 300},
        {"username": "alice\n", "password": CANARY},
        {"host": "bad host", "username": "alice", "password": CANARY},
        {"port": "x", "username": "alice", "password": CANARY},
        {"security": "bad", "username": "alice", "password": Secret(CANARY)},
        {"mechanism": "plain", "password": CANARY},
    ],
)
def test_canary_password_never_appears_in_errors(overrides: dict[str, Any]) -> None:
    """No rejection shows the password in its text, args, repr or chained exceptions."""
    error = rejection(**overrides)
    shown = [str(error), repr(error), repr(error.args), error.reason, error.field]
    shown += [repr(error.__cause__), repr(error.__context__)]
    assert not any(CANARY in text for text in shown)


def test_canary_password_never_appears_in_the_request_repr() -> None:
    """The built request's repr and str keep the password out."""
    request = build(username="alice", password=CANARY)
    assert CANARY not in repr(request)
    assert CANARY not in str(request)
    assert CANARY not in f"{request.password}"


def test_plaintext_security_with_credentials_is_an_explicit_choice() -> None:
    """security=none with credentials is allowed: the caller chose it (the engine warns)."""
    request = build(security="none", username="alice", password="p", port="25")
    assert request.effective_security is Security.NONE
