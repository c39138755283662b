"""Rate limits and lockout for live checks, kept in the store so they survive a
restart and hold across processes.

Policies (issue 4, made fault-proof by issue 10): per user, N checks per window; per
account (the server as typed and every address it resolved to, plus the normalised
username), at most M AUTH attempts that may have failed per window, booked *before*
the credentials leave and taken back only when the server says the login worked, so
timeouts, dropped connections and crashes count; one check in flight per account; a
global cap on concurrent checks. A store failure propagates as ``StoreUnavailable``
so callers fail closed.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import math
import secrets
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final

from bot.errors import RateLimited, StoreUnavailable
from bot.store import keys
from bot.store.base import LimitStore, Refusal, Reserved

GLOBAL_POOL: Final = "checks"

# User-facing wording, kept together so it reads as one voice.
USER_LIMIT_REASON: Final = "You have run {limit} checks in the last {window}; try again in {retry}."
LOCKOUT_REASON: Final = (
    "This account has failed to sign in {limit} times in the last {window}. To avoid "
    "getting it locked by the provider, no more checks for it for now; try again in {retry}."
)
# The held slot is freed when the check ends, or, for a check a restart cut off, by the
# sweep or at the latest when the slot expires (hold_ttl): that is the honest retry time.
IN_FLIGHT_REASON: Final = (
    "A check for this account is already running; wait for its result. If none comes "
    "(a restart can cut a check off), try again in {retry}."
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


def normalise_username(username: str | None) -> str:
    """The account part of a username, so spellings of one account share a budget:
    case, width and surrounding space folded, ``DOMAIN\\user`` and ``user@domain``
    both reduced to ``user``. Two mailboxes with the same local part on one server
    then share a budget too: that errs on the side of fewer attempts."""
    name = unicodedata.normalize("NFKC", username or "").strip().casefold()
    name = name.rpartition("\\")[2]
    return name.partition("@")[0].strip() if "@" in name else name


def server_id(host: str) -> str:
    """What identifies a server as typed: its address for an IP literal, else its name."""
    try:
        return f"addr:{ipaddress.ip_address(host.strip().strip('[]'))}"
    except ValueError:
        return f"name:{host.strip().lower().rstrip('.')}"


def account_key(server: str, username: str | None) -> str:
    """The budget key of one account on one server, hashed: keys never carry the raw
    username. ``server`` is a ``server_id`` (or ``addr:<ip>``)."""
    account = f"{server}|{normalise_username(username)}"
    return hashlib.sha256(account.encode()).hexdigest()


def target_key(host: str, username: str | None) -> str:
    """The account a check targets as typed (admission, before anything resolved)."""
    return account_key(server_id(host), username)


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
    # What to suggest when refused for a full pool (unknown end).
    busy_retry: float = 30.0


@dataclass(frozen=True, slots=True)
class Reservation:
    """Proof that a check may run; pass it to ``RateLimiter.finish``."""

    token: str
    user_id: str
    target: str


@dataclass(frozen=True, slots=True)
class Booking:
    """The accounts a check's AUTH was booked against (typed and resolved servers)."""

    accounts: tuple[str, ...]


