"""App Home for users and admins, `/smtpcheck stats` against seeded events, the
helpdesk numbers on /metrics, and live checks feeding those numbers."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp

from bot import messages
from bot.helpdesk.recorder import HelpdeskMetrics
from bot.probe.model import Outcome
from bot.secret import Secret
from bot.store import MemoryStore
from tests.support.harness import Running, form_values, running_bot
from tests.support.helpdesk import ALICE, buttons, next_event_id, text_of
from tests.support.scripted import ScriptedProbe

ADMIN = "U0ADMIN"
ADMINS = {"admins": frozenset({ADMIN})}
DAY = 86400.0
REPLY = "gmail-535-bad-credentials"


async def seed(helpdesk: HelpdeskMetrics, now: float) -> None:
    """Known events: today 4 AUTH attempts (3 refused, A later succeeds after an hour),
    one more active user; ten days ago 2 refused attempts by D."""
    await helpdesk.record_check(
        "U0A", outcome="auth_rejected", auth_failed=True, reply_key=REPLY, at=now - 3600
    )
    await helpdesk.record_check("U0A", outcome="authenticated", auth_failed=False, at=now)
    for user in ("U0B", "U0C"):
        await helpdesk.record_check(
            user, outcome="auth_rejected", auth_failed=True, reply_key=REPLY, at=now
        )
    await helpdesk.record_activity("U0E", at=now)
    for _ in range(2):
        await helpdesk.record_check(
            "U0D",
            outcome="auth_rejected",
            auth_failed=True,
            reply_key="auth_rejected",
            at=now - 10 * DAY,
        )


async def open_home(bot: Running, user: str) -> dict[str, Any]:
    before = len(bot.slack.of("views.publish"))
    event = {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home"}
    status, _ = await bot.event(event, event_id=next_event_id())
    assert status == 200
    call = (await bot.slack.wait_for("views.publish", before + 1))[before]
    assert call.params["user_id"] == user
    view: dict[str, Any] = call.params["view"]
    return view


async def test_home_for_a_user_never_shows_the_dashboard(store: MemoryStore) -> None:
    """Everyone sees start-a-check, popular questions and their own recent checks (no
    username); a non-admin never sees the dashboard, even with data present."""
    async with running_bot(store, probe=ScriptedProbe(), settings_changes=ADMINS) as bot:
        await seed(bot.bot.deps.helpdesk, time.time())
        modal = await bot.open_modal()
        values = form_values(
            host="mail.example.com",
            port="587",
            security="auto",
            username="alice@example.com",
            password="pw-canary-1",
        )
        await bot.submit(modal, values)
        await bot.slack.wait_for("chat.postMessage", 3)
        view = await open_home(bot, ALICE)
        shown = json.dumps(view)
        assert messages.HOME_START in buttons(view)
        assert sum(b["action_id"].startswith("help_faq_") for b in buttons(view).values()) >= 4
        assert "mail.example.com:587" in shown and "Signed in successfully" in shown
        assert "alice@example.com" not in shown and "pw-canary-1" not in shown
        assert messages.HOME_DASHBOARD not in shown and "failure rate" not in shown


async def test_home_for_an_admin_has_the_dashboard(store: MemoryStore) -> None:
    """An admin's Home adds the five numbers for 7 and 30 days and sparkline trends."""
    async with running_bot(store, settings_changes=ADMINS) as bot:
        await seed(bot.bot.deps.helpdesk, time.time())
        view = await open_home(bot, ADMIN)
        shown = text_of(view)
        assert messages.HOME_DASHBOARD in json.dumps(view)
        assert "Authentication failure rate: *75%* · 83.3%" in shown
        assert "`▁" in shown or "`·" in shown  # trends drawn as bar charts


async def test_stats_command_figures_match_the_seeded_events(store: MemoryStore) -> None:
    """`/smtpcheck stats`: the admin gets exact figures; anyone else a polite refusal."""
    async with running_bot(store, settings_changes=ADMINS) as bot:
        await seed(bot.bot.deps.helpdesk, time.time())
        status, body = await bot.command("stats", user_id="U0BOB")
        assert status == 200 and json.loads(body)["text"] == messages.STATS_DENIED
        status, body = await bot.command("stats", user_id=ADMIN)
        text = text_of(json.loads(body))
    assert "Authentication failure rate: *75%* · 83.3%" in text  # 3/4 and 5/6
    assert "Failed login attempts: *3* · 5" in text
    assert "Time to resolution (median): *1 h* · 1 h (1 · 1 resolved)" in text
    assert "Users affected: *75% (3 of 4)* · 80% (4 of 5)" in text
    assert f"1. `{REPLY}`: 3" in text and "2. `auth_rejected`: 2" in text
    assert "auth failure rate" in text and "resolutions" in text


