"""Build and sign the HTTP requests Slack sends to the bot (HMAC-SHA256, ``v0``).

Tests and ``bench/ack.py`` use these to talk to the real HTTP endpoint exactly as
Slack would: form-encoded slash commands, ``payload=`` interactivity bodies and
JSON event callbacks, each with ``X-Slack-Request-Timestamp`` and ``X-Slack-Signature``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

TEAM_ID = "T0TEST"


def signature(body: str, secret: str, timestamp: int) -> str:
    """The ``v0=`` signature Slack puts on a request."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    body: str, secret: str, *, timestamp: int | None = None, content_type: str
) -> dict[str, str]:
    """Headers for ``body`` signed with ``secret`` at ``timestamp`` (default: now)."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": signature(body, secret, ts),
    }


FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def command_body(
    text: str = "",
    *,
    user_id: str = "U0ALICE",
    channel_id: str = "C0GENERAL",
    trigger_id: str = "trigger-1",
    command: str = "/smtpcheck",
    response_url: str = "https://hooks.invalid/commands/1",
) -> str:
    """A form-encoded slash command invocation."""
    return urlencode(
        {
            "token": "legacy-unused",
            "team_id": TEAM_ID,
            "team_domain": "test",
            "channel_id": channel_id,
            "channel_name": "general",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0APP",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
    )


def interactive_body(payload: dict[str, Any]) -> str:
    """A form-encoded interactivity request (``payload=<json>``)."""
    return urlencode({"payload": json.dumps(payload)})


def view_submission(
    view: dict[str, Any],
    values: dict[str, Any],
    *,
    user_id: str = "U0ALICE",
    view_id: str = "V0001",
    view_hash: str = "h1",
) -> dict[str, Any]:
    """A ``view_submission`` payload for ``view`` (as captured from views.open) with
    ``values`` as its state: block_id -> {action_id: element state}."""
    submitted = dict(view)
    submitted.update({"id": view_id, "hash": view_hash, "state": {"values": values}})
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "test"},
        "user": {"id": user_id, "username": user_id.lower(), "team_id": TEAM_ID},
        "api_app_id": "A0APP",
        "token": "legacy-unused",
        "trigger_id": "trigger-submit",
        "view": submitted,
    }


def block_action(
    action_id: str,
    value: str,
    *,
    user_id: str = "U0ALICE",
    channel_id: str = "D0ALICE",
    message_ts: str = "1.0",
    trigger_id: str = "trigger-action",
    thread_ts: str | None = None,
) -> dict[str, Any]:
    """A ``block_actions`` payload for a button clicked in a message (``thread_ts``
    when the message is a reply in a thread)."""
    container: dict[str, Any] = {
        "type": "message",
        "channel_id": channel_id,
        "message_ts": message_ts,
    }
    message: dict[str, Any] = {"ts": message_ts, "text": ""}
    if thread_ts is not None:
        container["thread_ts"] = message["thread_ts"] = thread_ts
    return {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "test"},
        "user": {"id": user_id, "username": user_id.lower(), "team_id": TEAM_ID},
        "api_app_id": "A0APP",
        "token": "legacy-unused",
        "trigger_id": trigger_id,
        "container": container,
        "channel": {"id": channel_id},
        "message": message,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": "verdict-actions",
                "value": value,
                "action_ts": "2.0",
            }
        ],
        "response_url": "https://hooks.invalid/actions/1",
    }


def message_shortcut(
    text: str,
    *,
    user_id: str = "U0ALICE",
    channel_id: str = "C0GENERAL",
    callback_id: str = "explain_error",
    message_ts: str = "1.0",
) -> dict[str, Any]:
    """A ``message_action`` payload: a message shortcut used on a message."""
    return {
        "type": "message_action",
        "team": {"id": TEAM_ID, "domain": "test"},
        "user": {"id": user_id, "username": user_id.lower(), "team_id": TEAM_ID},
        "api_app_id": "A0APP",
        "token": "legacy-unused",
        "callback_id": callback_id,
        "trigger_id": "trigger-shortcut",
        "channel": {"id": channel_id, "name": "general"},
        "message_ts": message_ts,
        "message": {"type": "message", "user": "U0BOB", "ts": message_ts, "text": text},
        "response_url": "https://hooks.invalid/shortcuts/1",
    }


def event_body(event: dict[str, Any], *, event_id: str = "Ev0001") -> str:
    """A JSON Events API callback wrapping ``event``."""
    return json.dumps(
        {
            "token": "legacy-unused",
            "team_id": TEAM_ID,
            "api_app_id": "A0APP",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [
                {"team_id": TEAM_ID, "user_id": "U0BOT", "is_bot": True, "enterprise_id": None}
            ],
        }
    )
