"""The escalation webhook end to end: "Talk to a human" through the signed endpoint,
a local aiohttp receiver on port 0 checking the HMAC signature, retries with backoff,
and failures shown to admins."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiohttp import web

from bot.helpdesk import webhook
from bot.secret import Secret
from bot.store import MemoryStore
from tests.support.harness import running_bot
from tests.support.helpdesk import buttons, click, next_post, send_message, text_of

SECRET = "webhook-signing-secret-123"


@asynccontextmanager
async def receiver(statuses: list[int]) -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """Answers each POST with the next status (the last one repeats); records them."""
    received: list[dict[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        received.append({"headers": dict(request.headers), "body": body})
        return web.Response(status=statuses[min(len(received), len(statuses)) - 1])

    app = web.Application()
    app.router.add_post("/tickets", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/tickets", received
    finally:
        await runner.cleanup()


def settings(url: str) -> dict[str, Any]:
    return {
        "escalation_webhook": Secret(url),
        "escalation_webhook_secret": Secret(SECRET),
        "admins": frozenset({"U0ADMIN"}),
    }


async def escalate(bot: Any) -> None:
    await send_message(bot, "how do I change my slack password", ts="1900.1")
    unsure = await next_post(bot, 0)
    await click(bot, buttons(unsure)["Talk to a human"])


async def wait_until(predicate: Any) -> None:
    import asyncio

    for _ in range(200):
        if await predicate():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition never held")


async def test_escalation_is_signed_and_retried(
    store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The receiver gets the secret-free summary as JSON with a valid HMAC-SHA256
    signature over timestamp and body; a 503 is retried until it is accepted."""
    monkeypatch.setattr(webhook, "FIRST_BACKOFF", 0.01)
    async with (
        receiver([503, 503, 200]) as (url, received),
        running_bot(store, settings_changes=settings(url)) as bot,
    ):
        await escalate(bot)

        async def three() -> bool:
            return len(received) == 3

        await wait_until(three)
    last = received[-1]
    stamp = last["headers"][webhook.TIMESTAMP_HEADER]
    expected = hmac.new(SECRET.encode(), stamp.encode() + b"." + last["body"], hashlib.sha256)
    assert last["headers"][webhook.SIGNATURE_HEADER] == "v1=" + expected.hexdigest()
    assert abs(int(stamp) - time.time()) < 300
    body = json.loads(last["body"])
    assert body["type"] == "escalation" and body["kind"] == "thread"
    assert "needs help sending mail" in body["summary"] and SECRET not in last["body"].decode()
    assert await webhook.recent_failures(store) == []


async def test_failed_deliveries_are_shown_to_admins(
    store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A receiver that keeps failing: every attempt is made, then the failure (time and
    reason, no URL) is listed in /smtpcheck stats."""
    monkeypatch.setattr(webhook, "FIRST_BACKOFF", 0.01)
    async with (
        receiver([500]) as (url, received),
        running_bot(store, settings_changes=settings(url)) as bot,
    ):
        await escalate(bot)

        async def recorded() -> bool:
            return bool(await webhook.recent_failures(store))

        await wait_until(recorded)
        assert len(received) == webhook.ATTEMPTS
        _, answer = await bot.command("stats", user_id="U0ADMIN")
        shown = text_of(json.loads(answer))
    assert "did not accept" in shown and "HTTP 500 (after 4 tries)" in shown
    assert url not in shown