async def test_checks_feed_the_numbers_and_metrics_endpoint(store: MemoryStore) -> None:
    """A refused check counts a failed login; a later successful one resolves the
    episode; GET /metrics serves the process metrics to anyone and the helpdesk
    figures only with the bearer token."""
    probe = ScriptedProbe(Outcome.AUTH_REJECTED)
    token = "metrics-token-0123456789"
    async with running_bot(
        store, probe=probe, settings_changes={"metrics_token": Secret(token)}
    ) as bot:
        values = form_values(
            host="mail.example.com",
            port="587",
            security="auto",
            username="a@example.com",
            password="pw",
        )
        await bot.submit(await bot.open_modal(), values, view_id="V1")
        await bot.slack.wait_for("chat.postMessage", 3)
        probe.outcome = Outcome.AUTHENTICATED
        await bot.submit(await bot.open_modal(trigger_id="t2"), values, view_id="V2")
        await bot.slack.wait_for("chat.postMessage", 6)
        week = await bot.bot.deps.helpdesk.summary(7)
        assert (week.auth_attempts, week.failed_logins, week.resolutions) == (2, 1, 1)
        assert week.top_errors[0].reply == "auth_rejected"
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{bot.server.port}/metrics"
            async with session.get(url) as response:
                anyone = await response.text()
            for wrong in ("Bearer nope", f"Basic {token}", f"Bearer {token}x"):
                async with session.get(url, headers={"Authorization": wrong}) as response:
                    assert "smtpcheck_helpdesk" not in await response.text()
            bearer = {"Authorization": f"Bearer {token}"}
            async with session.get(url, headers=bearer) as response:
                metrics = await response.text()
    assert "smtpcheck_checks_total" in anyone and "smtpcheck_helpdesk" not in anyone
    assert "smtpcheck_checks_total" in metrics
    assert 'smtpcheck_helpdesk_failed_logins{window="7d"} 1.0' in metrics


class SlowStore(MemoryStore):
    """A store whose metric reads take longer than Slack's ack window."""

    async def event_counts(self, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(5)
        return await super().event_counts(*args, **kwargs)


async def test_stats_on_a_slow_store_still_acks_in_time() -> None:
    """A store too slow for the 3 s ack window gets a clear notice instead of a timeout."""
    async with running_bot(SlowStore(), settings_changes=ADMINS) as bot:
        started = time.monotonic()
        status, body = await bot.command("stats", user_id=ADMIN)
        elapsed = time.monotonic() - started
    assert status == 200 and json.loads(body)["text"] == messages.STATS_UNAVAILABLE
    assert elapsed < 3.0


def test_a_crashed_check_is_not_shown_as_running() -> None:
    """A check that ended in an error on our side reads as not completed, not running."""
    from bot.store import CheckRecord, CheckState
    from handlers.blocks.home import check_line

    now = time.time()
    crashed = CheckRecord(
        check_id="chk-err",
        user_id=ALICE,
        host="mail.example.com",
        port=587,
        security="starttls",
        state=CheckState.DONE,
        created_at=now,
        updated_at=now,
        outcome="error",
    )
    line = check_line(crashed)
    assert messages.HOME_CHECK_FAILED in line and messages.HOME_CHECK_RUNNING not in line


async def test_home_shows_check_times_in_the_readers_time_zone(store: MemoryStore) -> None:
    """App Home asks users.info for the reader's zone once (cached) and shows the time
    of each check in it, with the zone's name."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from handlers import timezones

    timezones._cache.clear()
    async with running_bot(store, probe=ScriptedProbe()) as bot:
        bot.slack.users[ALICE] = {"tz": "Asia/Kolkata", "tz_offset": 19800}
        modal = await bot.open_modal()
        values = form_values(host="mail.example.com", port="587", security="auto")
        await bot.submit(modal, values)
        await bot.slack.wait_for("chat.postMessage", 3)
        record = (await store.list_checks(ALICE, 1))[0]
        first = json.dumps(await open_home(bot, ALICE))
        await open_home(bot, ALICE)
        local = datetime.fromtimestamp(record.created_at, tz=ZoneInfo("Asia/Kolkata"))
        assert local.strftime("%Y-%m-%d %H:%M IST") in first
        assert len(bot.slack.of("users.info")) == 1


async def test_review_list_pages_in_stats_and_app_home(store: MemoryStore) -> None:
    """Past one screen, the questions to review page: "Older questions" replaces the
    stats message (through response_url) and republishes App Home at the next page;
    non-admins cannot page."""
    from bot.helpdesk.feedback import Feedback, ReviewReason
    from handlers.blocks.home import REVIEW_SHOWN
    from tests.support import slack_signing as signing

    feedback = Feedback(store)
    for n in range(REVIEW_SHOWN + 3):
        await feedback.review(f"unanswered question number {n}", ReviewReason.NOT_CONFIDENT)
    async with running_bot(store, settings_changes=ADMINS) as bot:
        _, body = await bot.command("stats", user_id=ADMIN)
        first = json.loads(body)
        shown = text_of(first)
        assert f"number {REVIEW_SHOWN + 2}`" in shown and "number 0`" not in shown
        assert "page 1 of 2" in shown and "Newer questions" not in buttons(first)
        older = buttons(first)["Older questions"]
        await bot.interact(signing.block_action(older["action_id"], older["value"], user_id=ADMIN))
        page2 = (await bot.slack.wait_for("response_url"))[0].params
        assert page2["replace_original"] is True
        assert "number 0`" in text_of(page2) and "page 2 of 2" in text_of(page2)
        assert "Older questions" not in buttons(page2)
        home = await open_home(bot, ADMIN)
        home_older = buttons(home)["Older questions"]
        payload = signing.block_action(home_older["action_id"], "1", user_id=ADMIN)
        payload["container"] = {"type": "view", "view_id": "V1"}
        await bot.interact(payload)
        republished = (await bot.slack.wait_for("views.publish", 2))[1].params["view"]
        assert "page 2 of 2" in json.dumps(republished)
        await bot.interact(signing.block_action(older["action_id"], "1", user_id=ALICE))
        await asyncio.sleep(0.2)
        assert len(bot.slack.of("response_url")) == 1
