"""Helpful / Not helpful under an answer: counted, and a "Not helpful" puts the
answer's question (redacted, no name) on the admins' review list: the question kept
under the button's token for an answer outside a thread (``/smtpcheck <question>``, the
message shortcut), else the thread's last question. An unknown or expired token lists
nothing (the vote still counts)."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages
from bot.errors import StoreUnavailable
from bot.helpdesk.feedback import Feedback
from bot.runtime.deps import deps_of
from bot.runtime.private import tell_privately
from handlers import help_thread as threads
from handlers.blocks import kit


def thread_of_click(body: dict[str, Any]) -> str | None:
    """The thread key of the message the vote was given in (None outside a thread)."""
    container = body.get("container") or {}
    channel, message = container.get("channel_id"), body.get("message") or {}
    ts = container.get("thread_ts") or message.get("thread_ts")
    return f"{channel}:{ts}" if channel and ts else None


async def handle_vote(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    await ack()
    deps, user = deps_of(context), str(body["user"]["id"])
    vote, _, token = kit.parse_feedback_value(str(body["actions"][0].get("value", "")))
    if vote not in (kit.VOTE_UP, kit.VOTE_DOWN):
        return
    helpful = vote == kit.VOTE_UP
    key = thread_of_click(body)
    feedback = Feedback(deps.store)
    try:
        question = None
        if not helpful and token is not None:  # never the thread's question instead
            question = await feedback.answered(token)
        elif not helpful and key:
            question = await threads.last_question(deps.store, key)
        await feedback.vote(helpful=helpful, question=question)
    except StoreUnavailable:
        pass  # the thanks still goes out; a lost vote is not worth an error
    thanks = messages.FEEDBACK_THANKS if helpful else messages.FEEDBACK_THANKS_DOWN
    await tell_privately(AsyncRespond(response_url=body.get("response_url")), client, user, thanks)


def register(app: AsyncApp) -> None:
    app.action(kit.ACTION_FEEDBACK)(handle_vote)
