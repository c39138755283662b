"""IP literals and numeric names: the address checks the egress policy needs.

Kept apart from ``bot.probe.request`` (which re-exports them) so that a caller that only
checks addresses, like the HTTPS fetcher of ``smtpcheck discover``, does not load the
probe's request model.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# A label inet_aton would read as a number: decimal, octal (leading 0) or hex.
_NUMERIC_LABEL: Final = re.compile(r"^(?:0x[0-9a-f]*|[0-9]+)$", re.IGNORECASE)


def parse_ip_literal(text: str) -> IPAddress | None:
    """An IPv4 dotted quad or IPv6 literal (brackets optional) in canonical form, else None."""
    inner = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    if "%" in inner:  # zone index: meaningless off-link and not something we probe
        return None
    try:
        return ipaddress.ip_address(inner)
    except ValueError:
        return None


def is_numeric_name(text: str) -> bool:
    """True when ``text`` ends in a label ``inet_aton`` reads as a number (``127.1``, ``0x7f``).

    No top-level domain is numeric, so such a string is never a real server name;
    it would only ever be read as an address in a non-canonical spelling.
    """
    labels = text.rstrip(".").split(".")
    return bool(_NUMERIC_LABEL.match(labels[-1]))
