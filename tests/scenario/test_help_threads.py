"""Help threads end to end: DM and mention conversations, the help buttons, triage
and the message shortcut, through the real HTTP endpoint with signed requests and
the fake Slack Web API."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from bot import messages
from bot.store import MemoryStore
from tests.support import slack_signing as signing
from tests.support.harness import HELPDESK, running_bot
from tests.support.helpdesk import (
    ALICE,
    DM,
    buttons,
    click,
    next_post,
    send_message,
    text_of,
    visible_buttons,
)

TRIAGE = "C0TRIAGE"
GMAIL_535 = (
    "535-5.7.8 Username and Password not accepted. Learn more at "
    "https://support.google.com/mail/?p=BadCredentials x1-20020a17090 - gsmtp"
)
TRIAGE_SETTINGS = {"triage_channels": frozenset({TRIAGE})}


async def test_dm_conversation_carries_context_and_records_resolution(store: MemoryStore) -> None:
    """A DM question is answered in its thread with the five buttons; "I use Gmail"
    re-tailors it, the live check is prefilled from the thread, "Still failing" shows the
    next step, and "That fixed it" records one resolution however often it is clicked."""
    async with running_bot(store) as bot:
        await send_message(
            bot, "my email keeps saying authentication failed when sending", ts="100.1"
        )
        first = await next_post(bot, 0)
        assert (first["channel"], first["thread_ts"]) == (DM, "100.1")
        offered = buttons(first)
        assert list(offered) == [*messages.OFFER_LABELS.values()]
        assert visible_buttons(first) <= 3  # the rest sit in the "More" menu
        assert {b["value"] for b in offered.values()} == {f"{DM}:100.1"}
        assert "Step 1 of" in text_of(first)

        await send_message(bot, "I use Gmail", ts="100.2", thread_ts="100.1")
        tailored = await next_post(bot, 1)
        assert tailored["thread_ts"] == "100.1"
        assert "Steps for Gmail." in text_of(tailored)
        assert "Gmail address" in text_of(tailored)

        await click(bot, buttons(tailored)["Run a live check"])
        view = (await bot.slack.wait_for("views.open"))[0].params["view"]
        values = {
            b["block_id"]: b["element"].get("initial_value") or b["element"].get("initial_option")
            for b in view["blocks"]
            if b["type"] == "input"
        }
        assert values["host"] == "smtp.gmail.com" and values["port"] == "465"
        assert values["security"]["value"] == "tls"

        await click(bot, buttons(tailored)["Still failing"])
        assert "Step 2 of" in text_of(await next_post(bot, 2))

        for n in range(2):
            await click(bot, buttons(tailored)["That fixed it"])
            reply = await next_post(bot, 3 + n)
            assert reply["text"] == (
                messages.TURN_RESOLVED if n == 0 else messages.TURN_RESOLVED_AGAIN
            )
        week = await bot.bot.deps.helpdesk.summary(7)
        assert (week.questions, week.resolutions) == (2, 1)
        assert week.resolution_seconds is not None


async def test_still_failing_walks_every_step_then_related_then_a_human(store: MemoryStore) -> None:
    """Each "Still failing" shows the next step; after the last come related articles as
    buttons (one opens its answer in the thread); then only a human is offered."""
    async with running_bot(store) as bot:
        await send_message(bot, "how do I check my username and password for smtp", ts="200.1")
        answer = await next_post(bot, 0)
        still = buttons(answer)["Still failing"]
        total = int(text_of(answer).split("Step 1 of ")[1].split(":")[0])
        for number in range(2, total + 1):
            await click(bot, still)
            assert f"Step {number} of {total}" in text_of(await next_post(bot, number - 1))
        await click(bot, still)
        related = await next_post(bot, total)
        assert "You have tried every step" in text_of(related)
        picks = [b for b in buttons(related).values() if b["action_id"].startswith("help_choose_")]
        assert picks and all(b["value"].startswith(f"{DM}:200.1|") for b in picks)
        await click(bot, picks[0])
        opened = await next_post(bot, total + 1)
        assert "Step 1 of" in text_of(opened) and opened["thread_ts"] == "200.1"


async def test_low_confidence_lists_candidates_and_offers_a_human(store: MemoryStore) -> None:
    """An unsure search says so, shows candidates as buttons and offers a person; the
    helpdesk gets one secret-free summary with a link; nothing found shows the FAQ."""
    async with running_bot(store) as bot:
        await send_message(bot, "how do I change my slack password", ts="300.1")
        unsure = await next_post(bot, 0)
        assert unsure["text"] == messages.TURN_LOW_CONFIDENCE
        found = buttons(unsure)
        assert any(b["action_id"].startswith("help_choose_") for b in found.values())
        assert "That fixed it" not in found
        await click(bot, found["Talk to a human"])
        summary = await next_post(bot, 1)
        assert summary["channel"] == HELPDESK
        assert f"<@{ALICE}>" in summary["text"] and "archives/D0ALICE" in summary["text"]
        assert (await next_post(bot, 2))["text"] == messages.HELPDESK_SENT
        await click(bot, found["Talk to a human"])
        assert (await next_post(bot, 3))["text"] == messages.HELPDESK_ALREADY
        await send_message(bot, "what's for lunch", ts="301.1")
        nothing = await next_post(bot, 4)
        assert nothing["text"] == messages.TURN_NOTHING_FOUND
        assert any(b["action_id"].startswith("help_faq_") for b in buttons(nothing).values())


async def test_greeting_and_faq_offer_the_next_question(store: MemoryStore) -> None:
    """ "hi" shows the common questions; one answers in the thread and offers the natural
    next question; `/smtpcheck faq` buttons start a thread in the user's DM."""
    async with running_bot(store) as bot:
        await send_message(bot, "hi", ts="400.1")
        hello = await next_post(bot, 0)
        assert hello["text"] == messages.GREETING
        faq = [b for b in buttons(hello).values() if b["action_id"].startswith("help_faq_")]
        assert faq and faq[0]["value"].startswith(f"{DM}:400.1|")
        await click(bot, faq[0])
        answered = await next_post(bot, 1)
        assert answered["thread_ts"] == "400.1"
        assert messages.TURN_NEXT_QUESTION in text_of(answered)
        status, body = await bot.command("faq")
        assert status == 200
        listed = json.loads(body)
        first = next(b for b in buttons(listed).values() if b["action_id"].startswith("help_faq_"))
        assert first["value"].startswith("|")
        await click(bot, first, channel="C0GENERAL")
        parent = await next_post(bot, 2)
        assert parent["channel"] == DM and "You asked" in parent["text"]
        threaded = await next_post(bot, 3)
        assert threaded["channel"] == DM and threaded["thread_ts"] != "400.1"