class RateLimiter:
    """Decides whether a check may start, books its AUTH before the credentials leave,
    and settles the booking when the reply comes.

    Every account key gets the same budget: the server as typed and every address the
    name resolved to, each with the normalised username. An IP literal, each DNS name
    and each port of one server therefore share one budget (they share an address).
    """

    def __init__(
        self,
        store: LimitStore,
        *,
        limits: RateLimits | None = None,
        provider_of: Callable[[str], str | None] | None = None,
    ) -> None:
        self._store = store
        self._limits = limits or RateLimits()
        # A known provider's submission hosts (smtp.gmail.com, smtp.googlemail.com, ...)
        # are one server whatever their addresses: keyed by the provider's id.
        self._provider_of = provider_of or (lambda host: None)

    def server_of(self, host: str) -> str:
        """The server a typed host names: a known provider, else ``server_id``."""
        provider = self._provider_of(host.strip().lower().rstrip("."))
        return f"provider:{provider}" if provider else server_id(host)

    @property
    def limits(self) -> RateLimits:
        return self._limits

    async def check_start(self, user_id: str, host: str, username: str | None) -> Reservation:
        """Reserve a check or raise ``RateLimited`` saying why and when to retry.

        The typed account's budget is checked and its slot taken in one atomic step.
        Refusals consume nothing: only a check that is allowed to run counts
        against the user's quota.
        """
        limits = self._limits
        target = account_key(self.server_of(host), username)
        reservation = Reservation(secrets.token_hex(16), user_id, target)
        reserved = await self._reserve(reservation, (target,), book=False)
        if reserved.refused is Refusal.SLOT:
            # Reported as before: lockout, then the user's quota, then "already running".
            quota = await self._store.peek(
                keys.user_quota(user_id), window=limits.user_window, limit=limits.user_checks
            )
            if not quota.allowed:
                raise self._refusal(
                    USER_LIMIT_REASON, limits.user_checks, limits.user_window, quota.retry_after
                )
        self._raise_if_refused(reserved)
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

    def booking_for(
        self, reservation: Reservation, addresses: Iterable[str], username: str | None
    ) -> Booking:
        """The accounts an AUTH to ``addresses`` as ``username`` is booked against."""
        resolved = (account_key(server_id(address), username) for address in addresses)
        return Booking(tuple(dict.fromkeys((reservation.target, *resolved))))

    async def book_auth(self, reservation: Reservation, booking: Booking) -> None:
        """Book one failed attempt on every account of ``booking`` and hold their
        slots, atomically, before the credentials leave (fail closed); raise
        ``RateLimited`` when any budget is spent or another check holds a slot."""
        self._raise_if_refused(await self._reserve(reservation, booking.accounts, book=True))

    async def finish(
        self, reservation: Reservation, *, booking: Booking | None = None, counted: bool = True
    ) -> None:
        """Settle the booking and free the slots. ``counted=False`` (the server accepted
        the login) takes the booked attempt back; otherwise it stays a failure. The
        booking is settled before the slots free, so nothing slips in ahead of it."""
        accounts = booking.accounts if booking else (reservation.target,)
        await self._store.settle(
            budgets=[keys.auth_failures(a) for a in accounts],
            slots=[keys.account_slot(a) for a in dict.fromkeys((reservation.target, *accounts))],
            token=reservation.token,
            cancel=booking is not None and not counted,
        )
        await self._store.release_global(GLOBAL_POOL, token=reservation.token)

    def reservation_of(
        self, *, token: str, user_id: str, host: str, username: str | None
    ) -> Reservation:
        """The reservation a check record was admitted under (for the restart sweep)."""
        return Reservation(token, user_id, account_key(self.server_of(host), username))

    async def _reserve(
        self, reservation: Reservation, accounts: Iterable[str], *, book: bool
    ) -> Reserved:
        accounts = tuple(accounts)
        limits = self._limits
        return await self._store.reserve(
            budgets=[keys.auth_failures(a) for a in accounts],
            slots=[keys.account_slot(a) for a in accounts],
            token=reservation.token,
            limit=limits.auth_failures,
            window=limits.auth_window,
            ttl=limits.hold_ttl,
            book=book,
        )

    def _raise_if_refused(self, reserved: Reserved) -> None:
        limits = self._limits
        if reserved.refused is Refusal.BUDGET:
            raise self._refusal(
                LOCKOUT_REASON, limits.auth_failures, limits.auth_window, reserved.retry_after
            )
        if reserved.refused is Refusal.SLOT:
            raise self._refusal(IN_FLIGHT_REASON, 0, 0, limits.hold_ttl)

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
