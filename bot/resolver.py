"""DNS for the probe and for settings discovery: one resolver factory, one place
where dnspython's exceptions become ours.

No search-domain expansion (a typed single label must never become an internal
name), no fallback resolver: a failure is reported, never papered over.

Timing, for every lookup (probe, discovery, autoconfig fetch): each query waits at
most ``QUERY_TIMEOUT`` for its answer, and a lookup ends after ``DNS_LIFETIME``,
which leaves room for exactly one retry of a lost datagram. A server that drops
every packet costs about a second, not dnspython's default 5 s; one that answers
slowly (under ``QUERY_TIMEOUT``) or loses one packet still works. An answer that
is an error (REFUSED, SERVFAIL) ends the lookup at once: dnspython takes that
server out of the round (``retry_servfail`` stays off), and only a truncated UDP
answer would ever be retried over TCP.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from enum import StrEnum
from typing import Final

import dns._asyncio_backend
import dns.asyncresolver
import dns.exception
import dns.name
import dns.nameserver
import dns.rdatatype
import dns.resolver

from bot.errors import LookupFailed


class LookupProblem(StrEnum):
    """Why a lookup failed: ``LookupFailed.reason``. The values are stable strings."""

    NXDOMAIN = "nxdomain"  # the name does not exist
    NO_ANSWER = "no_answer"  # the name exists, without records of the type asked for
    TIMEOUT = "timeout"  # the DNS server did not answer (no reply within the lifetime)
    UNREACHABLE = "unreachable"  # the DNS server refused the datagram (nothing listening)
    FAILURE = "failure"  # SERVFAIL, REFUSED, a malformed answer...


# The names the module had before the enum (callers elsewhere still use them).
NXDOMAIN: Final = LookupProblem.NXDOMAIN
NO_ANSWER: Final = LookupProblem.NO_ANSWER
TIMEOUT: Final = LookupProblem.TIMEOUT
FAILURE: Final = LookupProblem.FAILURE


class _ConnectedUdp(dns._asyncio_backend.Backend):
    """dnspython's asyncio backend with connected UDP sockets.

    An unconnected socket never hears the ICMP "port unreachable" a dead DNS
    server's host sends back, so dnspython waits out its whole lifetime (5 s);
    a connected one gets ``ConnectionRefusedError`` at once, and the lookup
    fails in milliseconds instead.
    """

    def datagram_connection_required(self) -> bool:
        return True


_BACKEND: Final = _ConnectedUdp()

QUERY_TIMEOUT: Final = 0.8  # seconds one query waits for its answer
DNS_LIFETIME: Final = 1.2  # seconds one lookup may take: a first query and one retry


def make_resolver(
    dns_servers: Sequence[tuple[str, int]] = (), *, lifetime: float = DNS_LIFETIME
) -> dns.asyncresolver.Resolver:
    """A resolver for ``SMTPCHECK_DNS_SERVERS`` (``(ip, port)`` pairs), else the system's.

    Queries time out after ``QUERY_TIMEOUT`` (whatever ``resolv.conf`` says), lookups
    after ``lifetime`` unless a call gives its own.
    """
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
    resolver.timeout = min(QUERY_TIMEOUT, lifetime)
    resolver.retry_servfail = False  # SERVFAIL, like REFUSED, ends the lookup at that server
    return resolver


async def lookup(
    resolver: dns.asyncresolver.Resolver,
    name: str,
    rdtype: str,
    *,
    lifetime: float | None = None,
) -> dns.resolver.Answer:
    """Resolve ``name``/``rdtype`` as an absolute name; raise ``LookupFailed`` on any failure.

    ``LookupFailed.reason`` is a ``LookupProblem``.
    """
    qname = dns.name.from_text(name if name.endswith(".") else name + ".")
    limit = resolver.lifetime if lifetime is None else lifetime
    try:
        # dnspython checks its lifetime only before each query, after sleeping a retry
        # backoff: a silent server would cost up to 0.2 s more. The lifetime is held here.
        async with asyncio.timeout(limit):
            return await resolver.resolve(
                qname,
                dns.rdatatype.from_text(rdtype),
                search=False,
                lifetime=limit,
                backend=_BACKEND,
            )
    except TimeoutError:
        raise LookupFailed(name=name, reason=TIMEOUT) from None
    except dns.resolver.NXDOMAIN:
        raise LookupFailed(name=name, reason=NXDOMAIN) from None
    except dns.resolver.NoAnswer:
        raise LookupFailed(name=name, reason=NO_ANSWER) from None
    except dns.exception.Timeout:
        raise LookupFailed(name=name, reason=TIMEOUT) from None
    except dns.resolver.NoNameservers as exc:
        reason = LookupProblem.UNREACHABLE if _all_refused(exc) else LookupProblem.FAILURE
        raise LookupFailed(name=name, reason=reason) from exc
    except (dns.exception.DNSException, OSError) as exc:
        raise LookupFailed(name=name, reason=LookupProblem.FAILURE) from exc


def _all_refused(exc: dns.resolver.NoNameservers) -> bool:
    """Whether every nameserver failed by refusing the datagram (none could be reached)."""
    errors = exc.kwargs.get("errors") or []
    return bool(errors) and all(isinstance(error[3], ConnectionRefusedError) for error in errors)


# Finer reasons behind ``FAILURE``, for callers that must say why DNS gave no answer.
REFUSED: Final = "refused"
SERVFAIL: Final = "servfail"
UNREACHABLE: Final = LookupProblem.UNREACHABLE


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
