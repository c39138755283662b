"""A "Not helpful" under an answer that has no thread (``/smtpcheck <question>``, the
"Explain SMTP error" shortcut) reaches the admins' review list through the random
token its button carries: the question itself waits in the store, redacted, never in
the button. Through the signed endpoint with the fake Slack API."""

from __future__ import annotations

import json
from typing import Any

from bot import messages
from bot.helpdesk.feedback import ANSWERED_TTL
from bot.store import MemoryStore
from tests.bot.store.support import FakeClock
from tests.support import slack_signing as signing
from tests.support.harness import running_bot
from tests.support.helpdesk import ALICE, DM, next_post, send_message, text_of

CANARY = "Canary-Pw-80211"
GMAIL_535 = "535-5.7.8 Username and Password not accepted. gsmtp"
TRIAGE = "C0TRIAGE"


def thumbs(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    block = next(b for b in blocks if b["type"] == "context_actions")
    element: dict[str, Any] = block["elements"][0]
    assert element["type"] == "feedback_buttons"
    return element


async def vote_ephemeral(
    bot: Any, value: str, *, channel: str = "C0GENERAL", thread_ts: str | None = None
) -> None:
    """A click on an ephemeral message, as Slack sends it: no ``message``, the container
    says ephemeral (in a thread when the command was used in one)."""
    payload = signing.block_action("answer_feedback", value, channel_id=channel)
    payload["actions"][0]["type"] = "feedback_buttons"
    payload.pop("message")
    payload["container"] = {
        "type": "message",
        "message_ts": "1700000002.000001",
        "channel_id": channel,
        "is_ephemeral": True,
        **({"thread_ts": thread_ts} if thread_ts else {}),
    }
    status, _ = await bot.interact(payload)
    assert status == 200


async def review_list(bot: Any, store: MemoryStore) -> list[dict[str, Any]]:
    # The thanks (through response_url) comes after the vote is stored.
    return await store.entries("feedback:review", 100)


async def stats(bot: Any) -> str:
    status, body = await bot.command("stats", user_id="U0ADMIN")
    assert status == 200
    return text_of(json.loads(body))


ADMINS = {"admins": frozenset({"U0ADMIN"})}


async def test_not_helpful_on_a_slash_command_answer_lists_its_question(
    store: MemoryStore,
) -> None:
    """`/smtpcheck <question>` answers ephemerally with a token in its thumbs and none of
    the question; "Not helpful" puts the redacted question on the list (once however
    often it is clicked, newest first); "Helpful" only counts."""
    question = f"outlook keeps asking for my password, password={CANARY}"
    async with running_bot(store, settings_changes=ADMINS) as bot:
        status, body = await bot.command(question)
        assert status == 200
        answer = json.loads(body)
        down = thumbs(answer["blocks"])["negative_button"]["value"]
        vote, _, token = down.split("#")
        assert (vote, len(token)) == ("down", 16) and "keeps" not in down
        assert CANARY not in body
        for n in range(2):
            await vote_ephemeral(bot, down)
            thanks = (await bot.slack.wait_for("response_url", n + 1))[-1].params
            assert thanks["text"] == messages.FEEDBACK_THANKS_DOWN
        listed = await review_list(bot, store)
        assert [(e["q"], e["r"]) for e in listed] == [
            ("outlook keeps asking for my password, password=[redacted]", "not_helpful")
        ]
        # answered confidently (a recognised reply), so only its vote counts
        _, other = await bot.command("gmail says 534-5.7.9 application-specific password required")
        await vote_ephemeral(bot, thumbs(json.loads(other)["blocks"])["positive_button"]["value"])
        _, third = await bot.command("thunderbird cannot send mail after the update")
        await vote_ephemeral(bot, thumbs(json.loads(third)["blocks"])["negative_button"]["value"])
        await bot.slack.wait_for("response_url", 4)
        listed = await review_list(bot, store)
        assert [e["q"] for e in listed][:2] == [
            "thunderbird cannot send mail after the update",
            "outlook keeps asking for my password, password=[redacted]",
        ]
        assert not any("5.7.9" in e["q"] for e in listed)
        shown = await stats(bot)
        assert "rated helpful: *1* · not helpful: *3*" in shown
        assert "voted not helpful" in shown and CANARY not in shown
        assert CANARY not in bot.slack.everything()
        assert CANARY not in repr(store._data)  # every key and value the store holds


async def test_not_helpful_on_the_shortcut_lists_the_explained_paste(store: MemoryStore) -> None:
    """The shortcut's private explanation carries a token; "Not helpful" lists the paste
    it explained (redacted), in a DM between people as anywhere."""
    paste = f"{GMAIL_535}\nuser=alice@example.com password={CANARY}"
    async with running_bot(store) as bot:
        shortcut = signing.message_shortcut(paste, user_id="U0HELPER", channel_id="D0ALICEBOB")
        await bot.interact(shortcut)
        private = (await bot.slack.wait_for("response_url"))[0].params
        down = thumbs(private["blocks"])["negative_button"]["value"]
        assert await review_list(bot, store) == []  # explained: nothing to review yet
        await vote_ephemeral(bot, down, channel="D0ALICEBOB")
        await bot.slack.wait_for("response_url", 2)
        (listed,) = await review_list(bot, store)
        assert listed["r"] == "not_helpful" and listed["q"].startswith("535-5.7.8 Username")
        assert "[redacted]" in listed["q"] and CANARY not in json.dumps(listed)
        assert CANARY not in bot.slack.everything()


async def test_an_unknown_or_expired_token_counts_the_vote_and_lists_nothing(
    store: MemoryStore,
) -> None:
    """A token the store does not know (forged, or its question expired) still counts the
    vote, and never lists another question instead: not even the question of the
    thread the ephemeral answer was shown in."""
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    async with running_bot(store, settings_changes=ADMINS) as bot:
        await send_message(bot, "thunderbird cannot send mail after the update", ts="300.1")
        await next_post(bot, 0)  # the DM thread now has a question of its own
        _, body = await bot.command("outlook keeps asking for my password")
        down = thumbs(json.loads(body)["blocks"])["negative_button"]["value"]
        clock.advance(ANSWERED_TTL + 1)
        await vote_ephemeral(bot, down, channel=DM, thread_ts="300.1")
        forged = "down#app-passwords#AAAAAAAAAAAAAAAAAAAA"
        for value in (forged, "down#app-passwords#../../x y", "down##"):
            await vote_ephemeral(bot, value, channel=DM, thread_ts="300.1")
        await bot.slack.wait_for("response_url", 4)
        assert await review_list(bot, store) == []
        assert "not helpful: *4*" in await stats(bot)


async def test_not_helpful_on_a_triage_reply_and_a_common_question(store: MemoryStore) -> None:
    """Two answers in threads whose question was never typed to the bot: the triage
    reply (its question is the paste, redacted) and a common question picked from App
    Home (its question is the common question)."""
    settings = {"triage_channels": frozenset({TRIAGE})}
    async with running_bot(store, settings_changes=settings) as bot:
        await send_message(
            bot,
            f"{GMAIL_535} my password={CANARY}",
            ts="400.1",
            channel=TRIAGE,
            channel_type="channel",
            user="U0BOB",
        )
        triage = await next_post(bot, 0)
        payload = signing.block_action(
            "answer_feedback",
            thumbs(triage["blocks"])["negative_button"]["value"],
            user_id=ALICE,
            channel_id=TRIAGE,
            thread_ts="400.1",
            message_ts="1700000000.000001",
        )
        payload["actions"][0]["type"] = "feedback_buttons"
        await bot.interact(payload)
        await bot.slack.wait_for("response_url")
        (listed,) = await review_list(bot, store)
        assert listed["q"].startswith("535-5.7.8") and "[redacted]" in listed["q"]
        assert CANARY not in json.dumps(listed)

        faq = signing.block_action("help_faq_0", "|app-passwords", channel_id="D0HOME")
        faq["container"] = {"type": "view", "view_id": "V0HOME"}
        faq.pop("message")
        await bot.interact(faq)
        answer = await next_post(bot, 2)  # the "You asked" parent, then the answer
        payload = signing.block_action(
            "answer_feedback",
            thumbs(answer["blocks"])["negative_button"]["value"],
            channel_id=answer["channel"],
            thread_ts=answer["thread_ts"],
        )
        payload["actions"][0]["type"] = "feedback_buttons"
        await bot.interact(payload)
        await bot.slack.wait_for("response_url", 2)
        newest = (await review_list(bot, store))[0]
        assert newest["r"] == "not_helpful" and newest["q"].endswith("?")


async def test_without_the_store_the_answer_and_the_thanks_still_come() -> None:
    """Redis unreachable: `/smtpcheck <question>` still answers with its thumbs (the token
    is made before the store is asked), and a vote on it is still thanked."""
    from bot.config import Settings
    from bot.secret import Secret
    from bot.store import make_store
    from tests.bot.store.support import closed_port

    dead = make_store(Settings(redis_url=Secret(f"redis://127.0.0.1:{closed_port()}/0")))
    try:
        async with running_bot(dead) as bot:
            status, body = await bot.command("outlook keeps asking for my password")
            assert status == 200
            down = thumbs(json.loads(body)["blocks"])["negative_button"]["value"]
            await vote_ephemeral(bot, down)
            thanks = (await bot.slack.wait_for("response_url"))[0].params
            assert thanks["text"] == messages.FEEDBACK_THANKS_DOWN
    finally:
        await dead.close()
