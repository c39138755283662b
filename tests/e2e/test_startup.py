"""Start-up and shutdown of a real ``python -m bot`` against a Slack that says no, one
that cannot be reached, and a Socket Mode endpoint that hands out a dead WebSocket URL."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.processes import ROOT, free_port, wait_until
from tests.support import slack_signing as signing
from tests.support.fake_slack import FakeSlack

SIGNING_SECRET = "startup-e2e-signing-secret"


def environment(api_url: str, port: int, **extra: str) -> dict[str, str]:
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "SMTPCHECK_", "REDIS_")) and k not in ("PORT", "LOG_LEVEL")
    }
    return {
        **inherited,
        "SLACK_BOT_TOKEN": "xoxb-startup-test",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": api_url,
        "PORT": str(port),
        "SMTPCHECK_DNS_SERVERS": "127.0.0.1:9",
        "LOG_LEVEL": "INFO",
        **extra,
    }


@asynccontextmanager
async def bot_process(env: dict[str, str], log: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=ROOT,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=out,
        )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_a_token_slack_refuses_stops_start_up_with_one_line(tmp_path: Path) -> None:
    """auth.test says invalid_auth: exit 2 with one line naming SLACK_BOT_TOKEN."""
    slack = await FakeSlack(auth_error="invalid_auth").start()
    try:
        log = tmp_path / "bot.log"
        async with bot_process(environment(slack.api_url, free_port()), log) as process:
            assert await asyncio.wait_for(process.wait(), 30) == 2
        text = log.read_text()
        (line,) = [line for line in text.splitlines() if line.startswith("smtpcheck-bot:")]
        assert "SLACK_BOT_TOKEN" in line and "invalid_auth" in line
        assert "Traceback" not in text and "xoxb-startup-test" not in text
    finally:
        await slack.stop()


@pytest.mark.parametrize("outage", ["answers-503", "refuses-connections"])
async def test_an_unreachable_slack_is_said_once_and_commands_still_ack(
    tmp_path: Path, outage: str
) -> None:
    """Slack's API answers 503 to everything, or nothing listens: the bot starts, says
    so once, acks commands fast (no HTTP 500, no traceback), and stops on SIGTERM."""
    slack = await FakeSlack().start()
    slack.down = True
    api_url = slack.api_url if outage == "answers-503" else f"http://127.0.0.1:{free_port()}/api/"
    port = free_port()
    log = tmp_path / "bot.log"
    try:
        async with bot_process(environment(api_url, port), log) as process:
            await wait_until(lambda: "listening on" in log.read_text(), "listening", within=30)
            async with aiohttp.ClientSession() as session:
                for _ in range(3):
                    body = signing.command_body("help")
                    headers = signing.signed_headers(
                        body, SIGNING_SECRET, content_type=signing.FORM
                    )
                    started = time.monotonic()
                    async with session.post(
                        f"http://127.0.0.1:{port}/slack/events", data=body, headers=headers
                    ) as response:
                        assert response.status == 200
                    assert time.monotonic() - started < 3.0
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 30) == 0
        text = log.read_text()
        assert text.count("Slack is unreachable") == 1, text
        assert "Traceback" not in text, text
    finally:
        await slack.stop()


async def test_socket_mode_against_a_dead_endpoint_stops_on_sigterm(tmp_path: Path) -> None:
    """apps.connections.open hands out a WebSocket URL nobody listens on: one log line
    per retry, no traceback, and SIGTERM stops the bot within a few seconds."""
    slack = await FakeSlack().start()
    slack.socket_url = f"ws://127.0.0.1:{free_port()}/link"
    log = tmp_path / "bot.log"
    env = environment(slack.api_url, free_port(), SLACK_APP_TOKEN="xapp-startup-test")
    try:
        async with bot_process(env, log) as process:
            await wait_until(
                lambda: log.read_text().count("Failed to connect") >= 2, "two retries", within=40
            )
            process.send_signal(signal.SIGTERM)
            stopped = time.monotonic()
            assert await asyncio.wait_for(process.wait(), 15) == 0
            assert time.monotonic() - stopped < 8
        text = log.read_text()
        assert "Traceback" not in text, text
        retries = [line for line in text.splitlines() if "Failed to connect" in line]
        assert len(retries) >= 2 and all("Retrying" in line for line in retries)
        assert "xapp-startup-test" not in text
    finally:
        await slack.stop()


async def test_a_healthy_http_start_logs_no_warnings(tmp_path: Path) -> None:
    """Against a Slack that answers, an HTTP-mode start and SIGTERM log no WARNING at
    all: not slack_bolt's "will be unused" token warning, nothing else misleading."""
    slack = await FakeSlack().start()
    port = free_port()
    log = tmp_path / "bot.log"
    try:
        async with bot_process(environment(slack.api_url, port), log) as process:
            await wait_until(lambda: "listening on" in log.read_text(), "listening", within=30)
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"http://127.0.0.1:{port}/healthz") as response,
            ):
                assert response.status == 200
            assert slack.of("auth.test")
            process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(process.wait(), 30) == 0
        text = log.read_text()
        warnings = [line for line in text.splitlines() if " WARNING " in line or "ERROR" in line]
        assert warnings == [], text
        assert "Traceback" not in text and "will be unused" not in text, text
    finally:
        await slack.stop()
