"""Turn raw probe input (CLI arguments, a Slack modal) into a validated ``ProbeRequest``.

Everything here is pure and runs before any network I/O. Every rejection is an
``InputError`` naming the field and the reason in plain words; a password never
appears in any message (it is wrapped in ``Secret`` before anything else looks
at it).

Hosts are held to a strict shape because the string later reaches DNS and TLS
(SNI, certificate checks): one server name or one IP literal, nothing else.
Numeric spellings such as ``2130706433``, ``0x7f.1`` or ``127.1`` are refused
outright: ``getaddrinfo``/``inet_aton`` would read them as addresses, so they
must never be mistaken for names.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Iterable
from typing import Final, TypeVar

import idna

from bot.errors import InputError

# Re-exported: the probe's modules and callers have always found these here.
from bot.probe.addresses import IPAddress as IPAddress
from bot.probe.addresses import is_numeric_name as is_numeric_name
from bot.probe.addresses import parse_ip_literal as parse_ip_literal
from bot.probe.model import Mechanism, ProbeRequest, Security
from bot.secret import Secret

_Choice = TypeVar("_Choice", Security, Mechanism)

SUBMISSION_PORT: Final = 587
IMPLICIT_TLS_PORT: Final = 465
MAX_HOST_INPUT: Final = 1024  # raw input bound, before any parsing
MAX_NAME: Final = 253  # RFC 1035, without the trailing dot
MAX_LABEL: Final = 63
MAX_USERNAME: Final = 320  # 64 local part + @ + 255 domain (RFC 3696 errata)
MAX_PASSWORD: Final = 4096
# OAuth access tokens (Entra ID JWTs with group claims) can exceed 4 KiB.
MAX_OAUTH_TOKEN: Final = 16384

_SCHEME: Final = re.compile(r"^[a-z][a-z0-9+.-]*:/", re.IGNORECASE)
_HOST_WITH_PORT: Final = re.compile(r"^(?P<host>[^:]+):(?P<port>[0-9]+)$")
_LDH_LABEL: Final = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
_ASCII_DIGITS: Final = frozenset("0123456789")


# User-facing wording for the host field, kept together so it reads consistently.
class HostReason:
    EMPTY: Final = "is empty; give the mail server's name, like smtp.example.com"
    NOT_TEXT: Final = "must be text, like smtp.example.com"
    TOO_LONG: Final = f"is too long (a server name has at most {MAX_NAME} characters)"
    NUL: Final = "contains a NUL character"
    LINE_BREAK: Final = "contains a line break"
    SPACE: Final = "contains a space; give only the server name, like smtp.example.com"
    CONTROL: Final = "contains an invisible control character"
    SCHEME: Final = (
        "looks like a URL; give only the server name, like smtp.example.com, without smtp:// "
        "or http://"
    )
    USER: Final = (
        "contains '@'; give only the server name (like smtp.example.com), "
        "and put the username in the username field"
    )
    PATH: Final = "contains a slash; give only the server name, like smtp.example.com"
    PORT: Final = "includes a port ({port}); put the port in the port field instead"
    BAD_BRACKETS: Final = "has a '[' or ']' that does not enclose an IPv6 address"
    BAD_IPV6: Final = "is not a valid IPv6 address"
    ZONE: Final = "is an IPv6 address with a zone index (%...), which cannot be probed"
    BAD_IPV4: Final = (
        "is not a valid IPv4 address; write it as four numbers from 0 to 255 separated by "
        "dots, without leading zeros"
    )
    NUMERIC: Final = (
        "looks like a number rather than a server name; write an IPv4 address as four "
        "numbers from 0 to 255 separated by dots, or give the server's name"
    )
    EMPTY_LABEL: Final = "has an empty part between dots (like 'smtp..example.com')"
    SINGLE_LABEL: Final = (
        "is a single word without a dot; give the full server name, like smtp.example.com"
    )
    LABEL_TOO_LONG: Final = f"has a part longer than {MAX_LABEL} characters between dots"
    BAD_CHARACTER: Final = (
        "contains characters a server name cannot have (only letters, digits, hyphens "
        "and dots; a part cannot start or end with a hyphen)"
    )
    BAD_IDN: Final = "is not a valid international domain name ({detail})"


def build_request(
    *,
    host: str,
    port: str | int | None,
    security: str = "auto",
    mechanism: str = "auto",
    username: str | None = None,
    password: str | Secret | None = None,
    allowed_ports: frozenset[int],
) -> ProbeRequest:
    """Validate raw input and return a ``ProbeRequest``; raise ``InputError`` on any problem.

    Credentials come both or neither: with neither, the probe stops after the
    capabilities. For ``xoauth2`` the password is the OAuth access token.
    """
    # Wrap first, so the raw value is known to the log scrubber even if rejected.
    secret = _wrap_password(password)
    chosen_security = _choice("security", security, Security)
    chosen_mechanism = _choice("mechanism", mechanism, Mechanism)
    normalised_host = normalise_host(host)
    chosen_port = _port(port, chosen_security, allowed_ports)
    user = _username(username)
    _check_password(secret, oauth=chosen_mechanism is Mechanism.XOAUTH2)
    _check_combination(user, secret, chosen_mechanism)
    return ProbeRequest(
        host=normalised_host,
        port=chosen_port,
        security=chosen_security,
        mechanism=chosen_mechanism,
        username=user,
        password=secret,
    )


def normalise_host(raw: object) -> str:
    """Return a lower-case punycode hostname or a canonical IP literal, or raise ``InputError``.

    IPv6 literals are returned without brackets, in compressed form.
    """
    if not isinstance(raw, str):
        raise InputError(field="host", reason=HostReason.NOT_TEXT)
    if len(raw) > MAX_HOST_INPUT:
        raise InputError(field="host", reason=HostReason.TOO_LONG)
    text = raw.strip()
    _check_characters(text)
    literal = _ip_literal(text)
    if literal is not None:
        return str(literal)
    return _hostname(text)


def _check_characters(text: str) -> None:
    if not text:
        raise InputError(field="host", reason=HostReason.EMPTY)
    if "\x00" in text:
        raise InputError(field="host", reason=HostReason.NUL)
    if "\r" in text or "\n" in text:
        raise InputError(field="host", reason=HostReason.LINE_BREAK)
    if any(ch.isspace() for ch in text):
        raise InputError(field="host", reason=HostReason.SPACE)
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise InputError(field="host", reason=HostReason.CONTROL)


def _ip_literal(text: str) -> IPAddress | None:
    """Recognise IP literals on the typed text (never on a normalised form)."""
    if text.startswith("[") or text.endswith("]"):
        if text.startswith("[") and "]:" in text:
            raise InputError(
                field="host", reason=HostReason.PORT.format(port=text.rsplit(":", 1)[1])
            )
        if not (text.startswith("[") and text.endswith("]")):
            raise InputError(field="host", reason=HostReason.BAD_BRACKETS)
        if "%" in text:
            raise InputError(field="host", reason=HostReason.ZONE)
        address = parse_ip_literal(text)
        if not isinstance(address, ipaddress.IPv6Address):
            raise InputError(field="host", reason=HostReason.BAD_BRACKETS)
        return address
    if text.count(":") >= 2:
        if "%" in text:
            raise InputError(field="host", reason=HostReason.ZONE)
        address = parse_ip_literal(text)
        if address is None:
            raise InputError(field="host", reason=HostReason.BAD_IPV6)
        return address
    labels = text.split(".")
    if len(labels) == 4 and all(label.isascii() and label.isdigit() for label in labels):
        address = parse_ip_literal(text)
        if address is None:  # 256.1.1.1, 127.000.0.1, 010.0.0.1
            raise InputError(field="host", reason=HostReason.BAD_IPV4)
        return address
    return None


def _hostname(text: str) -> str:
    try:
        # UTS-46 mapping (non-transitional): case folding, full-width forms to ASCII.
        mapped = idna.uts46_remap(text, std3_rules=False, transitional=False)
    except idna.IDNAError as exc:
        raise InputError(field="host", reason=HostReason.BAD_IDN.format(detail=exc)) from None
    # Structural checks run on the mapped text too, so full-width look-alikes
    # (U+FF20 for '@', U+FF1A for ':') get the same plain explanation.
    for candidate in (text, mapped):
        _check_structure(candidate)
    name = mapped[:-1] if mapped.endswith(".") else mapped
    labels = name.split(".")
    if any(not label for label in labels):
        raise InputError(field="host", reason=HostReason.EMPTY_LABEL)
    if is_numeric_name(name):
        raise InputError(field="host", reason=HostReason.NUMERIC)
    if len(labels) == 1:
        raise InputError(field="host", reason=HostReason.SINGLE_LABEL)
    ascii_name = ".".join(_ascii_label(label) for label in labels)
    if len(ascii_name) > MAX_NAME:
        raise InputError(field="host", reason=HostReason.TOO_LONG)
    return ascii_name


def _check_structure(text: str) -> None:
    if _SCHEME.match(text):
        raise InputError(field="host", reason=HostReason.SCHEME)
    if "@" in text:
        raise InputError(field="host", reason=HostReason.USER)
    if "/" in text or "\\" in text:
        raise InputError(field="host", reason=HostReason.PATH)
    with_port = _HOST_WITH_PORT.match(text)
    if with_port:
        raise InputError(field="host", reason=HostReason.PORT.format(port=with_port["port"]))


def _ascii_label(label: str) -> str:
    if label.isascii():
        if len(label) > MAX_LABEL:
            raise InputError(field="host", reason=HostReason.LABEL_TOO_LONG)
        # Plain DNS rules (RFC 1123), not IDNA's stricter ones: existing names such
        # as "r3---sn-x" are valid hostnames even though IDNA 2008 rejects them.
        if not _LDH_LABEL.match(label):
            raise InputError(field="host", reason=HostReason.BAD_CHARACTER)
        if label.startswith("xn--"):
            _decode_a_label(label)
        return label
    try:
        encoded = idna.alabel(label).decode("ascii")
    except idna.IDNAError as exc:
        raise InputError(field="host", reason=HostReason.BAD_IDN.format(detail=exc)) from None
    if len(encoded) > MAX_LABEL:
        raise InputError(field="host", reason=HostReason.LABEL_TOO_LONG)
    return encoded


def _decode_a_label(label: str) -> None:
    """An ``xn--`` label must be valid punycode of a valid IDN label."""
    try:
        idna.ulabel(label)
    except (idna.IDNAError, UnicodeError) as exc:
        raise InputError(field="host", reason=HostReason.BAD_IDN.format(detail=exc)) from None


class PortNotAllowed(InputError):
    """The port is valid but not in ``SMTPCHECK_ALLOWED_PORTS``; ``port`` is the number."""

    def __init__(self, *, port: int, reason: str) -> None:
        super().__init__(field="port", reason=reason)
        self.port = port


def _port(port: str | int | None, security: Security, allowed: frozenset[int]) -> int:
    if port is None:
        number = IMPLICIT_TLS_PORT if security is Security.TLS else SUBMISSION_PORT
        if number not in allowed:
            raise PortNotAllowed(
                port=number,
                reason=f"is not given, and the default port {number} is not allowed here; "
                f"{_allowed(allowed)}",
            )
        return number
    if isinstance(port, bool):
        raise InputError(field="port", reason="must be a whole number, like 587")
    if isinstance(port, str):
        if not port or not set(port) <= _ASCII_DIGITS:
            raise InputError(
                field="port", reason="must be written with the digits 0-9 only, like 587"
            )
        if len(port) > 5:
            raise InputError(field="port", reason="must be between 1 and 65535")
        number = int(port)
    elif isinstance(port, int):
        number = port
    else:
        raise InputError(field="port", reason="must be a whole number, like 587")
    if not 1 <= number <= 65535:
        raise InputError(field="port", reason="must be between 1 and 65535")
    if number not in allowed:
        raise PortNotAllowed(
            port=number, reason=f"{number} is not allowed here; {_allowed(allowed)}"
        )
    return number


def _allowed(allowed: frozenset[int]) -> str:
    if not allowed:
        return "no port is allowed (SMTPCHECK_ALLOWED_PORTS is empty)"
    return "allowed ports: " + ", ".join(str(p) for p in sorted(allowed))


def _choice(field: str, value: object, enum: type[_Choice]) -> _Choice:
    choices = _one_of(member.value for member in enum)
    if isinstance(value, str):
        try:
            return enum(value.lower())
        except ValueError:
            pass
    shown = repr(value)[:40]
    raise InputError(field=field, reason=f"{shown} is not a choice; use {choices}")


def _wrap_password(password: str | Secret | None) -> Secret | None:
    if password is None or isinstance(password, Secret):
        return password or None
    if isinstance(password, str):
        return Secret(password) if password else None
    raise InputError(field="password", reason="must be text")


def _username(username: str | None) -> str | None:
    if username is None:
        return None
    if not isinstance(username, str):
        raise InputError(field="username", reason="must be text")
    _reject_breaks("username", username)
    # Surrounding spaces are copy-and-paste noise; no mail system uses them.
    user = username.strip()
    if not user:
        return None
    if len(user) > MAX_USERNAME:
        raise InputError(
            field="username", reason=f"is too long (at most {MAX_USERNAME} characters)"
        )
    return user


def _check_password(secret: Secret | None, *, oauth: bool) -> None:
    if secret is None:
        return
    value = secret.reveal()
    _reject_breaks("password", value)
    limit = MAX_OAUTH_TOKEN if oauth else MAX_PASSWORD
    if len(value) > limit:
        raise InputError(field="password", reason=f"is too long (at most {limit} characters)")


def _reject_breaks(field: str, value: str) -> None:
    """CR, LF and NUL could end an SMTP line or a SASL string early; never send them."""
    if "\x00" in value:
        raise InputError(field=field, reason="contains a NUL character")
    if "\r" in value or "\n" in value:
        raise InputError(field=field, reason="contains a line break")


def _check_combination(user: str | None, secret: Secret | None, mechanism: Mechanism) -> None:
    if user is not None and secret is None:
        raise InputError(
            field="password",
            reason="is missing: a username was given without a password; give both, or "
            "neither to check only the connection",
        )
    if user is None and secret is not None:
        raise InputError(
            field="username",
            reason="is missing: a password was given without a username; give both, or "
            "neither to check only the connection",
        )
    if mechanism is not Mechanism.AUTO and user is None:
        raise InputError(
            field="mechanism",
            reason=f"{mechanism.value} needs a username and password; give both, or leave "
            "the mechanism on auto",
        )


def _one_of(values: Iterable[str]) -> str:
    """Join choices for a message: ``a, b or c``."""
    items = list(values)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]
