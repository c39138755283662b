"""Slack's assistant surface ("Agents & AI apps" split view), through Bolt's
``AsyncAssistant`` middleware rather than hand-written routing.

- ``assistant_thread_started``: a greeting and suggested prompts;
- ``assistant_thread_context_changed``: the channel the user is looking at, kept with
  the thread's state (the answer does not depend on it, but a live check started there
  can say where it came from);
- a message in an assistant thread: a status while working ("Looking that up...",
  "Checking smtp.example.com..."), a title from the first question, then the same
  answer a DM thread gets (``help_thread.answer_message``); a server named on its own
  gets the live check offered, prefilled with it.

Bolt treats every threaded DM message as an assistant-thread message, so DM threads
keep working exactly as before: they go through the same answer, plus a status.
"""

from __future__ import annotations

import contextlib
from typing import Any, Final

from slack_bolt.async_app import AsyncApp, AsyncAssistant, AsyncSay
from slack_bolt.context.set_status.async_set_status import AsyncSetStatus
from slack_bolt.context.set_suggested_prompts.async_set_suggested_prompts import (
    AsyncSetSuggestedPrompts,
)
from slack_bolt.context.set_title.async_set_title import AsyncSetTitle
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import conversation, messages
from bot.errors import StoreUnavailable
from bot.redaction import redact_credentials
from bot.runtime.deps import deps_of
from handlers import events
from handlers import help_thread as threads
from handlers.blocks import kit
from handlers.commands import classify

CONTEXT_FIELD: Final = "assistant_context"  # where the user is looking, per thread
TITLE_MAX: Final = 60

assistant = AsyncAssistant()


@assistant.thread_started
async def start(
    say: AsyncSay, set_suggested_prompts: AsyncSetSuggestedPrompts, context: dict[str, Any]
) -> None:
    """Greet and suggest what people ask most."""
    await say(text=messages.ASSISTANT_GREETING)
    prompts = [{"title": title, "message": text} for title, text in messages.ASSISTANT_PROMPTS]
    await set_suggested_prompts(prompts=prompts, title=messages.ASSISTANT_PROMPTS_TITLE)


@assistant.thread_context_changed
async def context_changed(payload: dict[str, Any], context: dict[str, Any]) -> None:
    """Keep the channel the user switched to with the thread's state."""
    thread = payload.get("assistant_thread") or {}
    key = conversation.help_thread_key(str(thread.get("channel_id")), str(thread.get("thread_ts")))
    seen = thread.get("context") or {}
    where = {k: str(v) for k, v in seen.items() if k in ("channel_id", "team_id") and v}
    with contextlib.suppress(StoreUnavailable):  # nothing depends on it yet
        await deps_of(context).store.update_thread(key, {CONTEXT_FIELD: where})


def working_status(text: str) -> str:
    """What the status line says while the answer is prepared."""
    args = classify(text)
    if args.kind in ("email", "target"):
        return messages.ASSISTANT_CHECKING.format(target=args.value[:80])
    return messages.ASSISTANT_LOOKING


@assistant.user_message
async def user_message(
    payload: dict[str, Any],
    client: AsyncWebClient,
    set_status: AsyncSetStatus,
    set_title: AsyncSetTitle,
    context: dict[str, Any],
) -> None:
    """Status, title (first message only), then the help-thread answer."""
    if not events.from_a_person(payload, context.get("bot_user_id")):
        return
    text = threads.strip_mentions(str(payload.get("text", "")))
    deps = deps_of(context)
    if not text or not await events.first_answer(deps, payload):
        return
    # A DM thread that is not an assistant thread refuses these: the answer matters more.
    with contextlib.suppress(SlackApiError):
        await set_status(working_status(text))
    key = conversation.help_thread_key(str(payload["channel"]), str(payload["thread_ts"]))
    try:
        first = not (await deps.store.get_thread(key)).get(threads.QUESTION_FIELD)
    except StoreUnavailable:
        first = False
    if first:
        with contextlib.suppress(SlackApiError):
            await set_title(kit.clip(redact_credentials(text).text, TITLE_MAX))
    user, asked = str(payload["user"]), classify(text)
    if asked.kind == "target":  # "Checking smtp.example.com...": offer exactly that
        await threads.offer_check(
            client, deps, key=key, user=user, host=asked.value, port=asked.port
        )
        return
    await threads.answer_message(client, deps, key=key, user=user, text=text)


def register(app: AsyncApp) -> None:
    app.assistant(assistant)