async def test_mention_answers_in_the_thread(store: MemoryStore) -> None:
    """A mention with a pasted error gets the explanation (cause, fix, article) in its thread."""
    async with running_bot(store) as bot:
        await send_message(
            bot,
            f"<@U0BOT> users see {GMAIL_535}",
            ts="500.1",
            channel="C0GENERAL",
            kind="app_mention",
        )
        reply = await next_post(bot, 0)
        assert (reply["channel"], reply["thread_ts"]) == ("C0GENERAL", "500.1")
        assert "What the error means" in text_of(reply) and "Step 1 of" in text_of(reply)


async def test_triage_once_per_thread_and_never_on_bot_messages(store: MemoryStore) -> None:
    """In a triage channel: bot posts, our own, edits and other channels are ignored; a
    pasted reply gets one explanation, and a second error in that thread gets none."""
    async with running_bot(store, settings_changes=TRIAGE_SETTINGS) as bot:
        ignored = [
            {"bot_id": "B0OTHER", "subtype": "bot_message", "user": None},
            {"bot_id": "B0OTHER"},
            {"user": "U0BOT"},
            {"subtype": "message_changed"},
            {"subtype": "channel_join"},
        ]
        for n, extra in enumerate(ignored):
            await send_message(
                bot, GMAIL_535, ts=f"600.{n}", channel=TRIAGE, channel_type="channel", **extra
            )
        await send_message(
            bot, GMAIL_535, ts="601.1", channel="C0OTHER", channel_type="channel", user="U0BOB"
        )
        await send_message(
            bot, "lunch anyone?", ts="601.2", channel=TRIAGE, channel_type="channel", user="U0BOB"
        )
        await send_message(
            bot, GMAIL_535, ts="602.1", channel=TRIAGE, channel_type="channel", user="U0BOB"
        )
        explained = await next_post(bot, 0)
        assert (explained["channel"], explained["thread_ts"]) == (TRIAGE, "602.1")
        assert "What the error means" in text_of(explained)
        await send_message(
            bot,
            "now 454 4.7.0 Too many login attempts",
            ts="602.2",
            thread_ts="602.1",
            channel=TRIAGE,
            channel_type="channel",
            user="U0CAROL",
        )
        await send_message(
            bot, GMAIL_535, ts="603.1", channel=TRIAGE, channel_type="channel", user="U0BOB"
        )
        marker = await next_post(bot, 1)
        assert marker["thread_ts"] == "603.1"
        await asyncio.sleep(0.3)
        assert [c.params["thread_ts"] for c in bot.slack.of("chat.postMessage")] == [
            "602.1",
            "603.1",
        ]


