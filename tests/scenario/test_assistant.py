"""The assistant split view end to end: signed events to the real endpoint, the fake
Slack recording assistant.threads.setStatus / setSuggestedPrompts / setTitle."""

from __future__ import annotations

import asyncio
from typing import Any

from bot import messages
from bot.store import MemoryStore
from handlers.assistant import CONTEXT_FIELD
from tests.support.harness import running_bot
from tests.support.helpdesk import (
    ALICE,
    DM,
    buttons,
    click,
    next_event_id,
    next_post,
    send_message,
    text_of,
)

THREAD = "1500.1"


def started(thread_ts: str = THREAD) -> dict[str, Any]:
    return {
        "type": "assistant_thread_started",
        "assistant_thread": {
            "user_id": ALICE,
            "context": {"channel_id": "C0GENERAL", "team_id": "T0TEST"},
            "channel_id": DM,
            "thread_ts": thread_ts,
        },
        "event_ts": thread_ts,
    }


async def test_thread_start_greets_and_suggests_prompts(store: MemoryStore) -> None:
    """assistant_thread_started: a greeting in the thread and the suggested prompts."""
    async with running_bot(store) as bot:
        bot.slack.assistant_threads.add((DM, THREAD))
        status, _ = await bot.event(started(), event_id=next_event_id())
        assert status == 200
        greeting = await next_post(bot, 0)
        assert (greeting["channel"], greeting["thread_ts"]) == (DM, THREAD)
        assert greeting["text"] == messages.ASSISTANT_GREETING
        prompts = (await bot.slack.wait_for("assistant.threads.setSuggestedPrompts"))[0].params
        titles = [p["title"] for p in prompts["prompts"]]
        assert "Why does Outlook keep asking for my password?" in titles
        assert "Check my mail server" in titles and "Explain an error" in titles


async def test_context_change_is_kept_with_the_thread(store: MemoryStore) -> None:
    """assistant_thread_context_changed stores the channel the user looks at."""
    async with running_bot(store) as bot:
        event = started()
        event["type"] = "assistant_thread_context_changed"
        event["assistant_thread"]["context"]["channel_id"] = "C0OTHER"
        await bot.event(event, event_id=next_event_id())
        for _ in range(50):
            state = await store.get_thread(f"{DM}:{THREAD}")
            if CONTEXT_FIELD in state:
                break
            await asyncio.sleep(0.05)
        assert state[CONTEXT_FIELD] == {"channel_id": "C0OTHER", "team_id": "T0TEST"}


async def test_a_question_gets_status_title_and_the_answer(store: MemoryStore) -> None:
    """A message in the assistant thread: "Looking that up..." while working, a title
    from the first question, then the help answer in the thread; an address says
    "Checking ..."; the title is set once."""
    async with running_bot(store) as bot:
        bot.slack.assistant_threads.add((DM, THREAD))
        question = "Why does Outlook keep asking for my password?"
        await send_message(bot, question, ts="1500.2", thread_ts=THREAD)
        answer = await next_post(bot, 0)
        assert answer["thread_ts"] == THREAD and "Step 1 of" in text_of(answer)
        status = (await bot.slack.wait_for("assistant.threads.setStatus"))[0].params
        assert status["status"] == messages.ASSISTANT_LOOKING
        assert status["thread_ts"] == THREAD
        title = (await bot.slack.wait_for("assistant.threads.setTitle"))[0].params
        assert title["title"] == question
        await send_message(
            bot, "<http://smtp.example.com:587|smtp.example.com:587>", ts="1500.3", thread_ts=THREAD
        )
        offer = await next_post(bot, 1)
        statuses = await bot.slack.wait_for("assistant.threads.setStatus", 2)
        assert statuses[1].params["status"] == "Checking smtp.example.com..."
        assert len(bot.slack.of("assistant.threads.setTitle")) == 1
        # What the status promised: the live check of that server, one click away.
        assert offer["thread_ts"] == THREAD and "`smtp.example.com:587`" in offer["text"]
        await click(bot, buttons(offer)["Run a live check"])
        view = (await bot.slack.wait_for("views.open"))[0].params["view"]
        values = {
            b["block_id"]: b["element"].get("initial_value")
            for b in view["blocks"]
            if b["type"] == "input"
        }
        assert (values["host"], values["port"], values["password"]) == (
            "smtp.example.com",
            "587",
            None,
        )


async def test_plain_dm_threads_and_mentions_keep_working(store: MemoryStore) -> None:
    """Outside an assistant thread Slack refuses the status calls; the answer still
    comes, once, for DM threads, top-level DMs and mentions."""
    async with running_bot(store) as bot:
        await send_message(bot, "my email keeps saying authentication failed", ts="1600.1")
        await next_post(bot, 0)
        await send_message(bot, "I use Gmail", ts="1600.2", thread_ts="1600.1")
        assert "Steps for Gmail." in text_of(await next_post(bot, 1))
        await send_message(
            bot,
            "<@U0BOT> smtp password rejected",
            ts="1601.1",
            channel="C0GENERAL",
            kind="app_mention",
        )
        assert (await next_post(bot, 2))["channel"] == "C0GENERAL"
        assert len(bot.slack.of("chat.postMessage")) == 3
