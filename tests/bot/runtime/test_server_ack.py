"""The fast ack path: the HTTP response leaves when the listener acks, not when
Bolt's dispatch returns; what keeps per-request work off that path stays in place."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import cast

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.runtime.deps import Deps
from bot.runtime.server import EVENTS_PATH, make_web_app
from bot.runtime.wiring import Bot, make_client
from bot.store import MemoryStore
from bot.store.base import CheckRecord
from tests.support import harness
from tests.support.harness import running_bot

Dispatch = Callable[[AsyncBoltRequest], Awaitable[BoltResponse]]


class StubBolt:
    """Stands in for ``AsyncApp``: only ``async_dispatch``, with a scripted behaviour."""

    def __init__(self, dispatch: Dispatch) -> None:
        self.async_dispatch = dispatch


@asynccontextmanager
async def serving(dispatch: Dispatch) -> AsyncIterator[str]:
    """``make_web_app`` around a stub Bolt on 127.0.0.1 port 0; yields the events URL."""
    bot = Bot(
        app=cast(AsyncApp, StubBolt(dispatch)),
        deps=cast(Deps, None),  # the events route never touches them
        client=cast(AsyncWebClient, None),
        notify_interrupted=cast(Callable[[CheckRecord], Awaitable[None]], None),
    )
    runner = web.AppRunner(make_web_app(bot), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}{EVENTS_PATH}"
    finally:
        await runner.cleanup()


async def post(url: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=b"payload=%7B%7D", headers={"Content-Type": "text/plain"}) as r,
    ):
        return r.status, await r.text()


async def test_response_leaves_when_the_listener_acks_while_dispatch_is_still_running() -> None:
    """The ack's response reaches Slack even though Bolt's dispatch has not returned."""
    release = asyncio.Event()

    async def dispatch(request: AsyncBoltRequest) -> BoltResponse:
        ack = request.context.ack
        response = await ack(text="on it")
        await release.wait()  # Bolt would still be polling / the listener still working
        return response

    async with serving(dispatch) as url:
        try:
            status, body = await asyncio.wait_for(post(url), 10)
        finally:
            release.set()
    assert (status, body) == (200, "on it")


async def test_bolt_response_is_used_when_nothing_acks() -> None:
    """A request Bolt answers itself (bad signature, duplicate event) gets Bolt's response."""

    async def dispatch(request: AsyncBoltRequest) -> BoltResponse:
        return BoltResponse(status=401, body="invalid request")

    async with serving(dispatch) as url:
        assert await post(url) == (401, "invalid request")


async def test_error_before_the_ack_is_a_server_error() -> None:
    """A dispatch that fails before acking answers 500, as it did without the fast path."""

    async def dispatch(request: AsyncBoltRequest) -> BoltResponse:
        raise RuntimeError("broken before ack")

    async with serving(dispatch) as url:
        status, _ = await post(url)
    assert status == 500


async def test_error_after_the_ack_keeps_the_ack_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A failure after the ack leaves the ack's response intact and is logged, not lost."""
    failed = asyncio.Event()

    async def dispatch(request: AsyncBoltRequest) -> BoltResponse:
        await request.context.ack(text="acked")
        await asyncio.sleep(0)
        failed.set()
        raise RuntimeError("broken after ack")

    async with serving(dispatch) as url:
        assert await post(url) == (200, "acked")
        await asyncio.wait_for(failed.wait(), 10)
        await asyncio.sleep(0.05)  # let the done-callback run
    assert "Slack request failed after its ack" in caplog.text


async def test_real_listener_ack_arrives_before_its_work_finishes(store: MemoryStore) -> None:
    """Through real Bolt: a command's ack text comes back while the listener still works,
    and the listener then runs to completion."""
    release = asyncio.Event()
    finished = asyncio.Event()
    async with running_bot(store) as running:

        async def slow(ack: AsyncAck) -> None:
            await ack(text="working on it")
            await release.wait()
            finished.set()

        running.bot.app.command("/slowperf")(slow)
        try:
            status, body = await asyncio.wait_for(running.command(command="/slowperf"), 10)
            assert (status, body) == (200, "working on it")
            assert not finished.is_set()
        finally:
            release.set()
        await asyncio.wait_for(finished.wait(), 10)


async def test_smtpcheck_still_acks_and_opens_the_modal_with_the_trigger(
    store: MemoryStore,
) -> None:
    """The /smtpcheck path is unchanged by the fast ack: 200, then views.open with the trigger."""
    async with running_bot(store) as running:
        status, _ = await running.command(trigger_id="trigger-perf")
        assert status == 200
        calls = await running.slack.wait_for("views.open")
    assert calls[-1].params["trigger_id"] == "trigger-perf"


def test_client_logger_has_an_explicit_level_of_info_or_above() -> None:
    """slack_sdk builds its payload DEBUG lines whenever its logger's own level is
    NOTSET/DEBUG; the bot's client logger never is, even with the root at DEBUG."""
    root = logging.getLogger()
    before = root.level
    root.setLevel(logging.DEBUG)
    try:
        client = make_client(harness.test_settings("http://127.0.0.1:9/api/"))
    finally:
        root.setLevel(before)
    assert client.logger.level >= logging.INFO


async def test_startup_heap_is_frozen_out_of_the_cyclic_collector(store: MemoryStore) -> None:
    """After the server starts, its long-lived start-up objects are frozen (no full
    collection walks them under load)."""
    async with running_bot(store):
        assert gc.get_freeze_count() > 0