async def test_a_mention_in_a_triage_channel_is_answered_once(store: MemoryStore) -> None:
    """Slack sends message.channels and app_mention for a mention: one answer only."""
    async with running_bot(store, settings_changes=TRIAGE_SETTINGS) as bot:
        text = f"<@U0BOT> what does this mean? {GMAIL_535}"
        common = {"channel": TRIAGE, "user": "U0BOB"}
        await send_message(bot, text, ts="700.1", channel_type="channel", **common)
        await send_message(bot, text, ts="700.1", kind="app_mention", **common)
        await next_post(bot, 0)
        await send_message(bot, GMAIL_535, ts="701.1", channel_type="channel", **common)
        await next_post(bot, 1)
        await asyncio.sleep(0.3)
        assert [c.params["thread_ts"] for c in bot.slack.of("chat.postMessage")] == [
            "700.1",
            "701.1",
        ]


async def test_shortcut_answers_through_response_url_everywhere(store: MemoryStore) -> None:
    """ "Explain SMTP error" answers through the payload's response_url, privately, in a
    channel the bot has joined, one it has not, and a DM between two people, where
    chat.postEphemeral would fail with not_in_channel."""
    async with running_bot(store) as bot:
        for n, channel in enumerate(("C0GENERAL", "C0NOTJOINED", "D0ALICEBOB"), 1):
            payload = signing.message_shortcut(GMAIL_535, user_id="U0HELPER", channel_id=channel)
            status, _ = await bot.interact(payload)
            assert status == 200
            private = (await bot.slack.wait_for("response_url", n))[-1].params
            assert private["response_type"] == "ephemeral"
            assert private["replace_original"] is False
            assert "535" in private["text"] and "Read:" in private["text"]
            thumbs = private["blocks"][-1]["elements"][0]  # Helpful / Not helpful
            assert thumbs["type"] == "feedback_buttons"
            vote, article, token = thumbs["negative_button"]["value"].split("#")
            assert (vote, article) == ("down", "app-passwords") and len(token) == 16
        assert not bot.slack.of("chat.postEphemeral")
        assert not bot.slack.of("chat.postMessage")
        await bot.interact(signing.message_shortcut("the copier says E-77 when scanning to email"))
        await bot.slack.wait_for("response_url", 4)
        listed = await store.entries("feedback:review", 10)
        assert [e["q"] for e in listed] == ["the copier says E-77 when scanning to email"]


