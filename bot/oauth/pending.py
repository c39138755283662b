"""Google sign-ins waiting for their browser callback, for the bot (many users at once).

``open`` binds a fresh ``state`` to the Slack user and check: the store keeps only
its SHA-256 (``keys.oauth_state``), for ``STATE_TTL`` seconds; ``wait`` is where
the check's task waits for the code. ``deliver`` is the callback's side: an
unknown, expired or already used ``state`` changes nothing (``keys.oauth_state_used``
makes redemption single use across processes).

The code itself never leaves this process's memory: it goes straight to the waiting
task, which redeems it with the PKCE verifier only it holds. So the callback must
reach the process that started the sign-in (one process, or sticky sessions); any
other says so (``Delivery.ELSEWHERE``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Protocol

from bot.oauth.errors import Problem, SignInFailed, provider_error
from bot.oauth.pkce import state_hash
from bot.secret import Secret
from bot.store import keys
from bot.store.base import Claims, Documents

STATE_TTL: Final = 600.0
MAX_STATE_CHARS: Final = 200


class SignInStore(Claims, Documents, Protocol):
    """What the pending sign-ins need of the store."""


class Delivery(StrEnum):
    """What became of one callback."""

    DONE = "done"  # the code went to its check
    FAILED = "failed"  # the provider answered an error; the check was told
    UNKNOWN = "unknown"  # no such state, or expired
    USED = "used"  # the state was already redeemed
    ELSEWHERE = "elsewhere"  # the sign-in was started by another process


@dataclass(frozen=True, slots=True)
class _Waiting:
    user_id: str
    check_id: str
    future: asyncio.Future[Secret]


class PendingSignIns:
    """The sign-ins this process started and has not finished."""

    def __init__(
        self, store: SignInStore, *, ttl: float = STATE_TTL, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self.ttl = ttl
        self._clock = clock
        self._waiting: dict[str, _Waiting] = {}

    async def open(self, state: str, *, user_id: str, check_id: str) -> None:
        """Remember ``state`` (as a hash) for this user's check."""
        digest = state_hash(state)
        binding = {"user": user_id, "check": check_id, "expires": self._clock() + self.ttl}
        await self._store.update_thread(keys.oauth_state(digest), binding, ttl=self.ttl)
        future: asyncio.Future[Secret] = asyncio.get_running_loop().create_future()
        self._waiting[digest] = _Waiting(user_id, check_id, future)

    async def wait(self, state: str) -> Secret:
        """The code for ``state``; ``SignInFailed(expired)`` after the state's lifetime."""
        digest = state_hash(state)
        try:
            async with asyncio.timeout(self.ttl):
                return await self._waiting[digest].future
        except TimeoutError:
            raise SignInFailed(Problem.EXPIRED) from None
        finally:
            self._waiting.pop(digest, None)

    async def deliver(self, state: str, *, code: str | None, error: str | None) -> Delivery:
        """Hand a callback's code (or error) to its check, at most once per ``state``."""
        if not state or len(state) > MAX_STATE_CHARS:
            return Delivery.UNKNOWN
        digest = state_hash(state)
        binding = await self._store.get_thread(keys.oauth_state(digest))
        expires = binding.get("expires")
        if not isinstance(expires, int | float) or expires < self._clock():
            return Delivery.UNKNOWN
        if not await self._store.claim(keys.oauth_state_used(digest), self.ttl):
            return Delivery.USED
        waiting = self._waiting.get(digest)
        if (
            waiting is None
            or waiting.future.done()
            or (binding.get("user"), binding.get("check")) != (waiting.user_id, waiting.check_id)
        ):
            return Delivery.ELSEWHERE
        if error is not None or not code:
            waiting.future.set_exception(SignInFailed.from_error(provider_error({"error": error})))
            return Delivery.FAILED
        waiting.future.set_result(Secret(code))
        return Delivery.DONE
