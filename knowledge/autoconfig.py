"""Autoconfig documents, as Thunderbird reads them: where to ask, and what they say.

A domain may publish its own settings (config-v1.1 XML) at
``https://autoconfig.<domain>/mail/config-v1.1.xml`` or
``https://<domain>/.well-known/autoconfig/mail/config-v1.1.xml``. The fetching is
not done here: knowledge does no network I/O of its own beyond DNS, so the caller
injects a ``Fetcher`` (the bot's goes through the probe's egress policy). This
module builds the URLs and parses the answer, which comes from the internet and is
treated as hostile: defusedxml refuses entity declarations (billion laughs) and
external references, and only the fields smtpcheck needs are read.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Final, Protocol

from knowledge.ispdb import login_template, oauth_level, username_words
from knowledge.model import Candidate, SecurityName

MAX_DOCUMENT: Final = 64 * 1024  # bytes; a real config-v1.1 file is a few KiB
_SOCKET_TYPES: Final[dict[str, SecurityName]] = {
    "SSL": "tls",
    "STARTTLS": "starttls",
    "plain": "none",
}


class Fetcher(Protocol):
    """GET ``url`` and return its body; raise ``bot.errors.FetchFailed`` for any failure.

    ``domain`` is the mail domain being looked up: redirects must stay inside it.
    """

    def __call__(self, url: str, *, domain: str) -> Awaitable[bytes]: ...


def autoconfig_urls(domain: str) -> tuple[str, ...]:
    """Thunderbird's two lookups for ``domain`` (an already validated ASCII name)."""
    return (
        f"https://autoconfig.{domain}/mail/config-v1.1.xml",
        f"https://{domain}/.well-known/autoconfig/mail/config-v1.1.xml",
    )


class BadDocument(ValueError):
    """The fetched document is not a usable config-v1.1 file."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AutoconfigAnswer:
    candidates: tuple[Candidate, ...]  # encrypted first, document order otherwise
    username: str  # in words
    login: str  # the template behind the words ("" = the full address)
    oauth: str  # required | supported | none


def parse_autoconfig(data: bytes) -> AutoconfigAnswer:
    """The SMTP servers a config-v1.1 document lists; ``BadDocument`` for anything else."""
    if len(data) > MAX_DOCUMENT:
        raise BadDocument(f"larger than {MAX_DOCUMENT // 1024} KiB")
    # Imported here: a discovery that never fetches a document never loads an XML parser.
    import xml.etree.ElementTree as ET

    import defusedxml
    import defusedxml.ElementTree as SafeET

    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except defusedxml.DefusedXmlException as exc:
        raise BadDocument(f"refused unsafe XML ({type(exc).__name__})") from None
    except (ET.ParseError, ValueError) as exc:
        raise BadDocument(f"not well-formed XML ({exc})") from None
    if root.tag != "clientConfig":
        raise BadDocument("not a config-v1.1 document (no <clientConfig>)")
    found: list[tuple[Candidate, str, tuple[str, ...]]] = []
    for server in root.iter("outgoingServer"):
        if server.get("type") != "smtp":
            continue
        host = (server.findtext("hostname") or "").strip().lower().rstrip(".")
        port = (server.findtext("port") or "").strip()
        security = _SOCKET_TYPES.get((server.findtext("socketType") or "").strip())
        if not host or "%" in host or not port.isdigit() or security is None:
            continue  # a template host (%EMAILDOMAIN%) or a half entry: skip, do not guess
        if not 0 < int(port) < 65536 or len(host) > 253:
            continue
        auth = tuple(
            (a.text or "").strip() for a in server.iter("authentication") if (a.text or "").strip()
        )
        candidate = Candidate(host=host, port=int(port), security=security, source="autoconfig")
        found.append((candidate, (server.findtext("username") or "").strip(), auth))
    if not found:
        raise BadDocument("lists no usable SMTP server")
    found.sort(key=lambda item: item[0].plaintext)
    return AutoconfigAnswer(
        candidates=tuple(dict.fromkeys(c for c, _, _ in found)),
        username=username_words(found[0][1], found[0][2]),
        login=login_template(found[0][1]),
        oauth=oauth_level([auth for _, _, auth in found]),
    )