async def test_shortcut_without_response_url_falls_back_to_the_dm(store: MemoryStore) -> None:
    """No response_url (or a hook that fails): the explanation goes to the user's DM."""
    async with running_bot(store) as bot:
        payload = signing.message_shortcut(GMAIL_535, user_id="U0HELPER", channel_id="D0ALICEBOB")
        del payload["response_url"]
        await bot.interact(payload)
        dm = await next_post(bot, 0)
        assert dm["channel"] == "D0HELPER" and "535" in dm["text"]
        broken = signing.message_shortcut(GMAIL_535, user_id="U0HELPER")
        broken["response_url"] = bot.slack.api_url.replace("/api/", "/gone/")  # 404
        await bot.interact(broken)
        assert (await next_post(bot, 1))["channel"] == "D0HELPER"


async def test_shortcut_redacts_a_pasted_password(store: MemoryStore) -> None:
    """A password in the explained message is never quoted back, and the reply says it
    was hidden."""
    canary = "Canary-Pw-55121"
    text = f"{GMAIL_535}\nmy settings: user=alice@example.com password={canary}"
    async with running_bot(store) as bot:
        await bot.interact(signing.message_shortcut(text))
        private = (await bot.slack.wait_for("response_url"))[0].params
        assert messages.REDACTED_NOTE in private["text"]
        assert canary not in bot.slack.everything()


async def test_unexpected_error_reaches_the_user_where_the_bot_is_no_member(
    store: MemoryStore,
) -> None:
    """When a handler fails in a DM between people, the error note still reaches the
    user (through response_url), with a reference and no traceback."""

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("boom")

    async with running_bot(store) as bot:
        import handlers.shortcuts as shortcuts

        original = shortcuts.explanation
        shortcuts.explanation = broken  # type: ignore[assignment]
        try:
            await bot.interact(signing.message_shortcut(GMAIL_535, channel_id="D0ALICEBOB"))
            told = (await bot.slack.wait_for("response_url"))[0].params
        finally:
            shortcuts.explanation = original
        assert "reference" in told["text"] and "boom" not in told["text"]
        assert not bot.slack.of("chat.postEphemeral")


async def test_any_process_continues_a_thread(store: MemoryStore) -> None:
    """Two bot processes sharing one store: a question served by one and the follow-up
    by the other still continue the same conversation (the context is in the store)."""
    async with running_bot(store) as first, running_bot(store, slack=first.slack) as second:
        await send_message(first, "my email keeps saying authentication failed", ts="900.1")
        await next_post(first, 0)
        await send_message(second, "I use Gmail", ts="900.2", thread_ts="900.1")
        tailored = await next_post(second, 1)
        assert tailored["thread_ts"] == "900.1" and "Steps for Gmail." in text_of(tailored)


async def test_triage_stays_silent_when_the_store_is_down() -> None:
    """Without the store a triage channel gets neither a repeatable explanation nor an
    error message posted into someone else's conversation."""
    from bot.config import Settings
    from bot.secret import Secret
    from bot.store import make_store
    from tests.scenario.test_safety import closed_port

    dead = make_store(Settings(redis_url=Secret(f"redis://127.0.0.1:{closed_port()}/0")))
    async with running_bot(dead, settings_changes=TRIAGE_SETTINGS) as bot:
        await send_message(
            bot, GMAIL_535, ts="700.1", channel=TRIAGE, channel_type="channel", user="U0BOB"
        )
        await asyncio.sleep(0.5)
        assert bot.slack.of("chat.postMessage") == []
        assert bot.slack.of("chat.postEphemeral") == []
    await dead.close()


