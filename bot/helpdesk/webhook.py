"""Escalations to a ticketing system: an optional webhook (``SMTPCHECK_ESCALATION_WEBHOOK``).

The body is JSON with the same secret-free summary the helpdesk channel gets. It is
signed with HMAC-SHA256 under ``SMTPCHECK_ESCALATION_WEBHOOK_SECRET``:

    X-Smtpcheck-Timestamp: <unix seconds>
    X-Smtpcheck-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<body>">

(the receiver recomputes it and refuses stale timestamps, like Slack's own signing).
Delivery runs in the background, retried with exponential backoff on connection
errors, timeouts, 429 and 5xx; a delivery that still fails is recorded (time and
reason, never the URL or the body) for admins to see in App Home and ``/smtpcheck stats``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

import aiohttp

from bot.secret import Secret
from bot.store import keys
from bot.store.base import Journals

log = logging.getLogger(__name__)

TIMESTAMP_HEADER: Final = "X-Smtpcheck-Timestamp"
SIGNATURE_HEADER: Final = "X-Smtpcheck-Signature"
ATTEMPTS: Final = 4
FIRST_BACKOFF: Final = 0.5  # seconds; doubled after each failed attempt
ATTEMPT_TIMEOUT: Final = 5.0
FAILURES_JOURNAL: Final = keys.webhook_failures()
FAILURES_KEPT: Final = 10
FAILURES_TTL: Final = 7 * 24 * 3600.0

_deliveries: set[asyncio.Task[bool]] = set()  # strong references until each is done


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
    at: float
    reason: str


def signature(secret: Secret, timestamp: str, body: bytes) -> str:
    """``v1=`` + HMAC-SHA256 of ``<timestamp>.<body>`` under ``secret``."""
    mac = hmac.new(secret.reveal().encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def escalation_body(summary: str, *, kind: str, at: float) -> bytes:
    """The JSON body: what was escalated (``check`` or ``thread``), when, the summary."""
    return json.dumps(
        {"type": "escalation", "kind": kind, "sent_at": int(at), "summary": summary},
        separators=(",", ":"),
    ).encode()


async def deliver(
    url: Secret,
    secret: Secret,
    body: bytes,
    *,
    store: Journals,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.time,
) -> bool:
    """POST ``body`` signed, with retries; record the failure when every attempt failed."""
    reason = "not sent"
    backoff = FIRST_BACKOFF
    timeout = aiohttp.ClientTimeout(total=ATTEMPT_TIMEOUT)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for attempt in range(1, ATTEMPTS + 1):
            stamp = str(int(clock()))
            headers = {
                "Content-Type": "application/json",
                TIMESTAMP_HEADER: stamp,
                SIGNATURE_HEADER: signature(secret, stamp, body),
            }
            try:
                async with session.post(url.reveal(), data=body, headers=headers) as response:
                    if 200 <= response.status < 300:
                        return True
                    reason = f"HTTP {response.status}"
                    if response.status < 500 and response.status != 429:
                        break  # the receiver refused this body: retrying cannot help
            except (aiohttp.ClientError, TimeoutError) as exc:
                reason = type(exc).__name__
            if attempt < ATTEMPTS:
                await sleep(backoff)
                backoff *= 2
    log.warning("escalation webhook failed after retries: %s", reason)
    await record_failure(store, Failure(at=clock(), reason=f"{reason} (after {attempt} tries)"))
    return False


def start_delivery(
    url: Secret, secret: Secret, body: bytes, *, store: Journals
) -> asyncio.Task[bool]:
    """Deliver in the background (the click that escalated is answered at once)."""
    task = asyncio.create_task(deliver(url, secret, body, store=store))
    _deliveries.add(task)
    task.add_done_callback(_deliveries.discard)
    return task


async def record_failure(store: Journals, failure: Failure) -> None:
    """One atomic push: failures of two processes at once are both kept."""
    await store.push_entry(
        FAILURES_JOURNAL,
        {"at": failure.at, "reason": failure.reason},
        dedupe=secrets.token_hex(8),  # every failure is its own entry
        at=failure.at,
        keep=FAILURES_KEPT,
        ttl=FAILURES_TTL,
    )


async def recent_failures(store: Journals) -> list[Failure]:
    """Failed deliveries, newest first."""
    return [
        Failure(at=float(i["at"]), reason=str(i["reason"]))
        for i in await store.entries(FAILURES_JOURNAL, FAILURES_KEPT)
        if isinstance(i.get("at"), int | float) and "reason" in i
    ]
