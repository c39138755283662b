"""Deflection and escalation rates end to end: help threads started in the DM, "That
fixed it" and "Talk to a human" clicked through the signed endpoint, the rates read in
``/smtpcheck stats``, the App Home dashboard and ``GET /metrics``."""

from __future__ import annotations

import json

import aiohttp

from bot.secret import Secret
from bot.store import MemoryStore
from tests.support.harness import running_bot
from tests.support.helpdesk import buttons, click, next_post, send_message, text_of

ADMIN = "U0ALICE"  # the asker is also an admin here, so one user drives every surface
TOKEN = "metrics-token-deflection-0123"
SETTINGS = {"admins": frozenset({ADMIN}), "metrics_token": Secret(TOKEN)}
DEFLECTION = 'Deflection (help threads solved by "That fixed it", no human)'


async def test_rates_count_help_threads_on_every_surface(store: MemoryStore) -> None:
    """Three help threads: one fixed (twice clicked), one escalated, one left silent.
    Deflection is 1 of 3 and escalation 1 of 3 in stats, App Home and /metrics."""
    async with running_bot(store, settings_changes=SETTINGS) as bot:
        question = "my email keeps saying authentication failed when sending"
        answers = []
        for n, ts in enumerate(("500.1", "501.1", "502.1")):
            await send_message(bot, question, ts=ts)
            answers.append(await next_post(bot, n))
        fixed = buttons(answers[0])["That fixed it"]
        await click(bot, fixed)
        await click(bot, fixed)
        await click(bot, buttons(answers[1])["Talk to a human"])
        await bot.slack.wait_for("chat.postMessage", 3 + 4)  # 2 resolved, summary, reply

        status, body = await bot.command("stats", user_id=ADMIN)
        assert status == 200
        shown = text_of(json.loads(body))
        assert f"{DEFLECTION}: *33.3%* · 33.3% (1 of 3 · 1 of 3 threads)" in shown
        assert "handed to a human): *33.3%* · 33.3% (1 of 3 · 1 of 3 threads)" in shown

        event = {"type": "app_home_opened", "user": ADMIN, "channel": "D0HOME", "tab": "home"}
        await bot.event(event, event_id="EvHomeDeflection")
        home = json.dumps(
            (await bot.slack.wait_for("views.publish"))[0].params["view"], ensure_ascii=False
        )
        assert "33.3%" in home and "(1 of 3 · 1 of 3 threads)" in home

        bearer = {"Authorization": f"Bearer {TOKEN}"}
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{bot.server.port}/metrics"
            async with session.get(url, headers=bearer) as response:
                metrics = await response.text()
    assert 'smtpcheck_helpdesk_help_threads{window="7d"} 3.0' in metrics
    assert 'smtpcheck_helpdesk_deflection_ratio{window="7d"} 0.333' in metrics
    assert 'smtpcheck_helpdesk_escalation_ratio{window="30d"} 0.333' in metrics