async def test_a_lost_question_count_keeps_the_thread_context(store: MemoryStore) -> None:
    """When only the helpdesk count fails, the follow-up is still answered in context."""
    from bot.errors import StoreUnavailable

    async def count_fails(*args: object, **kwargs: object) -> None:
        raise StoreUnavailable("counter down")

    async with running_bot(store) as bot:
        await send_message(bot, "my email keeps saying authentication failed", ts="950.1")
        await next_post(bot, 0)
        bot.bot.deps.helpdesk.record_question = count_fails  # type: ignore[method-assign]
        await send_message(bot, "I use Gmail", ts="950.2", thread_ts="950.1")
        tailored = await next_post(bot, 1)
        assert tailored["thread_ts"] == "950.1" and "Steps for Gmail." in text_of(tailored)


async def test_a_dm_that_mentions_the_bot_is_answered_once(store: MemoryStore) -> None:
    """message.im and app_mention for the same DM message give one answer, in either
    order of arrival."""
    async with running_bot(store) as bot:
        text = "<@U0BOT> my email keeps saying authentication failed"
        await send_message(bot, text, ts="990.1")
        await send_message(bot, text, ts="990.1", kind="app_mention")
        await send_message(bot, text, ts="991.1", kind="app_mention")
        await send_message(bot, text, ts="991.1")
        await next_post(bot, 1)
        await asyncio.sleep(0.3)
        assert [c.params["thread_ts"] for c in bot.slack.of("chat.postMessage")] == [
            "990.1",
            "991.1",
        ]


async def test_a_pasted_password_is_redacted_before_anything_reads_it(store: MemoryStore) -> None:
    """An AUTH PLAIN line, a password= field and "pass:" in a DM, a mention and a
    triage channel are never quoted back or stored; each reply says it hid them."""
    import base64

    canary = "Canary-Pw-77410"
    blob = base64.b64encode(f"\0alice@example.com\0{canary}".encode()).decode()
    pasted = f"C: AUTH PLAIN {blob}\nS: {GMAIL_535}\npassword={canary} pass: {canary}"
    async with running_bot(store, settings_changes=TRIAGE_SETTINGS) as bot:
        await send_message(bot, pasted, ts="995.1")
        await send_message(
            bot, f"<@U0BOT> {pasted}", ts="996.1", channel="C0GENERAL", kind="app_mention"
        )
        await send_message(
            bot, pasted, ts="997.1", channel=TRIAGE, channel_type="channel", user="U0BOB"
        )
        for n in range(3):
            reply = await next_post(bot, n)
            assert messages.REDACTED_NOTE in text_of(reply)
            assert "535" in text_of(reply)
        assert canary not in bot.slack.everything() and blob not in bot.slack.everything()
        for key in ("D0ALICE:995.1", "C0GENERAL:996.1", f"{TRIAGE}:997.1"):
            assert canary not in json.dumps(await store.get_thread(key))


async def test_only_the_asker_acts_on_a_help_thread(store: MemoryStore) -> None:
    """A bystander clicking "That fixed it", "Talk to a human" or "Run a live check" in
    someone's thread changes nothing, opens no modal and posts nothing; they are told
    privately how to start their own. The asker's own clicks still work."""
    async with running_bot(store) as bot:
        await send_message(
            bot,
            "<@U0BOT> I use Gmail and my password is rejected",
            ts="1000.1",
            channel="C0GENERAL",
            kind="app_mention",
        )
        answer = await next_post(bot, 0)
        offered = buttons(answer)
        for label in ("That fixed it", "Talk to a human", "Run a live check", "Still failing"):
            await click(bot, offered[label], user="U0BYSTANDER")
        told = await bot.slack.wait_for("response_url", 4)
        assert all(c.params["response_type"] == "ephemeral" for c in told)
        assert all("<@U0ALICE>'s" in c.params["text"] for c in told)
        assert "/smtpcheck" in told[0].params["text"]
        assert len(bot.slack.of("chat.postMessage")) == 1
        assert not bot.slack.of("views.open")
        week = await bot.bot.deps.helpdesk.summary(7)
        assert week.resolutions == 0
        await click(bot, offered["That fixed it"])
        assert (await next_post(bot, 1))["text"] == messages.TURN_RESOLVED


