"""App Home: what the bot does and a button that opens the check modal."""

from __future__ import annotations

from typing import Any, Final

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages
from handlers import blocks

ACTION_START: Final = "home_start_check"


def home_view() -> dict[str, Any]:
    button = {
        "type": "button",
        "action_id": ACTION_START,
        "text": {"type": "plain_text", "text": messages.HOME_START},
        "style": "primary",
    }
    return {
        "type": "home",
        "blocks": [
            blocks.section(messages.HOME_INTRO),
            {"type": "actions", "block_id": "home-actions", "elements": [button]},
            blocks.section(messages.USAGE),
        ],
    }


async def publish_home(event: dict[str, Any], client: AsyncWebClient) -> None:
    if event.get("tab") == "home":
        await client.views_publish(user_id=event["user"], view=home_view())


async def start_check(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
    """The Home button opens the (empty) probe modal; results go to the DM as usual."""
    await ack()
    view = blocks.probe_modal(blocks.Prefill(), origin_channel=None)
    await client.views_open(trigger_id=body["trigger_id"], view=view)


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(publish_home)
    app.action(ACTION_START)(start_check)
