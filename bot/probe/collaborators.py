"""What a probe runs against: the resolver, the egress policy and the TLS context.

``run_probe`` is given these explicitly (tests build them by hand: a resolver
pointed at a local DNS server, a policy allowing loopback, a context trusting a
test CA). ``Collaborators.from_settings`` builds them from ``Settings`` for the
bot and the CLI, once per process or per command, not per probe.

Imports neither aiosmtplib nor the engine.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import dns.asyncresolver

from bot.probe.egress import EgressPolicy
from bot.probe.tls import client_context
from bot.resolver import make_resolver

if TYPE_CHECKING:
    from bot.config import Settings


@dataclass(frozen=True, slots=True, kw_only=True)
class Collaborators:
    """The probe's outside world. ``tls_context`` must come from ``tls.client_context``:
    its SSL objects time the handshake, which the implicit-TLS stage relies on."""

    resolver: dns.asyncresolver.Resolver
    policy: EgressPolicy
    tls_context: ssl.SSLContext

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        resolver: dns.asyncresolver.Resolver | None = None,
        ca_files: Sequence[Path | None] = (),
    ) -> Collaborators:
        """From ``SMTPCHECK_ALLOW_NETWORKS``, ``SMTPCHECK_DNS_SERVERS`` and ``SMTPCHECK_CA_FILE``.

        ``resolver`` defaults to one for the configured DNS servers (shared per
        configuration); ``ca_files`` are trusted in addition to ``settings.ca_file``
        and the system store (``None`` entries are skipped, for optional CLI input).
        """
        extra = [path for path in (settings.ca_file, *ca_files) if path is not None]
        return cls(
            resolver=resolver or _shared_resolver(settings.dns_servers),
            policy=EgressPolicy(settings.allow_networks),
            tls_context=client_context(extra),
        )


@lru_cache(maxsize=8)
def _shared_resolver(dns_servers: tuple[tuple[str, int], ...]) -> dns.asyncresolver.Resolver:
    # One per configuration: building a resolver reads /etc/resolv.conf.
    return make_resolver(dns_servers)