async def test_a_forged_thread_key_reaches_no_other_conversation(store: MemoryStore) -> None:
    """A button whose value names another thread (or channel) than the message it sits
    in does nothing there, even when the clicker is that thread's asker."""
    async with running_bot(store) as bot:
        bot.slack.joined.add("C0OTHER")  # mentions arrive only where the bot is a member
        await send_message(bot, "my email keeps saying authentication failed", ts="1100.1")
        await next_post(bot, 0)
        await send_message(
            bot,
            "<@U0BOT> smtp password rejected",
            ts="1101.1",
            channel="C0OTHER",
            kind="app_mention",
        )
        other = await next_post(bot, 1)
        forged = {**buttons(other)["Still failing"], "value": f"{DM}:1100.1"}
        await click(bot, forged)
        told = (await bot.slack.wait_for("response_url"))[0].params
        assert told["text"] == messages.BUTTON_ELSEWHERE
        await asyncio.sleep(0.2)
        assert len(bot.slack.of("chat.postMessage")) == 2


async def test_triage_reply_is_short_and_explains_more_on_request(store: MemoryStore) -> None:
    """The unasked-for reply is the cause, one line to try and "Explain more" (plus
    "That fixed it" only when the poster can fix it); "Explain more" posts the answer
    with its steps. An error only an admin can fix offers no "That fixed it"."""
    m365 = (
        "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled "
        "for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information."
    )
    async with running_bot(store, settings_changes=TRIAGE_SETTINGS) as bot:
        await send_message(
            bot, GMAIL_535, ts="1200.1", channel=TRIAGE, channel_type="channel", user="U0BOB"
        )
        short = await next_post(bot, 0)
        assert len(short["blocks"]) <= 4 and "Step 1 of" not in text_of(short)  # + thumbs
        assert short["text"].startswith("SMTP error 535 5.7.8:")
        quote = short["blocks"][0]["text"]["text"].split("\n")[0]
        assert quote == f"`{GMAIL_535}`"  # as pasted, in a code span (Slack links nothing)
        assert list(buttons(short)) == [messages.EXPLAIN_MORE, "That fixed it"]
        await click(bot, buttons(short)[messages.EXPLAIN_MORE], user="U0BOB")
        more = await next_post(bot, 1)
        assert more["thread_ts"] == "1200.1" and "Step 1 of" in text_of(more)
        await send_message(
            bot, m365, ts="1201.1", channel=TRIAGE, channel_type="channel", user="U0BOB"
        )
        admin_only = await next_post(bot, 2)
        assert "5.7.139" in admin_only["text"]
        quoted = admin_only["blocks"][0]["text"]["text"]
        assert quoted.startswith("`535 5.7.139 Authentication unsuccessful, SmtpClient")
        assert list(buttons(admin_only)) == [messages.EXPLAIN_MORE]
        await click(bot, buttons(admin_only)[messages.EXPLAIN_MORE], user="U0BOB")
        assert "That fixed it" not in buttons(await next_post(bot, 3))


async def test_triage_quotes_the_reply_line_redacted(store: MemoryStore) -> None:
    """The quoted error is the line the code is on, as pasted, with the password that
    came with it redacted, mentions and links made inert inside a code span."""
    canary = "Canary-Triage-4242"
    paste = (
        f"Hi all, Outlook on the front desk PC keeps failing, I typed password={canary}\n"
        "and it says <@U0EVERYONE> 535 5.7.8 Error: authentication failed: "
        f"UGFzc3dvcmQ6 pass: {canary} see <https://example.com|here>"
    )
    async with running_bot(store, settings_changes=TRIAGE_SETTINGS) as bot:
        await send_message(
            bot, paste, ts="1250.1", channel=TRIAGE, channel_type="channel", user="U0BOB"
        )
        short = await next_post(bot, 0)
    shown = json.dumps(short)
    assert canary not in shown
    quote = next(
        line
        for block in short["blocks"]
        if block["type"] == "section"
        for line in block["text"]["text"].split("\n")
        if "535 5.7.8" in line
    )
    assert quote.startswith("`and it says &lt;@U0EVERYONE&gt; 535 5.7.8 Error: authentication")
    assert "pass: [redacted]" in quote and quote.endswith("`") and quote.count("`") == 2
    assert "<" not in quote and len(quote) <= 2 + 160


