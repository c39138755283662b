"""Shared test helpers for the store and the rate limiter: a fake clock, a real
Redis on localhost (skipped when absent, a failure under CI) and a timeline that
moves time forward for either store."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass

import pytest
import redis.asyncio as aioredis

from bot.store import MemoryStore, RedisStore, Store

REDIS_HOST = "127.0.0.1"
REDIS_PORT = 6379


class FakeClock:
    """A monotonic clock that only moves when told to."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def redis_available() -> bool:
    """Whether a Redis answers on localhost; under CI its absence fails the run."""
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def require_redis() -> None:
    if redis_available():
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but no Redis listens on {REDIS_HOST}:{REDIS_PORT}")
    pytest.skip(f"no Redis on {REDIS_HOST}:{REDIS_PORT} (set CI=true to make this fail)")


def redis_client(*, decode_responses: bool = True) -> aioredis.Redis:
    return aioredis.Redis(
        host=REDIS_HOST,
        port=REDIS_PORT,
        decode_responses=decode_responses,
        socket_timeout=5,
        socket_connect_timeout=5,
    )


async def scan_ttls(namespace: str) -> dict[str, int]:
    """Every key under ``namespace`` -> its PTTL in ms (-1 means no expiry)."""
    client = redis_client()
    try:
        return {key: await client.pttl(key) async for key in client.scan_iter(f"{namespace}:*")}
    finally:
        await client.aclose()


async def drop_namespace(namespace: str) -> None:
    client = redis_client()
    try:
        keys = [key async for key in client.scan_iter(f"{namespace}:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@dataclass
class Timeline:
    """Moves a store's time forward: the fake clock for memory, real sleep for Redis.

    ``slack`` is how far a real-time measurement may drift from the ideal value.
    """

    clock: FakeClock | None
    slack: float

    async def advance(self, seconds: float) -> None:
        if self.clock is not None:
            self.clock.advance(seconds)
        else:
            await asyncio.sleep(seconds)


@dataclass
class StoreCase:
    """A store under test with its time control and (for Redis) its namespace."""

    kind: str
    store: Store
    timeline: Timeline
    namespace: str

    async def open_peer(self) -> Store:
        """A second store on the same data, as another process would see it."""
        if isinstance(self.store, RedisStore):
            return RedisStore(redis_client(), namespace=self.namespace)
        return self.store


async def open_case(kind: str) -> AsyncGenerator[StoreCase, None]:
    """Yield a fresh store of ``kind``; Redis data is namespaced per test and dropped."""
    namespace = f"test-{uuid.uuid4().hex}"
    if kind == "memory":
        clock = FakeClock()
        yield StoreCase(kind, MemoryStore(clock=clock), Timeline(clock, 1e-6), namespace)
        return
    require_redis()
    store = RedisStore(redis_client(), namespace=namespace)
    try:
        yield StoreCase(kind, store, Timeline(None, 0.5), namespace)
        ttls = await scan_ttls(namespace)
        assert all(ttl > 0 for ttl in ttls.values()), f"keys without a TTL: {ttls}"
    finally:
        await store.close()
        await drop_namespace(namespace)


def closed_port() -> int:
    """A loopback port nothing listens on: bind port 0, note it, close it."""
    with socket.socket() as sock:
        sock.bind((REDIS_HOST, 0))
        port: int = sock.getsockname()[1]
    return port


async def dump_keys(client: aioredis.Redis, match: str = "*") -> str:
    """Every key matching ``match`` and its value, as text, for canary searches."""
    parts: list[str] = []
    async for key in client.scan_iter(match=match):
        parts.append(key)
        kind = await client.type(key)
        if kind == "string":
            parts.append(str(await client.get(key)))
        elif kind == "hash":
            parts.append(json.dumps(await client.hgetall(key)))
        elif kind == "zset":
            parts.append(json.dumps(await client.zrange(key, 0, -1, withscores=True)))
        elif kind == "set":
            parts.append(json.dumps(sorted(await client.smembers(key))))
        elif kind == "list":
            parts.append(json.dumps(await client.lrange(key, 0, -1)))
        else:
            parts.append(f"<{kind!r}>")
    return "\n".join(parts)
