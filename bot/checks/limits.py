"""Rate limits and lockout for live checks, kept in the store so they survive a
restart and hold across processes.

Policies (issue 4): per user, N checks per window; per target account (host +
username), at most M failed AUTH per window (then refused until the window frees,
so we never push a real account into the provider's lockout) and one check in
flight; a global cap on concurrent checks. A store failure propagates as
``StoreUnavailable`` so callers fail closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import math
import secrets
from dataclasses import dataclass
from typing import Final

from bot.errors import RateLimited, StoreUnavailable
from bot.store import keys
from bot.store.base import LimitStore

GLOBAL_POOL: Final = "checks"

# User-facing wording, kept together so it reads as one voice.
USER_LIMIT_REASON: Final = "You have run {limit} checks in the last {window}; try again in {retry}."
LOCKOUT_REASON: Final = (
    "This account has failed to sign in {limit} times in the last {window}. To avoid "
    "getting it locked by the provider, no more checks for it for now; try again in {retry}."
)
IN_FLIGHT_REASON: Final = (
    "A check for this account is already running; wait for its result and try again in {retry}."
)
BUSY_REASON: Final = "Too many checks are running right now; try again in {retry}."


def plain_duration(seconds: float) -> str:
    """Seconds in words, rounded up: "45 seconds", "1 minute", "4 minutes", "2 hours"."""
    whole = max(1, math.ceil(seconds))
    if whole < 60:
        return f"{whole} second{'s' if whole != 1 else ''}"
    minutes = math.ceil(whole / 60)
    if minutes < 120:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    hours = math.ceil(minutes / 60)
    return f"{hours} hours"


def target_key(host: str, username: str | None) -> str:
    """The account a check targets, hashed: keys never carry the raw username."""
    account = f"{host.strip().lower()}|{(username or '').strip().lower()}"
    return hashlib.sha256(account.encode()).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimits:
    """Limits; defaults from issue 4. Durations in seconds."""

    user_checks: int = 5
    user_window: float = 600.0
    auth_failures: int = 3
    auth_window: float = 900.0
    global_cap: int = 20
    # Longer than any probe's deadline: only a crashed holder ever reaches it.
    hold_ttl: float = 120.0
    # What to suggest when refused for a running check or a full pool (unknown end).
    busy_retry: float = 30.0


@dataclass(frozen=True, slots=True)
class Reservation:
    """Proof that a check may run; pass it to ``RateLimiter.finish``."""

    token: str
    user_id: str
    target: str


class RateLimiter:
    """Decides whether a check may start, and books its outcome."""

    def __init__(self, store: LimitStore, *, limits: RateLimits | None = None) -> None:
        self._store = store
        self._limits = limits or RateLimits()

    async def check_start(self, user_id: str, host: str, username: str | None) -> Reservation:
        """Reserve a check or raise ``RateLimited`` saying why and when to retry.

        Refusals consume nothing: only a check that is allowed to run counts
        against the user's quota.
        """
        limits = self._limits
        target = target_key(host, username)
        # Both peeks only read, so they share one round trip's wait on the admission
        # path; the lockout is still reported first.
        lockout, quota = await asyncio.gather(
            self._store.peek(
                keys.auth_failures(target), window=limits.auth_window, limit=limits.auth_failures
            ),
            self._store.peek(
                keys.user_quota(user_id), window=limits.user_window, limit=limits.user_checks
            ),
        )
        if not lockout.allowed:
            raise self._refusal(
                LOCKOUT_REASON, limits.auth_failures, limits.auth_window, lockout.retry_after
            )
        if not quota.allowed:
            raise self._refusal(
                USER_LIMIT_REASON, limits.user_checks, limits.user_window, quota.retry_after
            )
        reservation = Reservation(secrets.token_hex(16), user_id, target)
        if not await self._store.acquire_slot(
            keys.account_slot(target), ttl=limits.hold_ttl, token=reservation.token
        ):
            raise self._refusal(IN_FLIGHT_REASON, 0, 0, limits.busy_retry)
        try:
            if not await self._store.acquire_global(
                GLOBAL_POOL, cap=limits.global_cap, ttl=limits.hold_ttl, token=reservation.token
            ):
                raise self._refusal(BUSY_REASON, 0, 0, limits.busy_retry)
            # Recorded last and atomically: two racing starts cannot both take the
            # user's last check.
            quota = await self._store.hit(
                keys.user_quota(user_id), window=limits.user_window, limit=limits.user_checks
            )
            if not quota.allowed:
                raise self._refusal(
                    USER_LIMIT_REASON, limits.user_checks, limits.user_window, quota.retry_after
                )
        except BaseException:
            await self._release(reservation)
            raise
        return reservation

    @staticmethod
    def reservation_of(*, token: str, user_id: str, host: str, username: str | None) -> Reservation:
        """The reservation a check record was admitted under (for the restart sweep)."""
        return Reservation(token, user_id, target_key(host, username))

    async def finish(self, reservation: Reservation, *, auth_failed: bool) -> None:
        """Book the outcome and free the slots. A failed AUTH is recorded before the
        target's slot frees, so no check can slip in ahead of the lockout."""
        if auth_failed:
            await self._store.add_hit(
                keys.auth_failures(reservation.target), window=self._limits.auth_window
            )
        await self._store.release_slot(
            keys.account_slot(reservation.target), token=reservation.token
        )
        await self._store.release_global(GLOBAL_POOL, token=reservation.token)

    async def _release(self, reservation: Reservation) -> None:
        # Best effort while already failing: held entries expire after hold_ttl anyway.
        with contextlib.suppress(StoreUnavailable):
            await self._store.release_global(GLOBAL_POOL, token=reservation.token)
        with contextlib.suppress(StoreUnavailable):
            await self._store.release_slot(
                keys.account_slot(reservation.target), token=reservation.token
            )

    @staticmethod
    def _refusal(template: str, limit: int, window: float, retry_after: float) -> RateLimited:
        retry_after = max(retry_after, 1.0)
        reason = template.format(
            limit=limit, window=plain_duration(window), retry=plain_duration(retry_after)
        )
        return RateLimited(reason=reason, retry_after=retry_after)
