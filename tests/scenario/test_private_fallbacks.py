"""When a ``response_url`` fails (an error status, or no answer in time), what was to be
said privately still arrives: the shortcut's explanation in the person's DM with the
bot (``conversations.open`` + ``chat.postMessage``), and a check started from a channel
still runs into the DM, whose parent message notifies. Through the signed endpoint and
the fake Slack API, whose hooks can fail or stall."""

from __future__ import annotations

import time

import pytest

import bot.runtime.private as private
import handlers.check_thread as check_thread
from bot.store import MemoryStore
from tests.support import slack_signing as signing
from tests.support.harness import Running, form_values, running_bot
from tests.support.scripted import ScriptedProbe

GMAIL_535 = "535-5.7.8 Username and Password not accepted. gsmtp"
STALL = 30.0  # far longer than any test waits: only giving up on the hook passes


async def explain_in_the_dm(bot: Running) -> dict[str, object]:
    payload = signing.message_shortcut(GMAIL_535, user_id="U0HELPER", channel_id="D0ALICEBOB")
    status, _ = await bot.interact(payload)
    assert status == 200
    (opened,) = await bot.slack.wait_for("conversations.open")
    assert opened.params["users"] == "U0HELPER"
    (posted,) = await bot.slack.wait_for("chat.postMessage")
    return posted.params


@pytest.mark.parametrize("status", [404, 500])
async def test_shortcut_hook_answering_an_error_falls_back_to_the_dm(
    store: MemoryStore, status: int
) -> None:
    """The hook answers an error (expired: 404; Slack trouble: 500): the explanation,
    with its thumbs, goes to the user's DM instead; nothing ephemeral, no error note."""
    async with running_bot(store) as bot:
        bot.slack.error_next("response_url", status=status)
        dm = await explain_in_the_dm(bot)
        assert dm["channel"] == "D0HELPER" and "535" in str(dm["text"])
        assert "feedback_buttons" in str(dm["blocks"])
        assert bot.slack.of(f"response_url#{status}") and not bot.slack.of("response_url")
        assert not bot.slack.of("chat.postEphemeral")


async def test_shortcut_hook_that_never_answers_falls_back_to_the_dm_in_time(
    store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hook that does not answer is given up after HOOK_WITHIN: the DM follows then,
    not after the HTTP client's 30 s."""
    monkeypatch.setattr(private, "HOOK_WITHIN", 0.5)
    async with running_bot(store) as bot:
        bot.slack.stall_next("response_url", STALL)
        started = time.perf_counter()
        dm = await explain_in_the_dm(bot)
        assert time.perf_counter() - started < 5.0
        assert dm["channel"] == "D0HELPER" and "535" in str(dm["text"])
        assert bot.slack.of("response_url#stalled")


async def check_from_a_channel(bot: Running) -> list[dict[str, object]]:
    view = await bot.open_modal(channel_id="C0NOTJOINED")
    values = form_values(host="mail.example.com", port="587", security="auto")
    status, text = await bot.submit(view, values)
    assert (status, text) == (200, "")
    return [c.params for c in await bot.slack.wait_for("chat.postMessage", 3)]


@pytest.mark.parametrize("failure", ["error", "stall"])
async def test_a_failing_pointer_hook_leaves_the_check_and_its_notifications_whole(
    store: MemoryStore, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    """The pointer's hook answers 404 or never answers: the check is not held back
    (past POINTER_WITHIN), it runs into the DM, whose parent is a new top-level message
    (it notifies) and whose verdict is sent to the conversation too; the user is shown
    no error and nothing is posted in the channel."""
    monkeypatch.setattr(check_thread, "POINTER_WITHIN", 0.5)
    async with running_bot(store, probe=ScriptedProbe()) as bot:
        if failure == "error":
            bot.slack.error_next("response_url", status=404)
        else:
            bot.slack.stall_next("response_url", STALL)
        started = time.perf_counter()
        parent, details, verdict = await check_from_a_channel(bot)
        assert time.perf_counter() - started < 10.0
        assert parent["channel"] == "D0ALICE" and "thread_ts" not in parent
        assert str(parent["text"]).startswith("Checking `mail.example.com:587`")
        assert verdict["thread_ts"] == details["thread_ts"]
        assert verdict.get("reply_broadcast") in (True, "1", "true")
        failed = f"response_url#{'404' if failure == 'error' else 'stalled'}"
        assert len(bot.slack.of(failed)) == 1 and not bot.slack.of("response_url")
        assert not bot.slack.of("chat.postEphemeral")
        posted = bot.slack.of("chat.postMessage")
        assert all(c.params["channel"] == "D0ALICE" for c in posted)
        assert "went wrong" not in bot.slack.everything().lower()
