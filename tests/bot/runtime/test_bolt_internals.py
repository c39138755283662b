"""The slack_bolt internals ``bot.runtime.server.PromptAck`` relies on, pinned by test.

slack-bolt is pinned to its tested major version (pyproject); these tests fail first if
a release changes what the custom events endpoint leans on: a context-supplied ``ack``
being the one listeners get, ``AsyncAck()`` taking no arguments, and its call returning
the ``BoltResponse`` sent to Slack. They also keep start-up free of Bolt's misleading
"token will be unused" warning.
"""

from __future__ import annotations

import asyncio
import logging
from importlib.metadata import version
from urllib.parse import urlencode

import pytest
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.runtime.server import PromptAck
from bot.runtime.wiring import BOLT_LOGGER, build_app
from bot.store import MemoryStore
from tests.support.harness import test_settings as settings_for


def test_the_pinned_major_version_is_installed() -> None:
    """The tests below describe slack-bolt 1.x, the range pyproject allows."""
    assert version("slack-bolt").split(".")[0] == "1"


async def test_a_context_supplied_ack_is_the_one_listeners_call() -> None:
    """Bolt hands listeners the ``ack`` put in the request context, and its response
    (an ``AsyncAck`` subclass built with no arguments) is the one Bolt answers with."""

    async def authorize(**_: object) -> AuthorizeResult:  # no auth.test: only the ack matters
        return AuthorizeResult(enterprise_id=None, team_id="T1", bot_token="xoxb-x", bot_id="B1")

    app = AsyncApp(signing_secret="unused", request_verification_enabled=False, authorize=authorize)
    seen: list[object] = []

    @app.command("/probe")
    async def on_command(ack: AsyncAck) -> None:
        seen.append(ack)
        await ack(text="pong")

    answer: asyncio.Future[BoltResponse] = asyncio.get_running_loop().create_future()
    prompt = PromptAck(answer)
    body = urlencode({"command": "/probe", "text": "", "team_id": "T1", "user_id": "U1"})
    request = AsyncBoltRequest(
        body=body,
        headers={"content-type": ["application/x-www-form-urlencoded"]},
        context={"ack": prompt},
    )
    assert request.context.ack is prompt
    response = await app.async_dispatch(request)
    assert seen == [prompt]
    assert answer.done() and isinstance(answer.result(), BoltResponse)
    assert answer.result().status == 200 and "pong" in answer.result().body
    assert response.status == 200


def test_start_up_has_no_token_unused_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """With SLACK_BOT_TOKEN in the environment (as in production) building the app logs
    no warning: the token Bolt says is unused is the one our client carries."""
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-from-the-environment")
    with caplog.at_level(logging.WARNING):
        build_app(settings_for("http://127.0.0.1:9/api/"), store=MemoryStore())
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    assert logging.getLogger(BOLT_LOGGER).filters
