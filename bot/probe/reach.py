"""The first two stages of a probe: resolve the name, connect a socket to a checked address.

Each function is the body of its stage: it is handed the engine's ``StageRun``
and ends the stage with ``ok`` or ``fail`` (or lets ``run``'s exception through).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Sequence

from bot.probe import words
from bot.probe.collaborators import Collaborators
from bot.probe.draft import ReportDraft
from bot.probe.egress import Resolution, resolve_target
from bot.probe.failures import Failure
from bot.probe.model import ProbeRequest
from bot.probe.plan import Deadline, Limits
from bot.probe.replies import clean_text
from bot.probe.request import IPAddress, parse_ip_literal
from bot.probe.session import open_socket
from bot.probe.stage_run import StageRun


async def resolve(
    stage: StageRun, host: str, collaborators: Collaborators, deadline: Deadline, limits: Limits
) -> tuple[IPAddress, ...]:
    """Resolve ``host`` once (every answer checked); the addresses the probe may try."""
    policy = collaborators.policy
    literal = parse_ip_literal(host)
    if literal is not None:  # what resolve_target does for one, without a lookup's timer
        if stage.budget() <= 0:
            raise TimeoutError
        policy.check(literal)
        stage.ok(words.LITERAL.format(host=host))
        return (literal,)

    resolution = await stage.run(_lookup(host, collaborators, deadline, limits))
    addresses = resolution.addresses
    shown = ", ".join(str(ip) for ip in addresses[:4])
    more = ", ..." if len(addresses) > 4 else ""
    notes = [
        words.RESOLVED_PARTLY.format(rdtype=rdtype, problem=problem)
        for rdtype, problem in resolution.failed
    ]
    stage.ok("; ".join([words.RESOLVED.format(host=host, addresses=shown + more), *notes]))
    return addresses


async def _lookup(
    host: str, collaborators: Collaborators, deadline: Deadline, limits: Limits
) -> Resolution:
    lifetime = deadline.dns_lifetime(limits.dns, time.monotonic())  # as the lookup starts
    return await resolve_target(
        host, resolver=collaborators.resolver, policy=collaborators.policy, lifetime=lifetime
    )


async def connect(
    stage: StageRun,
    addresses: Sequence[IPAddress],
    request: ProbeRequest,
    draft: ReportDraft,
    deadline: Deadline,
) -> socket.socket:
    """Connect to the first of ``addresses`` that answers; ``draft.address`` is that one."""
    port, transcript = request.port, draft.transcript
    host = f"[{request.host}]" if ":" in request.host else request.host
    transcript.note(f"Trying {host}:{port}...")
    earlier: list[str] = []
    failure: Failure | None = None
    for address in addresses:
        draft.address = address
        result = await stage.attempt(open_socket(address, port))
        if not isinstance(result, Failure):
            transcript.note(f"Connected to {address}.")
            stage.ok("; ".join([*earlier, words.CONNECTED.format(address=address, port=port)]))
            return result
        failure = result
        earlier.append(words.EARLIER_FAILED.format(address=address, reason=result.detail))
        transcript.note(clean_text(result.detail))
        if deadline.remaining(time.monotonic()) <= 0:
            break
    assert failure is not None  # resolve_target never returns an empty tuple
    if len(earlier) > 1:
        failure = Failure(failure.outcome, failure.finding, "; ".join(earlier), failure.reply)
    stage.fail(failure)
