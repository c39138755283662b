"""Socket Mode end to end with the real process: ``python -m bot`` with
``SLACK_APP_TOKEN`` connects to the fake Socket Mode server (``apps.connections.open``
hands out its ws:// URL), acks a slash command envelope with the answer as its
response payload, acks an event envelope and answers it through the Web API, and stops
cleanly on SIGTERM with no secret in its log."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

from bot import messages
from tests.e2e.processes import free_port, wait_until
from tests.e2e.test_startup import bot_process, environment
from tests.support.fake_slack import FakeSlack

APP_TOKEN = "xapp-socket-e2e-token"


def envelope(envelope_id: str, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "envelope_id": envelope_id,
        "type": kind,
        "payload": payload,
        "accepts_response_payload": kind == "slash_commands",
        "retry_attempt": 0,
        "retry_reason": "",
    }


def acked(slack: FakeSlack, envelope_id: str) -> dict[str, Any] | None:
    return next((a for a in slack.socket_acks if a.get("envelope_id") == envelope_id), None)


async def test_real_process_serves_commands_and_events_over_socket_mode(tmp_path: Path) -> None:
    """The command is answered in its ack; the DM question gets its threaded answer."""
    slack = await FakeSlack().start()
    log = tmp_path / "bot.log"
    env = environment(slack.api_url, free_port(), SLACK_APP_TOKEN=APP_TOKEN)
    try:
        async with bot_process(env, log) as process:
            await slack.wait_for("apps.connections.open", within=40)
            command = {
                "token": "legacy-unused",
                "team_id": "T0TEST",
                "channel_id": "C0NOTJOINED",
                "user_id": "U0ALICE",
                "command": "/smtpcheck",
                "text": "help",
                "trigger_id": "trigger-socket",
                "response_url": slack.hook_url + "commands/socket",
                "api_app_id": "A0APP",
            }
            await slack.socket_outbox.put(envelope("env-cmd", "slash_commands", command))
            await wait_until(lambda: acked(slack, "env-cmd") is not None, "command ack", within=20)
            ack = acked(slack, "env-cmd")
            assert ack is not None and ack["payload"]["text"] == messages.USAGE
            event = {
                "type": "message",
                "channel_type": "im",
                "channel": "D0ALICE",
                "user": "U0ALICE",
                "text": "my email keeps saying authentication failed",
                "ts": "1900.1",
            }
            callback = {
                "token": "legacy-unused",
                "team_id": "T0TEST",
                "api_app_id": "A0APP",
                "event": event,
                "type": "event_callback",
                "event_id": "EvSocketE2E1",
                "event_time": 1,
                "authorizations": [{"team_id": "T0TEST", "user_id": "U0BOT", "is_bot": True}],
            }
            await slack.socket_outbox.put(envelope("env-event", "events_api", callback))
            answer = (await slack.wait_for("chat.postMessage", within=20))[0].params
            assert (answer["channel"], answer["thread_ts"]) == ("D0ALICE", "1900.1")
            assert acked(slack, "env-event") is not None
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 15) == 0
        text = log.read_text()
        assert "Traceback" not in text, text
        assert APP_TOKEN not in text and "xoxb-startup-test" not in text
        assert "will be unused" not in text  # no misleading start-up warning
    finally:
        await slack.stop()
