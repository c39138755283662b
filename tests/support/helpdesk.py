"""Helpers for help-thread tests: send DM/channel messages and click help buttons
through the real HTTP endpoint, and read the buttons of what the bot posted."""

from __future__ import annotations

import itertools
from typing import Any

from handlers.blocks import kit
from tests.support import slack_signing as signing
from tests.support.fake_slack import Call
from tests.support.harness import Running

ALICE = "U0ALICE"
DM = "D0ALICE"
_event_ids = itertools.count(1)


def next_event_id() -> str:
    return f"EvHelp{next(_event_ids):05d}"


async def send_message(
    bot: Running,
    text: str,
    *,
    ts: str,
    thread_ts: str | None = None,
    channel: str = DM,
    channel_type: str = "im",
    user: str | None = ALICE,
    kind: str = "message",
    **extra: Any,
) -> None:
    """A message (or ``kind="app_mention"``) event, as Slack delivers it."""
    event: dict[str, Any] = {
        "type": kind,
        "channel": channel,
        "text": text,
        "ts": ts,
        "event_ts": ts,
    }
    if kind == "message":
        event["channel_type"] = channel_type
    if user is not None:
        event["user"] = user
    if thread_ts is not None:
        event["thread_ts"] = thread_ts
    event.update(extra)
    status, _ = await bot.event(event, event_id=next_event_id())
    assert status == 200


async def next_post(bot: Running, before: int) -> dict[str, Any]:
    """The parameters of chat.postMessage number ``before + 1``."""
    calls = await bot.slack.wait_for("chat.postMessage", before + 1)
    return calls[before].params


def posts(bot: Running) -> int:
    return len(bot.slack.of("chat.postMessage"))


def buttons(params: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every button of a message or view, by its label. Each carries where it was
    posted (``_channel``, ``_thread_ts``, ``_ts``), so ``click`` sends the container
    Slack would."""
    found: dict[str, dict[str, Any]] = {}
    where = {
        "_channel": params.get("channel"),
        "_thread_ts": params.get("thread_ts"),
        "_ts": params.get("ts"),
    }
    for block in params.get("blocks") or []:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element["type"] in ("overflow", "static_select"):  # the "More" menu
                for option in element["options"]:
                    menu = {"action_id": element["action_id"], "_option": option}
                    value = kit.parse_menu_value(option["value"])[1]
                    found[option["text"]["text"]] = {**menu, "value": value, **where}
            else:
                found[element["text"]["text"]] = {**element, **where}
    return found


def visible_buttons(params: dict[str, Any]) -> int:
    """How many buttons a message shows (menu options not counted)."""
    return sum(
        element["type"] == "button"
        for block in params.get("blocks") or []
        if block.get("type") == "actions"
        for element in block["elements"]
    )


def text_of(params: dict[str, Any]) -> str:
    """All mrkdwn/plain text of a message's blocks plus its fallback text."""
    parts = [str(params.get("text", ""))]
    for block in params.get("blocks") or []:
        if "text" in block:
            parts.append(block["text"]["text"])
        for element in block.get("elements", []):
            if isinstance(element.get("text"), str):
                parts.append(element["text"])
            elif isinstance(element.get("text"), dict):
                parts.append(element["text"]["text"])
    return "\n".join(parts)


async def click(
    bot: Running, button: dict[str, Any], *, user: str = ALICE, channel: str | None = None
) -> None:
    """Click ``button`` as ``user`` in the message it was posted in (``channel`` for a
    button of an ephemeral answer, which has none)."""
    payload = signing.block_action(
        button["action_id"],
        button["value"],
        user_id=user,
        channel_id=channel or button.get("_channel") or DM,
        thread_ts=button.get("_thread_ts"),
        message_ts=button.get("_ts") or "1.0",
    )
    if "_option" in button:  # an option of the "More" menu, chosen
        payload["actions"][0].update(type="overflow", selected_option=button["_option"])
    status, _ = await bot.interact(payload)
    assert status == 200


def last(calls: list[Call]) -> dict[str, Any]:
    return calls[-1].params
