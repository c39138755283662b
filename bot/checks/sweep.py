"""The sweep: close out checks whose process is gone, tell each owner once.

A check belongs to the process named in its record's ``owner``: while that process's
lease lives (the sweeping process's own always does), its checks are left alone however
old they are, so a long Slack or server stall never turns a running check into an
"interrupted" one. Records without an owner (written before leases) are taken once
untouched for ``older_than`` seconds. AUTH is never re-run.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.probe.model import Outcome
from bot.store.base import IN_FLIGHT_STATES, CheckRecord, CheckState, CheckStore

log = logging.getLogger(__name__)


async def sweep(
    store: CheckStore,
    *,
    owner: str,
    older_than: float,
    now: float,
    release: Callable[[CheckRecord], Awaitable[None]],
    notify: Callable[[CheckRecord], Awaitable[None]],
) -> int:
    """Mark dead processes' checks interrupted, ``release`` their holds, ``notify`` each
    owner once across all processes; return how many were told."""
    records = await store.list_in_flight()
    owners = {r.owner for r in records if r.owner is not None and r.owner != owner}
    alive = await store.live_leases(owners) if owners else frozenset()
    told = 0
    for record in records:
        if record.owner == owner or record.owner in alive:
            continue
        if record.owner is None and record.updated_at > now - older_than:
            continue
        marked = await store.mark_check(
            record.check_id,
            CheckState.INTERRUPTED,
            updated_at=now,
            outcome=Outcome.INTERRUPTED.value,
            only_from=IN_FLIGHT_STATES,
        )
        if marked is None:
            continue
        if marked.hold is not None:
            await release(marked)
        if not await store.claim_interrupted_notice(record.check_id):
            continue
        try:
            await notify(marked)
            told += 1
        except Exception:
            log.exception("could not tell the owner of interrupted check %s", record.check_id)
    return told
