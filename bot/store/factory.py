"""Pick the store from settings: Redis when REDIS_URL is set, memory otherwise."""

from __future__ import annotations

from typing import Final

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

from bot.config import Settings
from bot.store.base import Store
from bot.store.memory import MemoryStore
from bot.store.redis_store import RedisStore

# A dead or unreachable Redis must fail fast (checks are refused, fail closed)
# rather than hang a Slack request past its 3 s window.
REDIS_TIMEOUT: Final = 1.0


def make_store(settings: Settings, *, namespace: str = "smtpcheck") -> Store:
    """The store for this process; call ``await store.close()`` at shutdown.

    Building it does no I/O: a down Redis shows up as ``StoreUnavailable`` on use.
    """
    if settings.redis_url is None:
        return MemoryStore(namespace=namespace)
    client = aioredis.from_url(
        settings.redis_url.reveal(),
        socket_timeout=REDIS_TIMEOUT,
        socket_connect_timeout=REDIS_TIMEOUT,
        # One immediate retry, on connection errors only, covers a pooled connection
        # the server closed (restart, idle timeout). Timeouts are not retried: a
        # silent Redis costs one REDIS_TIMEOUT, not several.
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
        decode_responses=True,
    )
    return RedisStore(client, namespace=namespace)
