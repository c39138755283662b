"""Redis-only behaviour: failures become StoreUnavailable fast, the factory, key layout."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from bot.config import Settings
from bot.errors import StoreUnavailable
from bot.secret import Secret
from bot.store import CheckState, MemoryStore, RedisStore, make_store
from tests.bot.store.support import (
    REDIS_HOST,
    closed_port,
    drop_namespace,
    redis_client,
    require_redis,
    scan_ttls,
)
from tests.bot.store.test_contract import DAY, record

CANARY = "canary-redis-pw-7f3a"


@pytest.fixture
async def namespace() -> AsyncIterator[str]:
    """A per-test namespace on the real Redis, dropped afterwards."""
    require_redis()
    name = f"test-{uuid.uuid4().hex}"
    yield name
    await drop_namespace(name)


async def test_redis_down_fails_fast_and_quietly() -> None:
    """A Redis nobody listens on gives StoreUnavailable in under 3 s, without the URL's password."""
    url = f"redis://:{CANARY}@{REDIS_HOST}:{closed_port()}/0"
    store = make_store(Settings(redis_url=Secret(url)))
    try:
        for call in (store.ping(), store.claim("k", 10), store.peek("k", window=9, limit=1)):
            started = time.monotonic()
            with pytest.raises(StoreUnavailable) as caught:
                await call
            assert time.monotonic() - started < 3.0
            assert CANARY not in str(caught.value)
            assert CANARY not in repr(caught.value.__cause__)
    finally:
        await store.close()


async def test_silent_redis_times_out() -> None:
    """A server that accepts but never answers is given up on within 3 s, not waited on."""
    connections: list[asyncio.StreamWriter] = []

    async def swallow(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)

    server = await asyncio.start_server(swallow, REDIS_HOST, 0)
    port = server.sockets[0].getsockname()[1]
    store = make_store(Settings(redis_url=Secret(f"redis://{REDIS_HOST}:{port}/0")))
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            await store.claim("k", 10)
        assert time.monotonic() - started < 3.0
    finally:
        await store.close()
        for writer in connections:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_redis_command_errors_become_store_unavailable(namespace: str) -> None:
    """A Redis error reply (here WRONGTYPE) is translated too, never leaked as a redis type."""
    client = redis_client()
    await client.set(f"{namespace}:rate:u", "not a zset", ex=60)
    store = RedisStore(client, namespace=namespace)
    try:
        with pytest.raises(StoreUnavailable, match="ResponseError"):
            await store.hit("u", window=60, limit=5)
    finally:
        await store.close()


async def test_make_store_picks_backend() -> None:
    """No REDIS_URL gives the memory store; a URL gives a working Redis store."""
    memory = make_store(Settings())
    assert isinstance(memory, MemoryStore)
    await memory.close()
    require_redis()
    namespace = f"test-{uuid.uuid4().hex}"
    store = make_store(
        Settings(redis_url=Secret(f"redis://{REDIS_HOST}:6379/0")), namespace=namespace
    )
    try:
        assert isinstance(store, RedisStore)
        await store.ping()
        assert await store.claim("k", 10)
        assert not await store.claim("k", 10)
    finally:
        await store.close()
        await drop_namespace(namespace)


async def test_bytes_client_works(namespace: str) -> None:
    """A client without decode_responses (bytes replies) gives the same results."""
    store = RedisStore(redis_client(decode_responses=False), namespace=namespace)
    try:
        await store.save_check(record("c1"))
        assert await store.get_check("c1") == record("c1")
        assert [r.check_id for r in await store.list_in_flight()] == ["c1"]
        assert [r.check_id for r in await store.list_checks("U1")] == ["c1"]
        await store.update_thread("t", {"a": 1})
        assert await store.update_thread("t", {"b": 2}) == {"a": 1, "b": 2}
        await store.record_error("r1", DAY)
        assert await store.error_counts([DAY]) == {"r1": 1}
        await store.record_event("ev", "U1", DAY)
        assert await store.distinct_users("ev", [DAY]) == 1
        assert await store.event_counts("ev", [DAY]) == {DAY: 1}
    finally:
        await store.close()


async def test_key_layout_is_namespaced(namespace: str) -> None:
    """Keys read <namespace>:<kind>:<...> and never contain the username."""
    store = RedisStore(redis_client(), namespace=namespace)
    try:
        await store.save_check(record("c1"))
        await store.mark_check("c1", CheckState.DONE, updated_at=200.0)
        await store.update_thread("D1:1.2", {"provider": "gmail"})
        await store.claim("event:Ev1", 60)
        keys = set(await scan_ttls(namespace))
    finally:
        await store.close()
    assert keys == {
        f"{namespace}:check:c1",
        f"{namespace}:checks-by-user:U1",
        f"{namespace}:thread:D1:1.2",
        f"{namespace}:claim:event:Ev1",
    }
