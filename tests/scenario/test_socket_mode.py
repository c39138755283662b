"""Socket Mode end to end: Bolt's aiohttp Socket Mode handler against a fake Socket
Mode server (apps.connections.open returns a ws:// URL to the fake Slack on port 0),
which sends an envelope and expects its ack; the event is then answered as in HTTP."""

from __future__ import annotations

import asyncio

from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

from bot.resolver import make_resolver
from bot.runtime.wiring import build_app
from bot.secret import Secret
from bot.store import MemoryStore
from tests.support.fake_slack import FakeSlack
from tests.support.harness import test_settings as settings_for
from tests.support.helpdesk import DM, next_event_id


async def test_an_envelope_is_acked_and_answered(store: MemoryStore) -> None:
    """The bot acks the envelope by its id and answers the DM question in its thread."""
    slack = await FakeSlack().start()
    settings = settings_for(
        slack.api_url, slack_signing_secret=None, slack_app_token=Secret("xapp-test-token")
    )
    bot = build_app(settings, store=store, resolver=make_resolver(settings.dns_servers))
    handler = AsyncSocketModeHandler(bot.app, "xapp-test-token", web_client=bot.client)
    try:
        await handler.connect_async()  # type: ignore[no-untyped-call]
        event = {
            "type": "message",
            "channel_type": "im",
            "channel": DM,
            "user": "U0ALICE",
            "text": "my email keeps saying authentication failed",
            "ts": "1800.1",
        }
        payload = {
            "token": "legacy-unused",
            "team_id": "T0TEST",
            "api_app_id": "A0APP",
            "event": event,
            "type": "event_callback",
            "event_id": next_event_id(),
            "event_time": 1,
            "authorizations": [{"team_id": "T0TEST", "user_id": "U0BOT", "is_bot": True}],
        }
        await slack.socket_outbox.put(
            {
                "envelope_id": "env-1",
                "type": "events_api",
                "payload": payload,
                "accepts_response_payload": False,
                "retry_attempt": 0,
                "retry_reason": "",
            }
        )
        answer = (await slack.wait_for("chat.postMessage"))[0].params
        for _ in range(100):
            if slack.socket_acks:
                break
            await asyncio.sleep(0.05)
        assert slack.socket_acks and slack.socket_acks[0]["envelope_id"] == "env-1"
        assert (answer["channel"], answer["thread_ts"]) == (DM, "1800.1")
        assert slack.of("apps.connections.open")
    finally:
        await handler.disconnect_async()  # type: ignore[no-untyped-call]
        await handler.close_async()  # type: ignore[no-untyped-call]
        await slack.stop()
