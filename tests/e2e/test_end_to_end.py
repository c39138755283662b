"""End to end: the real HTTP app, the real probe engine and diagnosis, a real
SMTP server (aiosmtpd, STARTTLS, AUTH) and a fake Slack Web API; Redis where the
test says so."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.logs import install_redaction
from bot.runtime.wiring import clamp_library_loggers
from bot.secret import Secret
from bot.store import MemoryStore, Store, make_store
from tests.bot.store.support import dump_keys, redis_client, require_redis
from tests.e2e.smtp import PASSWORD, USER, SmtpServer, smtp_server
from tests.support.fake_slack import FakeSlack
from tests.support.harness import Running, form_values, running_bot

CANARY = "Canary-e2e-Wr0ng-4b9a"


@pytest.fixture
async def smtp(tmp_path: Path) -> AsyncIterator[SmtpServer]:
    async with smtp_server(tmp_path) as server:
        yield server


def bot_for(store: Store, smtp: SmtpServer, **kwargs: Any) -> Any:
    return running_bot(
        store,
        probe=None,  # the real engine
        advise=None,  # the real diagnosis
        extra_ports=(smtp.port,),
        settings_changes={"ca_file": smtp.ca_file},
        deadline=15.0,
        **kwargs,
    )


async def check(bot: Running, smtp: SmtpServer, password: str, *, view_id: str = "V1") -> None:
    view = await bot.open_modal(channel_id="C0GENERAL")
    values = form_values(
        host="127.0.0.1", port=str(smtp.port), security="starttls", username=USER, password=password
    )
    status, text = await bot.submit(view, values, view_id=view_id)
    assert (status, text) == (200, "")


def thread_of(slack: FakeSlack) -> tuple[str, str]:
    """(final parent text, verdict message as JSON) of the last check."""
    parent = slack.of("chat.update")[-1].params["text"]
    verdict = json.dumps(slack.of("chat.postMessage")[-1].params)
    return parent, verdict


async def test_right_password_signs_in(smtp: SmtpServer) -> None:
    """A correct password: the DM thread says signed in, after exactly one AUTH."""
    async with bot_for(MemoryStore(), smtp) as bot:
        await check(bot, smtp, PASSWORD)
        await bot.slack.wait_for("chat.postMessage", 3, within=30)
        parent, verdict = thread_of(bot.slack)
        assert "Signed in successfully" in parent and "Signed in successfully" in verdict
        assert PASSWORD not in bot.slack.everything()
    assert smtp.auth_attempts == [USER]


async def test_wrong_password_gets_a_diagnosis_and_leaks_nowhere(
    smtp: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A wrong password: refused verdict, diagnosis with article titles and the fix
    button; the canary is in no Slack call and no log line at DEBUG."""
    install_redaction()
    clamp_library_loggers("DEBUG")
    caplog.set_level(logging.DEBUG)
    async with bot_for(MemoryStore(), smtp) as bot:
        await check(bot, smtp, CANARY)
        await bot.slack.wait_for("chat.postMessage", 3, within=30)
        parent, verdict = thread_of(bot.slack)
        assert "refused the sign-in" in parent
        assert "Walk me through the fix" in verdict and "Read more" in verdict
        assert CANARY not in bot.slack.everything()
    assert smtp.auth_attempts == [USER]
    assert any(r.levelno == logging.DEBUG for r in caplog.records)
    assert CANARY not in caplog.text


async def redis_store(namespace: str) -> Store:
    require_redis()
    return make_store(Settings(redis_url=Secret("redis://127.0.0.1:6379/0")), namespace=namespace)


async def redis_dump(namespace: str) -> str:
    """Every key and value under ``namespace``, as text."""
    client = redis_client()
    try:
        return await dump_keys(client, f"{namespace}:*")
    finally:
        await client.aclose()


async def test_two_processes_share_one_redis(smtp: SmtpServer) -> None:
    """The command is served by one bot, the submission by another sharing Redis; the
    check runs and no Redis key or value holds the password."""
    namespace = f"e2e-{uuid.uuid4().hex}"
    first, second = await redis_store(namespace), await redis_store(namespace)
    slack = await FakeSlack().start()
    try:
        async with (
            bot_for(first, smtp, slack=slack) as one,
            bot_for(second, smtp, slack=slack) as two,
        ):
            view = await one.open_modal(channel_id="C0GENERAL")
            values = form_values(
                host="127.0.0.1",
                port=str(smtp.port),
                security="starttls",
                username=USER,
                password=CANARY,
            )
            assert await two.submit(view, values) == (200, "")
            assert await one.submit(view, values) == (200, "")  # duplicate: no effect
            await slack.wait_for("chat.postMessage", 3, within=30)
            check_id = slack.of("chat.postMessage")[-1].params["blocks"][-1]["elements"][0]["value"]
            record = await first.get_check(check_id)  # visible to the other process
            assert record is not None and record.outcome == "auth_rejected"
        assert smtp.auth_attempts == [USER]
        dump = await redis_dump(namespace)
        assert dump and CANARY not in dump
        assert CANARY not in slack.everything()
    finally:
        await first.close()
        await second.close()
        await slack.stop()
