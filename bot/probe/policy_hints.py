"""What an operator would set to let the probe reach a refused target.

For the CLI and the logs only: people in Slack are told the target is not
allowed, never which setting would open it (that is the operator's decision).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable


def networks_hint(addresses: Iterable[str]) -> str | None:
    """The ``SMTPCHECK_ALLOW_NETWORKS`` value that would allow ``addresses`` (None if none)."""
    networks = []
    for text in dict.fromkeys(addresses):
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            continue
        networks.append(f"{address}/{address.max_prefixlen}")
    if not networks:
        return None
    return (
        f"to allow it, add SMTPCHECK_ALLOW_NETWORKS={','.join(networks)} "
        "(comma-separated CIDRs, added to what the probe may reach)"
    )


def port_hint(port: int, allowed: Iterable[int]) -> str:
    """The ``SMTPCHECK_ALLOWED_PORTS`` value that would allow ``port`` too."""
    ports = ",".join(str(p) for p in sorted({*allowed, port}))
    return f"to allow it, set SMTPCHECK_ALLOWED_PORTS={ports}"
