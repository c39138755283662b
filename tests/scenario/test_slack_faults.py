"""Slack misbehaving while a check runs: 500s are retried once, a stalled call is cut
off within its budget, and a verdict that cannot be posted richly is posted plainly,
never turned into "error" and never booked twice."""

from __future__ import annotations

import time

from bot.checks.limits import RateLimiter
from bot.probe.model import Outcome
from bot.store import MemoryStore
from tests.e2e.processes import wait_until
from tests.support import slack_signing as signing
from tests.support.harness import Running, form_values, running_bot
from tests.support.scripted import ScriptedProbe

CANARY = "Canary-sl4ck-f4ults"


async def start_check(bot: Running) -> None:
    view = await bot.open_modal()
    values = form_values(host="mail.example.com", username="alice@example.com", password=CANARY)
    assert await bot.submit(view, values) == (200, "")


async def test_a_slack_500_is_retried_once() -> None:
    """The parent message's first try gets 500: retried, and the check runs to its verdict."""
    store = MemoryStore()
    async with running_bot(store, probe=ScriptedProbe(Outcome.AUTH_REJECTED)) as bot:
        bot.slack.error_next("chat.postMessage", status=500)
        await start_check(bot)
        posts = await bot.slack.wait_for("chat.postMessage", 3)
    assert [c.method for c in bot.slack.calls].count("chat.postMessage#500") == 1
    assert "refused the sign-in" in str(bot.slack.of("chat.update")[-1].params["text"])
    assert "Walk me through the fix" in str(posts[-1].params)


async def test_a_stalled_slack_call_is_cut_off_within_its_budget() -> None:
    """chat.update hangs far longer than the budget: the call gives up within its budget and the
    verdict still reaches the thread, seconds later rather than minutes."""
    store = MemoryStore()
    async with running_bot(
        store, probe=ScriptedProbe(Outcome.AUTH_REJECTED), client_timeouts=(0.5, 1.5)
    ) as bot:
        bot.slack.stall_next("chat.update", 120.0, times=10)
        started = time.monotonic()
        await start_check(bot)
        runner = bot.bot.deps.runner
        await wait_until(lambda: runner.in_flight == 0, "the check to end", within=20)
        elapsed = time.monotonic() - started
        texts = [str(c.params.get("text", "")) for c in bot.slack.of("chat.postMessage")]
    assert elapsed < 15
    assert any("Your check of mail.example.com:587 finished" in t or "refused" in t for t in texts)


async def test_a_verdict_slack_refuses_is_posted_plainly_and_not_rebooked() -> None:
    """Posting the verdict fails (500 on every retry): it is sent as plain text, the
    record keeps its real outcome, and the failed AUTH is booked exactly once."""
    store = MemoryStore()
    limiter = RateLimiter(store)
    async with running_bot(
        store, probe=ScriptedProbe(Outcome.AUTH_REJECTED), limiter=limiter
    ) as bot:
        bot.slack.error_next("chat.update", status=500, times=8)
        await start_check(bot)
        runner = bot.bot.deps.runner
        await wait_until(lambda: runner.in_flight == 0, "the check to end", within=30)
        (record,) = await store.list_checks("U0ALICE")
        plain = [str(c.params.get("text", "")) for c in bot.slack.of("chat.postMessage")]
    assert record.outcome == Outcome.AUTH_REJECTED.value
    assert any(t.startswith("Your check of mail.example.com:587 finished.") for t in plain), plain
    assert "refused" in plain[-1]
    for account in record.accounts:
        assert await store.count(f"auth-fail:{account}", window=900) == 1
    assert CANARY not in bot.slack.everything()


async def test_while_the_web_api_is_down_commands_ack_and_apologise_where_they_can() -> None:
    """The Web API answers 503 to everything: /smtpcheck still gets its fast ack (no 500),
    and the apology goes through the command's response_url."""
    async with running_bot(MemoryStore(), probe=ScriptedProbe(), client_timeouts=(1.0, 3.0)) as bot:
        bot.slack.down = True
        body = signing.command_body(response_url=bot.slack.response_url)
        started = time.monotonic()
        status, _ = await bot.post(body, content_type=signing.FORM)
        assert status == 200 and time.monotonic() - started < 2.0
        (apology,) = await bot.slack.wait_for("response_url", 1, within=20)
    assert "Slack did not answer me in time" in apology.params["text"]  # not "on my side"
    assert apology.params["response_type"] == "ephemeral"


async def test_a_rate_limited_views_open_is_given_up_when_the_trigger_expires() -> None:
    """views.open answers 429 with Retry-After 30: the trigger is dead after 3 s, so the
    bot stops waiting by then and says Slack was busy, instead of 25 s of silence and
    'something went wrong on my side'."""
    async with running_bot(MemoryStore(), probe=ScriptedProbe()) as bot:
        bot.slack.fail_next("views.open", retry_after=30)
        body = signing.command_body(response_url=bot.slack.response_url)
        started = time.monotonic()
        status, _ = await bot.post(body, content_type=signing.FORM)
        assert status == 200
        (apology,) = await bot.slack.wait_for("response_url", 1, within=20)
        told_after = time.monotonic() - started
    assert told_after < 6, told_after
    assert "Slack did not answer me in time" in apology.params["text"]
    assert apology.params["response_type"] == "ephemeral"