async def test_read_more_also_see_and_all_steps_open_the_article(store: MemoryStore) -> None:
    """A `/smtpcheck` answer shows at most three steps; "Show all N steps" and each
    "Also see" entry open the whole article in a modal, as a button or from the menu."""
    async with running_bot(store) as bot:
        status, body = await bot.command("how do I check my username and password for smtp")
        assert status == 200
        answer = json.loads(body)
        assert text_of(answer).count("\n1. ") <= 1 and "\n4. " not in text_of(answer)
        offered = buttons(answer)
        assert visible_buttons(answer) <= 3
        show_all = next(b for label, b in offered.items() if label.startswith("Show all"))
        await click(bot, show_all, channel="C0GENERAL")
        view = (await bot.slack.wait_for("views.open"))[0].params["view"]
        total = int(show_all["text"]["text"].split()[2])
        assert sum(t.count("\n") + 1 for t in _section_texts(view)[2:]) >= total
        also = [b for b in offered.values() if b is not show_all]
        assert also
        # "Also see:" heads the other articles, not the button for this one's own steps.
        kinds = [(b["type"], b.get("block_id")) for b in answer["blocks"]]
        heading = next(n for n, b in enumerate(answer["blocks"]) if "Also see:" in json.dumps(b))
        assert kinds.index(("actions", "answer-steps")) < heading
        assert kinds[heading + 1] == ("actions", "answer-articles")
        ids = [
            e["action_id"]
            for b in answer["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
        ]
        assert len(ids) == len(set(ids))
        await click(bot, also[-1], channel="C0GENERAL")
        second = (await bot.slack.wait_for("views.open", 2))[1].params["view"]
        assert second["blocks"][0]["type"] == "header"


def _section_texts(view: dict[str, Any]) -> list[str]:
    return [b["text"]["text"] for b in view["blocks"] if b["type"] == "section"]


async def test_earlier_turns_buttons_are_retired(store: MemoryStore) -> None:
    """When the thread moves on, the previous answer is collapsed to its text without
    buttons, so only the newest message acts."""
    async with running_bot(store) as bot:
        await send_message(bot, "my email keeps saying authentication failed", ts="1300.1")
        first = await next_post(bot, 0)
        await click(bot, buttons(first)["Still failing"])
        second = await next_post(bot, 1)
        assert visible_buttons(second) > 0
        retired = (await bot.slack.wait_for("chat.update"))[0].params
        # The fake Slack numbers its messages: the first answer is 000001.
        assert (retired["channel"], retired["ts"]) == (DM, "1700000000.000001")
        assert not any(b["type"] == "actions" for b in retired["blocks"])
        assert messages.TURN_RETIRED in text_of(retired)
        assert retired["text"] == first["text"]


def feedback_of(params: dict[str, Any]) -> dict[str, Any]:
    """The Helpful / Not helpful element of a message."""
    block = next(b for b in params["blocks"] if b["type"] == "context_actions")
    element: dict[str, Any] = block["elements"][0]
    assert element["type"] == "feedback_buttons"
    return element


async def vote(bot: Any, params: dict[str, Any], side: str, *, user: str = ALICE) -> None:
    element = feedback_of(params)
    payload = signing.block_action(
        element["action_id"],
        element[side]["value"],
        user_id=user,
        channel_id=params["channel"],
        thread_ts=params.get("thread_ts"),
        message_ts="1700000000.000009",
    )
    payload["actions"][0]["type"] = "feedback_buttons"
    status, _ = await bot.interact(payload)
    assert status == 200


async def test_feedback_loop_reaches_the_admins_without_names_or_secrets(
    store: MemoryStore,
) -> None:
    """Every answer carries Helpful / Not helpful; votes are counted; a Not-helpful
    vote and an unsure answer put their (redacted) questions on the admins' list in
    `/smtpcheck stats` and App Home, newest first, once each, with no user names; the
    deflection and escalation rates sit beside the numbers."""
    canary = "Canary-Pw-31337"
    settings = {"admins": frozenset({"U0ADMIN"})}
    async with running_bot(store, settings_changes=settings) as bot:
        await send_message(bot, "my email keeps saying authentication failed", ts="1400.1")
        answer = await next_post(bot, 0)
        await vote(bot, answer, "positive_button")
        await send_message(
            bot, f"outlook keeps asking for my password, password={canary}", ts="1401.1"
        )
        second = await next_post(bot, 1)
        for _ in range(2):
            await vote(bot, second, "negative_button")
        for n, ts in enumerate(("1402.1", "1403.1")):
            await send_message(bot, "how do I change my slack password", ts=ts)
            await next_post(bot, 2 + n)
        thanks = await bot.slack.wait_for("response_url", 3)
        assert thanks[0].params["text"] == messages.FEEDBACK_THANKS
        assert thanks[1].params["text"] == messages.FEEDBACK_THANKS_DOWN
        status, body = await bot.command("stats", user_id="U0ADMIN")
        assert status == 200
        shown = text_of(json.loads(body))
        assert "rated helpful: *1* · not helpful: *2*" in shown
        assert "Deflection (help threads solved by" in shown and "Escalation (help" in shown
        review = shown[shown.index("Questions to review") :]
        assert review.index("slack password") < review.index("outlook keeps asking")
        assert review.count("slack password") == 1
        assert "voted not helpful" in review and "no sure answer" in review
        assert canary not in shown and "[redacted]" in review
        assert ALICE not in shown and canary not in json.dumps(
            await store.entries("feedback:review", 100)
        )
        event = {"type": "app_home_opened", "user": "U0ADMIN", "channel": "D0HOME", "tab": "home"}
        await bot.event(event, event_id="EvHomeFeedback")
        home = json.dumps((await bot.slack.wait_for("views.publish"))[0].params["view"])
        assert "Questions to review" in home and "slack password" in home


async def test_a_live_check_from_a_channel_thread_points_there_privately(
    store: MemoryStore,
) -> None:
    """ "Run a live check" under a mention's answer in a channel opens the modal with the
    click's response_url; the check runs in the DM and the pointer reaches the asker in
    the channel through that hook, never chat.postEphemeral; nothing public is posted."""
    from tests.support.harness import form_values

    async with running_bot(store) as bot:
        await send_message(
            bot,
            "<@U0BOT> outlook keeps asking for my password",
            ts="800.1",
            channel="C0GENERAL",
            kind="app_mention",
        )
        answer = await next_post(bot, 0)
        await click(bot, buttons(answer)["Run a live check"])
        view = (await bot.slack.wait_for("views.open"))[0].params["view"]
        carried = json.loads(view["private_metadata"])
        assert carried == {"origin": "C0GENERAL", "reply": bot.slack.hook_url + "actions/1"}
        values = form_values(host="mail.example.com", port="587", security="auto")
        status, _ = await bot.submit(view, values)
        assert status == 200
        pointer = (await bot.slack.wait_for("response_url"))[0].params
        assert pointer["response_type"] == "ephemeral" and "archives/D0ALICE" in pointer["text"]
        assert not bot.slack.of("chat.postEphemeral")
        public = [c.params for c in bot.slack.of("chat.postMessage")[1:]]
        assert all(p["channel"] == "D0ALICE" for p in public)
