"""The "More" menu of a message with more than three buttons (``kit.compact_buttons``).

Each option carries the action id and value of the button it stands for; choosing it
runs that button's listener exactly as a click would, with the same checks.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from handlers.blocks import kit

Listener = Callable[..., Awaitable[None]]
Routes = list[tuple[re.Pattern[str], Listener]]


def menu_listener(routes: Routes) -> Listener:
    """A listener for ``kit.ACTION_MORE`` that dispatches to the chosen button's listener."""

    async def on_choose(
        ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
    ) -> None:
        chosen = body["actions"][0].get("selected_option") or {}
        action_id, value = kit.parse_menu_value(str(chosen.get("value", "")))
        listener = next((fn for pattern, fn in routes if pattern.fullmatch(action_id)), None)
        if listener is None:
            await ack()
            return
        clicked = {**body, "actions": [{"type": "button", "action_id": action_id, "value": value}]}
        await listener(ack=ack, body=clicked, client=client, context=context)

    return on_choose


def register(app: AsyncApp, routes: Routes) -> None:
    app.action(kit.ACTION_MORE)(menu_listener(routes))
