"""A running bot for tests: the real HTTP server (bot.runtime.server) on port 0, a fake
Slack Web API, and a client that sends signed requests the way Slack does."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.checks.advice import Advice, AdviseFn
from bot.checks.contracts import ProbeFn
from bot.checks.limits import RateLimiter
from bot.config import Settings
from bot.resolver import make_resolver
from bot.runtime.server import BotServer
from bot.runtime.wiring import Bot, build_app, make_client
from bot.secret import Secret
from bot.store.base import Store
from knowledge.model import ArticleRef
from tests.support import slack_signing as signing
from tests.support.fake_slack import FakeSlack

SIGNING_SECRET = "test-signing-secret"
HELPDESK = "C0HELPDESK"
UNREACHABLE_HOOKS = "https://hooks.invalid/"  # slack_signing's default response_url base


def test_settings(api_url: str, *, extra_ports: tuple[int, ...] = (), **changes: Any) -> Settings:
    """Settings for tests: fake Slack, loopback allowed for the probe."""
    values: dict[str, Any] = {
        "slack_bot_token": Secret("xoxb-test-token"),
        "slack_signing_secret": Secret(SIGNING_SECRET),
        "slack_api_url": api_url,
        "allow_networks": (ipaddress.ip_network("127.0.0.0/8"),),
        "allowed_ports": frozenset({25, 465, 587, 2525, *extra_ports}),
        "dns_servers": (("127.0.0.1", 9),),  # nothing answers: no public DNS, ever
        "helpdesk_channel": HELPDESK,
    }
    values.update(changes)
    return Settings(**values)


def plain_advice(report: Any) -> Advice:
    """A real-looking advice for handler tests that do not exercise the diagnosis."""
    return Advice(
        summary=f"outcome was {report.outcome.value}",
        cause="test cause",
        articles=(
            ArticleRef(
                id="check-credentials",
                title="Check your username and password",
                summary="Most failed logins are a wrong username or password.",
            ),
        ),
        next_steps=("Retype the password.",),
    )


@dataclass(slots=True)
class Running:
    bot: Bot
    server: BotServer
    slack: FakeSlack
    session: aiohttp.ClientSession
    url: str

    async def post(
        self,
        body: str,
        *,
        content_type: str,
        timestamp: int | None = None,
        secret: str = SIGNING_SECRET,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        signed = signing.signed_headers(
            body, secret, timestamp=timestamp, content_type=content_type
        )
        signed.update(headers or {})
        async with self.session.post(self.url, data=body.encode(), headers=signed) as response:
            return response.status, await response.text()

    async def command(self, text: str = "", **kwargs: Any) -> tuple[int, str]:
        kwargs.setdefault("response_url", self.slack.hook_url + "commands/1")
        return await self.post(signing.command_body(text, **kwargs), content_type=signing.FORM)

    async def interact(self, payload: dict[str, Any]) -> tuple[int, str]:
        """Send an interactivity payload; its ``response_url`` points at the fake Slack."""
        url = str(payload.get("response_url", ""))
        if url.startswith(UNREACHABLE_HOOKS):
            hook = self.slack.hook_url + url.removeprefix(UNREACHABLE_HOOKS)
            payload = {**payload, "response_url": hook}
        return await self.post(signing.interactive_body(payload), content_type=signing.FORM)

    async def event(self, event: dict[str, Any], **kwargs: Any) -> tuple[int, str]:
        headers = kwargs.pop("headers", None)
        return await self.post(
            signing.event_body(event, **kwargs), content_type=signing.JSON, headers=headers
        )

    async def open_modal(self, text: str = "", **kwargs: Any) -> dict[str, Any]:
        """Run /smtpcheck and return the view the bot opened."""
        before = len(self.slack.of("views.open"))
        status, _ = await self.command(text, **kwargs)
        assert status == 200
        calls = await self.slack.wait_for("views.open", before + 1)
        view: dict[str, Any] = calls[-1].params["view"]
        return json.loads(view) if isinstance(view, str) else view

    async def submit(
        self, view: dict[str, Any], values: dict[str, Any], **kwargs: Any
    ) -> tuple[int, str]:
        return await self.interact(signing.view_submission(view, values, **kwargs))


def form_values(**fields: str | None) -> dict[str, Any]:
    """Modal state values as Slack sends them (block_id -> {action_id: state})."""
    values: dict[str, Any] = {}
    for block_id, value in fields.items():
        if block_id == "security":
            option = {"value": value} if value else None
            values[block_id] = {"value": {"type": "static_select", "selected_option": option}}
        else:
            values[block_id] = {"value": {"type": "plain_text_input", "value": value}}
    return values


@asynccontextmanager
async def running_bot(
    store: Store,
    *,
    probe: ProbeFn | None = None,
    advise: AdviseFn | None = plain_advice,
    limiter: RateLimiter | None = None,
    settings_changes: dict[str, Any] | None = None,
    extra_ports: tuple[int, ...] = (),
    deadline: float = 10.0,
    slack: FakeSlack | None = None,
    client_timeouts: tuple[float, float] | None = None,
) -> AsyncIterator[Running]:
    """Start fake Slack (unless given) and the real HTTP server; stop both after.
    ``client_timeouts``: (per attempt, per call) bounds of the Slack client, in seconds."""
    own_slack = slack is None
    slack = slack or await FakeSlack().start()
    settings = test_settings(slack.api_url, extra_ports=extra_ports, **(settings_changes or {}))
    client = None
    if client_timeouts is not None:
        client = make_client(
            settings, attempt_timeout=client_timeouts[0], budget=client_timeouts[1]
        )
    bot = build_app(
        settings,
        store=store,
        client=client,
        resolver=make_resolver(settings.dns_servers, lifetime=1.0),
        probe=probe,
        advise=advise,
        limiter=limiter,
        deadline=deadline,
    )
    server = BotServer(bot, host="127.0.0.1", port=0)
    port = await server.start()
    try:
        async with aiohttp.ClientSession() as session:
            yield Running(bot, server, slack, session, f"http://127.0.0.1:{port}/slack/events")
    finally:
        await server.stop()
        if own_slack:
            await slack.stop()
