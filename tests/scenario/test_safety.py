"""Safety and reliability through the real HTTP endpoint: signatures, retries,
rate limits, lockout, a dead store, the restart sweep, Slack 429s, health and
metrics, and log hygiene at DEBUG."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import time
from typing import Any

import pytest

from bot import messages
from bot.checks.limits import RateLimiter, RateLimits
from bot.config import Settings
from bot.logs import install_redaction
from bot.probe.model import Outcome
from bot.runtime.wiring import CHATTY_LOGGERS, clamp_library_loggers
from bot.secret import Secret
from bot.store import CheckRecord, CheckState, MemoryStore, make_store
from tests.support import slack_signing as signing
from tests.support.harness import Running, form_values, running_bot
from tests.support.scripted import ScriptedProbe

CANARY = "Canary-s4fety-9d1c"


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def submit_check(bot: Running, *, view_id: str, username: str = "alice@example.com") -> Any:
    """Open the modal and submit a check; return the parsed ack body (or None if empty)."""
    view = await bot.open_modal()
    values = form_values(host="mail.example.com", username=username, password=CANARY)
    status, text = await bot.submit(view, values, view_id=view_id)
    assert status == 200
    return json.loads(text) if text else None


async def test_bad_or_stale_signature_is_rejected(store: MemoryStore) -> None:
    """A wrong signature or a timestamp older than 300 s gets 401 and no effect."""
    async with running_bot(store, probe=ScriptedProbe()) as bot:
        body = signing.command_body("")
        status, _ = await bot.post(body, content_type=signing.FORM, secret="wrong")
        assert status == 401
        stale = int(time.time()) - 400
        status, _ = await bot.post(body, content_type=signing.FORM, timestamp=stale)
        assert status == 401
        assert not bot.slack.of("views.open")


async def test_retried_event_has_one_effect(store: MemoryStore) -> None:
    """The same event_id delivered again (X-Slack-Retry-Num) is answered once."""
    event = {
        "type": "message",
        "channel_type": "im",
        "channel": "D0ALICE",
        "user": "U0ALICE",
        "text": "my iphone says the password is wrong",
        "ts": "1700.1",
    }
    async with running_bot(store, probe=ScriptedProbe()) as bot:
        for retry in ("", "1", "2"):
            headers = {"X-Slack-Retry-Num": retry, "X-Slack-Retry-Reason": "http_timeout"}
            status, _ = await bot.event(event, event_id="Ev42", headers=headers if retry else None)
            assert status == 200
        await bot.slack.wait_for("chat.postMessage", 1)
        # A new message (its own ts and event id) still gets through.
        await bot.event({**event, "ts": "1700.2"}, event_id="Ev43")
        await bot.slack.wait_for("chat.postMessage", 2)
        assert len(bot.slack.of("chat.postMessage")) == 2


async def test_user_rate_limit_refuses_with_reason_and_time(store: MemoryStore) -> None:
    """Over the per-user quota the modal turns into a notice saying why and when."""
    limiter = RateLimiter(store, limits=RateLimits(user_checks=1))
    probe = ScriptedProbe()
    async with running_bot(store, probe=probe, limiter=limiter) as bot:
        assert await submit_check(bot, view_id="V1") is None
        refused = await submit_check(bot, view_id="V2")
    assert refused["response_action"] == "update"
    text = json.dumps(refused["view"])
    assert "1 checks in the last 10 minutes" in text and "try again in" in text
    assert len(probe.requests) == 1


async def test_failed_sign_ins_lock_the_account_out(store: MemoryStore) -> None:
    """After the allowed failed AUTHs for host+username, further checks are refused;
    another username on the same host still runs."""
    limiter = RateLimiter(store, limits=RateLimits(auth_failures=1))
    probe = ScriptedProbe(Outcome.AUTH_REJECTED)
    async with running_bot(store, probe=probe, limiter=limiter) as bot:
        assert await submit_check(bot, view_id="V1") is None
        await bot.slack.wait_for("chat.postMessage", 3)
        refused = await submit_check(bot, view_id="V2")
        assert "failed to sign in 1 times" in json.dumps(refused["view"])
        assert await submit_check(bot, view_id="V3", username="bob@example.com") is None
    assert len(probe.requests) == 2


async def test_store_down_refuses_checks_but_answers_questions() -> None:
    """With Redis unreachable a check is refused (fail closed) with a clear notice,
    while the modal still opens and questions are still answered."""
    dead = make_store(Settings(redis_url=Secret(f"redis://127.0.0.1:{closed_port()}/0")))
    probe = ScriptedProbe()
    try:
        async with running_bot(dead, probe=probe) as bot:
            refused = await submit_check(bot, view_id="V1")
            assert messages.REFUSED_STORE in json.dumps(refused["view"])
            status, text = await bot.command("how do I set up an app password for gmail")
            assert status == 200 and json.loads(text)["blocks"]
            async with bot.session.get(bot.url.replace("/slack/events", "/healthz")) as health:
                assert health.status == 503  # checks are refused: say so to the balancer
                assert (await health.json())["store"] == "unreachable"
    finally:
        await dead.close()
    assert probe.requests == []


async def test_interrupted_checks_are_closed_out_and_owners_told_once(store: MemoryStore) -> None:
    """A check a dead process left running is marked interrupted at start-up and its
    owner told once, even across two start-ups, its parent message closed; never re-run."""
    stale = time.time() - 1000
    record = CheckRecord(
        check_id="chk1",
        user_id="U0ALICE",
        host="mail.example.com",
        port=587,
        security="starttls",
        state=CheckState.RUNNING,
        created_at=stale,
        updated_at=stale,
        channel="D0ALICE",
        thread_ts="1700.5",
    )
    fresh = CheckRecord(
        check_id="chk2",
        user_id="U0BOB",
        host="mail.example.com",
        port=587,
        security="starttls",
        state=CheckState.RUNNING,
        created_at=time.time(),
        updated_at=time.time(),
        channel="D0BOB",
        thread_ts="1700.6",
    )
    await store.save_check(record)
    await store.save_check(fresh)
    probe = ScriptedProbe()
    async with running_bot(store, probe=probe) as bot:
        slack = bot.slack
        async with running_bot(store, probe=probe, slack=slack):
            pass
        notices = slack.of("chat.postMessage")
        updates = slack.of("chat.update")
    assert len(notices) == 1
    assert notices[0].params["thread_ts"] == "1700.5"
    assert "interrupted" in notices[0].params["text"]
    assert notices[0].params["reply_broadcast"] in (True, "true", "1")  # seen, like a verdict
    # and the parent message stops saying "Checking host:port ..."
    (update,) = updates
    assert (update.params["channel"], update.params["ts"]) == ("D0ALICE", "1700.5")
    assert "interrupted" in update.params["text"] and "Checking" not in update.params["text"]
    done = await store.get_check("chk1")
    assert done is not None and done.state is CheckState.INTERRUPTED
    alive = await store.get_check("chk2")  # may belong to a live process: left alone
    assert alive is not None and alive.state is CheckState.RUNNING
    assert probe.requests == []


async def test_slack_429_is_retried_after_retry_after(store: MemoryStore) -> None:
    """views.open answered 429 once is sent again after Retry-After, and the modal opens."""
    async with running_bot(store, probe=ScriptedProbe()) as bot:
        bot.slack.fail_next("views.open", retry_after=1)
        await bot.open_modal()
        first, second = [c for c in bot.slack.calls if c.method.startswith("views.open")]
    assert first.method == "views.open#429" and second.method == "views.open"
    assert second.at - first.at >= 1.0


async def test_healthz_and_metrics(store: MemoryStore) -> None:
    """/healthz reports the store; /metrics counts commands and checks by outcome."""
    async with running_bot(store, probe=ScriptedProbe()) as bot:
        await submit_check(bot, view_id="V1")
        await bot.slack.wait_for("chat.postMessage", 3)
        base = bot.url.replace("/slack/events", "")
        async with bot.session.get(base + "/healthz") as health:
            assert health.status == 200 and (await health.json())["store"] == "ok"
        async with bot.session.get(base + "/metrics") as response:
            text = await response.text()
    assert 'smtpcheck_commands_total{kind="modal"} 1.0' in text
    assert 'smtpcheck_checks_total{outcome="authenticated"} 1.0' in text


async def test_no_password_in_logs_at_debug(
    store: MemoryStore, caplog: pytest.LogCaptureFixture
) -> None:
    """At DEBUG, chatty libraries stay at INFO and the canary appears in no log line."""
    install_redaction()
    clamp_library_loggers("DEBUG")
    caplog.set_level(logging.DEBUG)
    async with running_bot(store, probe=ScriptedProbe(Outcome.AUTH_REJECTED)) as bot:
        await submit_check(bot, view_id="V1")
        await bot.slack.wait_for("chat.postMessage", 3)
        assert CANARY not in bot.slack.everything()
    assert all(logging.getLogger(n).getEffectiveLevel() >= logging.INFO for n in CHATTY_LOGGERS)
    assert any(r.levelno == logging.DEBUG for r in caplog.records)  # DEBUG really was on
    assert CANARY not in caplog.text
    assert all(CANARY not in r.getMessage() for r in caplog.records)


async def test_shutdown_refuses_new_checks_and_finishes_running_ones(store: MemoryStore) -> None:
    """On SIGTERM (server.stop) new checks are refused politely, /healthz says 503,
    and the check already running finishes and posts its verdict before exit."""
    hold = asyncio.Event()
    probe = ScriptedProbe(hold=hold)
    async with running_bot(store, probe=probe) as bot:
        assert await submit_check(bot, view_id="V1") is None
        await bot.slack.wait_for("chat.update", 1)  # the probe is under way
        stopping = asyncio.create_task(bot.server.stop())
        await asyncio.sleep(0.1)
        refused = await submit_check(bot, view_id="V2")
        assert messages.REFUSED_DRAINING in json.dumps(refused["view"])
        async with bot.session.get(bot.url.replace("/slack/events", "/healthz")) as health:
            assert health.status == 503
        hold.set()
        await stopping
        assert len(bot.slack.of("chat.postMessage")) == 3  # parent, details, verdict
    assert len(probe.requests) == 1


async def test_unexpected_errors_reach_the_user_without_a_traceback() -> None:
    """A failure inside a listener (store down on a button) becomes one ephemeral
    message with a reference, no traceback, and an error counted in /metrics."""
    dead = make_store(Settings(redis_url=Secret(f"redis://127.0.0.1:{closed_port()}/0")))
    try:
        async with running_bot(dead, probe=ScriptedProbe()) as bot:
            await bot.interact(signing.block_action("check_again", "chk-x"))
            told = (await bot.slack.wait_for("response_url"))[0].params
            async with bot.session.get(bot.url.replace("/slack/events", "/metrics")) as response:
                metrics = await response.text()
    finally:
        await dead.close()
    assert told["response_type"] == "ephemeral" and "reference" in told["text"]
    assert "Traceback" not in told["text"] and "StoreUnavailable" not in told["text"]
    assert 'smtpcheck_errors_total{where="block_actions"} 1.0' in metrics


def stale_record(check_id: str, *, hold: str | None = None) -> CheckRecord:
    """A running check last touched long ago, as a process that died would leave it."""
    stale = time.time() - 1000
    return CheckRecord(
        check_id=check_id,
        user_id="U0ALICE",
        host="mail.example.com",
        port=587,
        security="starttls",
        username="alice@example.com",
        state=CheckState.RUNNING,
        created_at=stale,
        updated_at=stale,
        channel="D0ALICE",
        thread_ts="1800.5",
        hold=hold,
    )


async def test_sweep_frees_the_dead_process_holds(store: MemoryStore) -> None:
    """After an interrupted check is closed out, its owner's retry for the same account
    is admitted at once instead of being refused as 'already running'."""
    limiter = RateLimiter(store)
    held = await limiter.check_start("U0ALICE", "mail.example.com", "alice@example.com")
    await store.save_check(stale_record("chk-held", hold=held.token))
    async with running_bot(store, probe=ScriptedProbe(), limiter=limiter):
        pass  # start-up sweep
    retry = await limiter.check_start("U0ALICE", "mail.example.com", "alice@example.com")
    await limiter.finish(retry)


async def test_sweep_keeps_running_while_the_process_lives(store: MemoryStore) -> None:
    """A peer that dies after this process started is still swept, periodically."""
    from bot.runtime.server import BotServer

    async with running_bot(store, probe=ScriptedProbe()) as bot:
        server = BotServer(bot.bot, host="127.0.0.1", port=0, sweep_every=0.2)
        await server.start()
        try:
            await store.save_check(stale_record("chk-late"))  # dies after start-up
            notices = await bot.slack.wait_for("chat.postMessage", 1, within=10)
        finally:
            await server.stop()
    assert notices[0].params["thread_ts"] == "1800.5"
    assert "interrupted" in notices[0].params["text"]


async def test_a_badly_signed_submission_leaks_no_password(
    store: MemoryStore, caplog: pytest.LogCaptureFixture
) -> None:
    """A stale modal submission gets 401 before its body is parsed (Bolt, which logs
    the raw body of such requests, never sees it): the password is in no log line."""
    install_redaction()
    clamp_library_loggers("DEBUG")
    caplog.set_level(logging.DEBUG)
    canary = "Canary-stale-7c1e"
    async with running_bot(store, probe=ScriptedProbe()) as bot:
        view = await bot.open_modal()
        values = form_values(host="smtp.example.com", username="a@example.com", password=canary)
        body = signing.interactive_body(signing.view_submission(view, values))
        stale = int(time.time()) - 400
        status, _ = await bot.post(body, content_type=signing.FORM, timestamp=stale)
    assert status == 401
    assert "Invalid request signature" not in caplog.text  # refused before Bolt
    assert canary not in caplog.text


async def test_a_crashed_check_tells_the_user_and_frees_its_limits(
    store: MemoryStore, caplog: pytest.LogCaptureFixture
) -> None:
    """A probe that blows up (with the password in its error) gives the user a
    reference in the DM thread, frees the check's hold, and logs no password."""
    install_redaction()
    caplog.set_level(logging.DEBUG)

    async def broken(request: Any, on_step: Any, before_auth: Any) -> Any:
        raise RuntimeError(f"engine bug near {request.password.reveal()}")

    limiter = RateLimiter(store, limits=RateLimits(user_checks=5))
    async with running_bot(store, probe=broken, limiter=limiter) as bot:
        assert await submit_check(bot, view_id="V1") is None
        told = await bot.slack.wait_for("chat.postMessage", 2)
        assert await submit_check(bot, view_id="V2") is None  # the hold was released
        assert CANARY not in bot.slack.everything()
    parent, crash = told[0].params, told[1].params
    assert crash["channel"] == parent["channel"] and crash.get("thread_ts")
    assert "reference" in crash["text"] and "Traceback" not in crash["text"]
    assert "engine bug near [redacted]" in caplog.text  # the error really was logged
    assert CANARY not in caplog.text
