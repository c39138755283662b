"""manifest.yml validates against Slack's published manifest schema (vendored from
slackapi/manifest-schema in tests/support/slack_manifest_schema) and declares what the
code relies on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from bot import messages
from handlers.shortcuts import CALLBACK_ID

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads(
    (ROOT / "tests/support/slack_manifest_schema/manifest.schema.1.0.0.json").read_text()
)


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "manifest.yml").read_text())
    return loaded


def test_manifest_validates_against_the_schema() -> None:
    """Slack's schema accepts the manifest: required fields, lengths, enums, no stray keys."""
    jsonschema.validate(manifest(), SCHEMA)


@pytest.mark.parametrize(
    "break_it",
    [
        lambda m: m["display_information"].pop("name"),
        lambda m: m["features"]["assistant_view"].pop("assistant_description"),
        lambda m: m["features"]["assistant_view"]["suggested_prompts"].append({"title": "x"}),
        lambda m: m["features"].update(assistant={"x": 1}),
        lambda m: m["settings"]["interactivity"].pop("is_enabled"),
    ],
)
def test_the_schema_refuses_broken_manifests(break_it: Any) -> None:
    """The check can fail: a missing required field or an unknown key is refused."""
    broken = manifest()
    break_it(broken)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)


def test_manifest_declares_what_the_code_uses() -> None:
    """Scopes, events and surfaces the handlers depend on are all declared."""
    m = manifest()
    scopes = set(m["oauth_config"]["scopes"]["bot"])
    assert {"assistant:write", "users:read", "chat:write", "im:write", "commands"} <= scopes
    events = set(m["settings"]["event_subscriptions"]["bot_events"])
    assert {"assistant_thread_started", "assistant_thread_context_changed"} <= events
    assert {"app_mention", "message.im", "app_home_opened"} <= events
    prompts = m["features"]["assistant_view"]["suggested_prompts"]
    assert [p["title"] for p in prompts] == [title for title, _ in messages.ASSISTANT_PROMPTS]
    assert m["features"]["shortcuts"][0]["callback_id"] == CALLBACK_ID
