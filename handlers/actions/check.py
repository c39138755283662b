"""Buttons under a check's verdict: walk through the fix, run again, talk to a human.

Buttons carry only the check id; whoever clicks must own the check.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages
from bot.runtime.deps import Deps, deps_of
from bot.runtime.private import tell_privately
from bot.store import keys
from bot.store.base import CheckRecord
from handlers.blocks import check, kit, modal, turns
from handlers.help_thread import escalate
from knowledge import provider_for_host


async def owned_check(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> tuple[Deps, CheckRecord] | None:
    """Ack, then the clicked check if the clicker owns it; otherwise tell them why not
    (ephemeral). Every button here starts with this gate."""
    await ack()
    deps = deps_of(context)
    user = body["user"]["id"]
    record = await deps.store.get_check(str(body["actions"][0]["value"]))
    if record is not None and record.user_id == user:
        return deps, record
    text = (
        messages.CHECK_GONE
        if record is None
        else messages.NOT_YOUR_CHECK.format(owner=record.user_id)
    )
    await tell_privately(AsyncRespond(response_url=body.get("response_url")), client, user, text)
    return None


async def reply_in_thread(
    client: AsyncWebClient, record: CheckRecord, text: str, body: list[kit.Block] | None = None
) -> None:
    await client.chat_postMessage(
        channel=str(record.channel), thread_ts=record.thread_ts, text=text, blocks=body
    )


async def handle_walk_through(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    """Post the diagnosed article's steps (the provider's variant when known)."""
    clicked = await owned_check(ack, body, client, context)
    if clicked is None:
        return
    deps, record = clicked
    state = await deps.store.get_thread(keys.check_followup(record.check_id))
    ids = [i for i in state.get("articles", []) if i in deps.kb.articles]
    if not ids:
        await reply_in_thread(
            client,
            record,
            messages.NOTHING_TO_FIX
            if record.outcome in ("authenticated", "reachable")
            else messages.CHECK_GONE,
        )
        return
    article = deps.kb.articles[ids[0]]
    provider = provider_for_host(deps.kb, record.host)
    text, message = turns.walkthrough_message(
        article.title, article.steps_for(provider.id if provider else None)
    )
    await reply_in_thread(client, record, text, message)


async def handle_run_again(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    """Reopen the modal with the same settings; the password is never kept, so it is empty."""
    clicked = await owned_check(ack, body, client, context)
    if clicked is None:
        return
    _, record = clicked
    prefill = modal.Prefill(
        host=record.host, port=record.port, security=record.security, username=record.username
    )
    sign_in = deps_of(context).sign_in_choices(record.host)
    await client.views_open(
        trigger_id=body["trigger_id"],
        view=modal.probe_modal(prefill, origin_channel=None, sign_in=sign_in),
    )


async def handle_talk_to_human(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    """Post a secret-free summary to the helpdesk channel, once per check."""
    clicked = await owned_check(ack, body, client, context)
    if clicked is None:
        return
    deps, record = clicked
    state = await deps.store.get_thread(keys.check_followup(record.check_id))
    summary = check.escalation_message(record, str(state.get("summary") or ""))
    reply = await escalate(
        client, deps, claim=keys.check_escalation(record.check_id), summary=summary
    )
    await reply_in_thread(client, record, reply)


def register(app: AsyncApp) -> None:
    app.action(check.ACTION_FIX)(handle_walk_through)
    app.action(check.ACTION_AGAIN)(handle_run_again)
    app.action(check.ACTION_HUMAN)(handle_talk_to_human)
