"""DNS for the probe and for settings discovery: one resolver factory, one place
where dnspython's exceptions become ours.

No search-domain expansion (a typed single label must never become an internal
name), no fallback resolver: a failure is reported, never papered over.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import dns.asyncresolver
import dns.exception
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver

from bot.errors import LookupFailed

NXDOMAIN: Final = "nxdomain"
NO_ANSWER: Final = "no_answer"
TIMEOUT: Final = "timeout"
FAILURE: Final = "failure"


def make_resolver(
    dns_servers: Sequence[tuple[str, int]] = (), *, lifetime: float = 5.0
) -> dns.asyncresolver.Resolver:
    """A resolver for ``SMTPCHECK_DNS_SERVERS`` (``(ip, port)`` pairs), else the system's."""
    if dns_servers:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [
            dns.nameserver.Do53Nameserver(host, port) for host, port in dns_servers
        ]
    else:
        resolver = dns.asyncresolver.Resolver()
    resolver.search = []
    resolver.use_search_by_default = False
    resolver.lifetime = lifetime
    resolver.timeout = min(resolver.timeout, lifetime)
    return resolver


async def lookup(
    resolver: dns.asyncresolver.Resolver,
    name: str,
    rdtype: str,
    *,
    lifetime: float | None = None,
) -> dns.resolver.Answer:
    """Resolve ``name``/``rdtype`` as an absolute name; raise ``LookupFailed`` on any failure.

    ``LookupFailed.reason`` is one of ``nxdomain``, ``no_answer``, ``timeout``, ``failure``.
    """
    qname = dns.name.from_text(name if name.endswith(".") else name + ".")
    try:
        return await resolver.resolve(
            qname, dns.rdatatype.from_text(rdtype), search=False, lifetime=lifetime
        )
    except dns.resolver.NXDOMAIN:
        raise LookupFailed(name=name, reason=NXDOMAIN) from None
    except dns.resolver.NoAnswer:
        raise LookupFailed(name=name, reason=NO_ANSWER) from None
    except dns.exception.Timeout:
        raise LookupFailed(name=name, reason=TIMEOUT) from None
    except (dns.resolver.NoNameservers, dns.exception.DNSException, OSError) as exc:
        raise LookupFailed(name=name, reason=FAILURE) from exc


# Finer reasons behind ``FAILURE``, for callers that must say why DNS gave no answer.
REFUSED: Final = "refused"
SERVFAIL: Final = "servfail"
UNREACHABLE: Final = "unreachable"


def failure_detail(exc: LookupFailed) -> str:
    """``exc.reason``, or for ``failure`` what the servers said: refused, servfail, unreachable.

    dnspython keeps each server's answer in ``NoNameservers``; REFUSED wins over SERVFAIL
    (a policy, not an outage), and both over a server that could not be reached at all.
    """
    cause = exc.__cause__
    if exc.reason != FAILURE or not isinstance(cause, dns.resolver.NoNameservers):
        return exc.reason
    # Each entry: (server, tcp, port, exception or rcode text, response).
    answers = [error[3] for error in cause.kwargs.get("errors", []) if len(error) > 3]
    said = {str(answer) for answer in answers}
    if "REFUSED" in said:
        return REFUSED
    if "SERVFAIL" in said:
        return SERVFAIL
    if answers and all(isinstance(answer, OSError) for answer in answers):
        return UNREACHABLE
    return FAILURE
