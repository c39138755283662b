"""End to end with real OS processes: ``python -m bot`` (HTTP mode, configured by
environment variables only, LOG_LEVEL=DEBUG) sharing one Redis database, a fake
Slack Web API and a gated aiosmtpd server in this process.

Proves what only separate processes can: a check admitted in one process is
deduplicated in another, SIGTERM drains, and a SIGKILLed check is closed out by
the next process to start, once, without re-running AUTH.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from bot import messages
from bot.runtime.server import DRAIN_MARGIN
from bot.runtime.wiring import PROBE_DEADLINE
from bot.store import RedisStore
from bot.store.base import CheckState
from tests.bot.store.support import dump_keys
from tests.e2e.processes import (
    BotProcess,
    Fleet,
    fleet,
    own_redis_db,
    redis_db,
    wait_until,
)
from tests.e2e.smtp import PASSWORD, USER, SmtpServer, smtp_server
from tests.support.fake_slack import FakeSlack
from tests.support.harness import form_values

CANARY = "Canary-proc-Wr0ng-7c31"
NAMESPACE = "smtpcheck"  # what make_store uses when the bot runs for real
DM = "D0ALICE"  # the fake Slack's DM channel for U0ALICE
INTERRUPTED_PREFIX = messages.INTERRUPTED.partition("{target}")[0]


@dataclasses.dataclass(slots=True)
class World:
    slack: FakeSlack
    smtp: SmtpServer
    redis: aioredis.Redis
    bots: Fleet


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with own_redis_db() as redis, smtp_server(tmp_path) as smtp:
        slack = await FakeSlack().start()
        try:
            async with fleet(slack.api_url, smtp, tmp_path) as bots:
                yield World(slack, smtp, redis, bots)
        finally:
            await slack.stop()


def values_for(world: World, password: str) -> dict[str, Any]:
    return form_values(
        host="127.0.0.1",
        port=str(world.smtp.port),
        security="starttls",
        username=USER,
        password=password,
    )


async def open_modal(world: World, bot: BotProcess) -> dict[str, Any]:
    """/smtpcheck from a channel; the view the bot opened, as the fake Slack got it."""
    before = len(world.slack.of("views.open"))
    hook = world.slack.hook_url + "commands/e2e"
    status, _ = await bot.command(channel_id="C0GENERAL", response_url=hook)
    assert status == 200
    calls = await world.slack.wait_for("views.open", before + 1, within=20)
    view: dict[str, Any] = calls[-1].params["view"]
    return view


def texts(slack: FakeSlack, method: str) -> list[str]:
    return [str(call.params.get("text", "")) for call in slack.of(method)]


def interrupted_notices(slack: FakeSlack) -> list[dict[str, Any]]:
    return [
        call.params
        for call in slack.of("chat.postMessage")
        if str(call.params.get("text", "")).startswith(INTERRUPTED_PREFIX)
    ]


async def test_two_processes_share_one_redis_and_leak_nothing(world: World) -> None:
    """Command to A, probe run by B, duplicates to A inert; canary in no log/Slack call/Redis."""
    a, b = await asyncio.gather(world.bots.start("a"), world.bots.start("b"))
    view = await open_modal(world, a)
    values = values_for(world, CANARY)
    assert await b.submit(view, values, view_id="V0001") == (200, "")
    # A double submit while the check runs, and a late retry after it: no effect.
    assert await a.submit(view, values, view_id="V0001") == (200, "")
    posts = await world.slack.wait_for("chat.postMessage", 3, within=40)
    assert await a.submit(view, values, view_id="V0001") == (200, "")

    parent, verdict = world.slack.of("chat.update")[-1].params, posts[-1].params
    assert "refused the sign-in" in parent["text"] and parent["channel"] == DM
    assert verdict["thread_ts"] == parent["ts"] and "Walk me through the fix" in json.dumps(verdict)
    # The pointer in the channel goes through the command's response_url, once.
    assert not world.slack.of("chat.postEphemeral")
    pointers = world.slack.of("response_url")
    assert [call.params["_path"] for call in pointers] == ["commands/e2e"]

    await wait_until(lambda: "admitted" in b.log(), "B's admission log line")
    assert "admitted" not in a.log()  # B ran it; A only deduplicated
    assert len(world.smtp.auth_commands) == 1
    assert world.smtp.logins == [(USER, False)]  # the canary reached the server, once
    assert len(world.slack.of("chat.postMessage")) == 3

    for bot in (a, b):
        log = bot.log()
        assert " DEBUG " in log, f"{bot.name} did not log at DEBUG"
        assert CANARY not in log, f"canary in {bot.name}'s log"
    assert CANARY not in world.slack.everything()
    dump = await dump_keys(world.redis)
    assert f"{NAMESPACE}:check:" in dump and CANARY not in dump


async def test_sigterm_drains_the_check_in_flight(world: World) -> None:
    """SIGTERM mid-AUTH: new checks refused, the running one posts its verdict, exit 0."""
    bot = await world.bots.start("drain")
    view = await open_modal(world, bot)
    world.smtp.hold_auth()
    assert await bot.submit(view, values_for(world, PASSWORD), view_id="V0001") == (200, "")
    await wait_until(lambda: len(world.smtp.auth_commands) == 1, "the AUTH command")

    bot.signal(signal.SIGTERM)
    stopped_at = time.monotonic()
    statuses: list[int | None] = []

    async def draining() -> bool:
        statuses.append(await bot.health())
        return statuses[-1] == 503

    while not await draining():
        assert time.monotonic() - stopped_at < 20, f"never drained: {statuses}"
        await asyncio.sleep(0.05)
    status, body = await bot.submit(view, values_for(world, PASSWORD), view_id="V0002")
    assert status == 200
    answer = json.loads(body)
    assert answer["response_action"] == "update"
    assert messages.REFUSED_DRAINING in json.dumps(answer["view"])

    world.smtp.release_auth()
    await world.slack.wait_for("chat.postMessage", 3, within=30)
    assert "Signed in successfully" in world.slack.of("chat.update")[-1].params["text"]
    assert await bot.exit_code(PROBE_DEADLINE + DRAIN_MARGIN) == 0
    assert time.monotonic() - stopped_at < PROBE_DEADLINE + DRAIN_MARGIN
    assert len(world.smtp.auth_commands) == 1  # the refused submission never probed
    assert world.smtp.logins == [(USER, True)]
    assert "did not finish before shutdown" not in bot.log()


async def test_killed_check_is_closed_out_once_by_the_next_process(world: World) -> None:
    """kill -9 during AUTH: the booked attempt stays counted; the check is swept once its
    process's lease lapses (never while it lives), its owner told once that the result is
    unknown, AUTH never re-run."""
    a = await world.bots.start("a")
    view = await open_modal(world, a)
    world.smtp.hold_auth(at_most=120)
    assert await a.submit(view, values_for(world, CANARY), view_id="V0001") == (200, "")
    await wait_until(lambda: len(world.smtp.auth_commands) == 1, "the AUTH command")
    a.signal(signal.SIGKILL)
    assert await a.exit_code(20) == -signal.SIGKILL
    assert [call.params["channel"] for call in world.slack.of("chat.postMessage")] == [DM]

    store = RedisStore(redis_db(), namespace=NAMESPACE)
    try:
        (record,) = await store.list_in_flight()
        assert record.state is CheckState.RUNNING and record.user_id == "U0ALICE"
        assert record.channel == DM and record.thread_ts  # the DM parent message

        # Young: it may belong to a live process sharing the store, so B keeps off.
        b = await world.bots.start("b")
        assert interrupted_notices(world.slack) == []
        assert [r.check_id for r in await store.list_in_flight()] == [record.check_id]

        # A's lease outlives it by up to LEASE_TTL (30 s): rather than wait that long,
        # let it lapse as the clock would have. B, alive, keeps its own lease.
        assert record.owner and record.auth_booked_at is not None and record.accounts
        assert await world.redis.delete(f"{NAMESPACE}:lease:{record.owner}") == 1
        b.signal(signal.SIGTERM)
        assert await b.exit_code(20) == 0

        await world.bots.start("c")
        await world.slack.wait_for("chat.postMessage", 2, within=20)
        (notice,) = interrupted_notices(world.slack)
        assert notice["channel"] == DM and notice["thread_ts"] == record.thread_ts
        assert f"127.0.0.1:{world.smtp.port}" in notice["text"]
        # The AUTH was on its way: never "did not sign in", and it stays counted.
        assert "do not know whether it worked" in notice["text"]
        for account in record.accounts:
            assert await store.count(f"auth-fail:{account}", window=900) == 1
        swept = await store.get_check(record.check_id)
        assert swept is not None and swept.state is CheckState.INTERRUPTED
        assert await store.list_in_flight() == []

        await world.bots.start("d")
        assert len(interrupted_notices(world.slack)) == 1
    finally:
        await store.close()
    assert len(world.smtp.auth_commands) == 1  # never re-run
    assert CANARY not in world.slack.everything()
    assert CANARY not in await dump_keys(world.redis)
    for bot in world.bots.bots:
        assert CANARY not in bot.log(), f"canary in {bot.name}'s log"


async def test_a_live_process_keeps_its_old_check_from_a_peer_sweep(world: World) -> None:
    """A's check stalls at AUTH past the sweep's age limit (its record aged as a long
    Slack stall would leave it): B, starting and sweeping, leaves it alone because A's
    lease lives; A then delivers its verdict, and no "interrupted" notice is ever sent."""
    a = await world.bots.start("a")
    view = await open_modal(world, a)
    world.smtp.hold_auth(at_most=120)
    assert await a.submit(view, values_for(world, PASSWORD), view_id="V0001") == (200, "")
    await wait_until(lambda: len(world.smtp.auth_commands) == 1, "the AUTH command")
    store = RedisStore(redis_db(), namespace=NAMESPACE)
    try:
        (record,) = await store.list_in_flight()
        old = time.time() - 1000
        await store.save_check(dataclasses.replace(record, updated_at=old, created_at=old))
        b = await world.bots.start("b")  # its start-up sweep has run
        (still,) = await store.list_in_flight()
        assert still.check_id == record.check_id and still.state is CheckState.RUNNING
        # The account's slot is still held: B refuses a second check on it.
        view_b = await open_modal(world, b)
        status, body = await b.submit(view_b, values_for(world, PASSWORD), view_id="V0002")
        assert status == 200 and "already running" in body
        world.smtp.release_auth()
        await world.slack.wait_for("chat.postMessage", 3, within=30)
        assert "Signed in successfully" in world.slack.of("chat.update")[-1].params["text"]
        done = await store.get_check(record.check_id)
        assert done is not None and done.state is CheckState.DONE
    finally:
        await store.close()
    assert interrupted_notices(world.slack) == []
    assert len(world.smtp.auth_commands) == 1
