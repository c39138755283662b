"""The common questions page through every one of them, on every surface that lists
them: ``/smtpcheck faq`` (ephemeral: replaced through its response_url), the greeting in
a help thread (edited in place, by its asker only) and App Home (republished, the
admins' review page kept), through the signed endpoint and the fake Slack."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from bot import conversation, messages
from bot.helpdesk.feedback import Feedback, ReviewReason
from bot.store import MemoryStore
from handlers.blocks import kit, turns
from handlers.blocks.home import REVIEW_SHOWN
from knowledge import get_knowledge
from tests.support import slack_signing as signing
from tests.support.harness import running_bot
from tests.support.helpdesk import ALICE, DM, buttons, click, next_post, send_message, text_of


def questions_of(params: dict[str, Any]) -> list[str]:
    """The article ids of the common questions a message or view offers (buttons and
    menu options alike)."""
    found = []
    for button in buttons(params).values():
        action = button["action_id"]
        if "_option" in button:  # a menu option stands for the button it carries
            action = kit.parse_menu_value(button["_option"]["value"])[0]
        if str(action).startswith(turns.ACTION_FAQ + "_"):
            found.append(turns.parse_value(button["value"])[1] or "")
    return found


def every_article() -> list[str]:
    return sorted(get_knowledge().articles)


async def test_smtpcheck_faq_pages_through_every_question(store: MemoryStore) -> None:
    """`/smtpcheck faq` shows page 1; "Next questions" replaces the ephemeral answer with
    the next page until every article's question was offered once, then leads back."""
    async with running_bot(store) as bot:
        status, body = await bot.command("faq", channel_id="C0NOTJOINED")
        assert status == 200
        page: dict[str, Any] = json.loads(body)
        seen: list[str] = []
        pages = -(-conversation.faq_count(get_knowledge()) // 8)
        for n in range(pages):
            assert f"(page {n + 1} of {pages})" in text_of(page)
            seen += questions_of(page)
            nav = buttons(page)[messages.FAQ_NEXT if n + 1 < pages else messages.FAQ_FIRST]
            payload = signing.block_action(nav["action_id"], nav["value"], channel_id="C0NOTJOINED")
            payload["container"]["is_ephemeral"] = True
            payload["response_url"] = bot.slack.hook_url + f"actions/{n}"
            status, _ = await bot.interact(payload)
            assert status == 200
            page = (await bot.slack.wait_for("response_url", n + 1))[n].params
            assert page["replace_original"] is True and page["response_type"] == "ephemeral"
        assert sorted(seen) == every_article()
        assert "(page 1 of" in text_of(page)  # back at the start
        assert not bot.slack.of("chat.postEphemeral")


async def test_greeting_pages_in_place_for_its_asker_only(store: MemoryStore) -> None:
    """ "hi" gets the greeting and page 1; "Next questions" edits that message to page 2
    (still three buttons at most); someone else's click changes nothing."""
    async with running_bot(store) as bot:
        await send_message(bot, "hi", ts="700.1")
        hello = await next_post(bot, 0)
        assert hello["text"] == messages.GREETING
        first = questions_of(hello)
        nav = buttons(hello)[messages.FAQ_NEXT]
        assert nav["value"].startswith(f"{DM}:700.1|")
        await click(bot, {**nav, "_ts": "1700000000.000001"}, user="U0BOB")
        await click(bot, {**nav, "_ts": "1700000000.000001"})
        edited = (await bot.slack.wait_for("chat.update"))[-1].params
        assert len(bot.slack.of("chat.update")) == 1  # the bystander's click did nothing
        assert edited["channel"] == DM and edited["ts"] == "1700000000.000001"
        assert "(page 2 of" in text_of(edited)
        second = questions_of(edited)
        assert second and not set(first) & set(second)
        shown = sum(
            e["type"] == "button"
            for b in edited["blocks"]
            if b["type"] == "actions"
            for e in b["elements"]
        )
        assert shown <= 3


async def test_app_home_pages_the_questions_and_keeps_the_review_page(store: MemoryStore) -> None:
    """App Home lists a page of questions with "Next questions"; turning it republishes
    Home at the next page, the admin's review list staying on the page it was on."""
    feedback = Feedback(store)
    for n in range(REVIEW_SHOWN + 3):
        await feedback.review(f"unanswered question number {n}", ReviewReason.NOT_CONFIDENT)
    admin = ALICE
    async with running_bot(store, settings_changes={"admins": frozenset({admin})}) as bot:
        event = {"type": "app_home_opened", "user": admin, "channel": "D0HOME", "tab": "home"}
        await bot.event(event, event_id="EvFaqHome1")
        home = (await bot.slack.wait_for("views.publish"))[0].params["view"]
        older = buttons(home)["Older questions"]
        payload = signing.block_action(older["action_id"], older["value"], user_id=admin)
        payload["container"] = {"type": "view", "view_id": "V1"}
        await bot.interact(payload)
        on_review_2 = (await bot.slack.wait_for("views.publish", 2))[1].params["view"]
        assert "page 2 of 2" in json.dumps(on_review_2)
        nav = buttons(on_review_2)[messages.FAQ_NEXT]
        payload = signing.block_action(nav["action_id"], nav["value"], user_id=admin)
        payload["container"] = {"type": "view", "view_id": "V1"}
        await bot.interact(payload)
        turned = (await bot.slack.wait_for("views.publish", 3))[2].params["view"]
    text = json.dumps(turned, ensure_ascii=False)
    assert "(page 2 of" in text and "page 2 of 2 (13 questions)" in text
    assert not set(questions_of(home)) & set(questions_of(turned))


async def test_paging_an_ephemeral_list_without_slacks_hook_does_nothing(
    store: MemoryStore,
) -> None:
    """A page click whose response_url is missing or not Slack's edits nothing, POSTs
    nowhere and raises no error notice (the FAQ list and the stats list alike)."""
    admins = {"admins": frozenset({ALICE})}
    async with running_bot(store, settings_changes=admins) as bot:
        _, body = await bot.command("faq")
        nav = buttons(json.loads(body))[messages.FAQ_NEXT]
        for hook in (None, "https://hooks.slack.com.evil.example/x"):
            payload = signing.block_action(nav["action_id"], nav["value"])
            payload["container"]["is_ephemeral"] = True
            if hook is None:
                payload.pop("response_url", None)
            else:
                payload["response_url"] = hook
            status, _ = await bot.interact(payload)
            assert status == 200
            stats = signing.block_action("review_page_older", "1")
            stats.pop("response_url", None)
            assert (await bot.interact(stats))[0] == 200
        await asyncio.sleep(0.5)  # an error notice would come after the ack
        assert not bot.slack.of("response_url") and not bot.slack.of("chat.postMessage")
