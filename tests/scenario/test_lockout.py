"""The lockout guard against hostile SMTP servers, through the real HTTP endpoint and
the real probe engine: every AUTH that was sent counts, whatever the server does after
the credentials arrive (answers late, drops the connection, answers 334), so five
wrong-password checks for one account put at most the budget's AUTH on the server."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from bot.checks.limits import RateLimiter, RateLimits
from bot.helpdesk.recorder import HelpdeskMetrics
from bot.store import MemoryStore
from tests.e2e.processes import wait_until
from tests.support.harness import Running, form_values, running_bot
from tests.support.smtp_server import Script, fault_server

CANARY = "Canary-l0ckout-5e2a"
BUDGET = 3


async def run_check(bot: Running, port: int, *, user: str, host: str, view_id: str) -> Any:
    """Submit one wrong-password check; wait until it is over; the ack body or None."""
    view = await bot.open_modal(user_id=user)
    values = form_values(
        host=host, port=str(port), security="none", username="alice@example.com", password=CANARY
    )
    status, text = await bot.submit(view, values, view_id=view_id, user_id=user)
    assert status == 200
    runner = bot.bot.deps.runner
    await wait_until(lambda: runner.in_flight == 0, "the check to end", within=30)
    return json.loads(text) if text else None


HOSTILE = {
    "answers-late": Script(auth_delay=5.0),
    "never-answers": Script(answer_auth=False),  # a tarpit: AUTH read, never answered
    "drops-after-auth": Script(drop_on_auth=True),
    "answers-334": Script(auth=b"334 UGFzc3dvcmQ6\r\n"),
    "refuses": Script(),
}


@pytest.mark.parametrize("behaviour", sorted(HOSTILE))
async def test_five_wrong_checks_put_at_most_the_budget_on_the_server(behaviour: str) -> None:
    """Whatever the server does after AUTH, the 4th and 5th checks send no AUTH, and the
    helpdesk's failed-login figure counts the three that were sent."""
    store = MemoryStore()
    limiter = RateLimiter(store, limits=RateLimits(auth_failures=BUDGET))
    helpdesk = HelpdeskMetrics(store)
    async with (
        fault_server(HOSTILE[behaviour]) as server,
        running_bot(
            store,
            probe=None,  # the real engine
            limiter=limiter,
            extra_ports=(server.port,),
            deadline=2.0,
        ) as bot,
    ):
        bot.bot.deps.runner._helpdesk = helpdesk
        answers = [
            await run_check(bot, server.port, user=f"U0USER{i}", host="127.0.0.1", view_id=f"V{i}")
            for i in range(5)
        ]
        assert CANARY not in bot.slack.everything()
    assert server.auth_commands == BUDGET
    refused = [a for a in answers if a is not None]
    assert len(refused) == 5 - BUDGET
    assert all("failed to sign in 3 times" in json.dumps(a) for a in refused)
    assert (await helpdesk.summary(7)).failed_logins == BUDGET


async def test_an_address_and_a_name_of_one_server_share_the_budget() -> None:
    """Three failures typed as 127.0.0.1 leave a name that resolves to it no AUTH:
    the booking happens on the resolved address, right before the credentials leave."""
    from tests.support.dns_server import dns_server

    store = MemoryStore()
    limiter = RateLimiter(store, limits=RateLimits(auth_failures=BUDGET))
    zone = {("mail.lockout.test.", "A"): ["127.0.0.1"]}
    with dns_server(zone) as dns:
        async with (
            fault_server(Script()) as server,
            running_bot(
                store,
                probe=None,
                limiter=limiter,
                extra_ports=(server.port,),
                deadline=3.0,
                settings_changes={"dns_servers": (("127.0.0.1", dns.port),)},
            ) as bot,
        ):
            for i in range(BUDGET):
                await run_check(bot, server.port, user=f"U0A{i}", host="127.0.0.1", view_id=f"V{i}")
            assert server.auth_commands == BUDGET
            await run_check(bot, server.port, user="U0B", host="mail.lockout.test", view_id="VB")
            await asyncio.sleep(0)
            withheld = [
                c.params["text"]
                for c in bot.slack.of("chat.postMessage")
                if "did not try to sign in" in str(c.params.get("text", ""))
            ]
    assert server.auth_commands == BUDGET  # the name got as far as AUTH, and no further
    assert len(withheld) == 1 and "failed to sign in 3 times" in withheld[0]


async def test_an_unanswered_auth_is_told_as_a_server_delay_not_to_retry_at_once() -> None:
    """The real diagnosis in Slack for an AUTH the server never answers: a server-side
    delay that may have counted as a failed login, with advice not to retry at once,
    never "cannot connect"; and the attempt stays booked (the next check is refused)."""
    store = MemoryStore()
    limiter = RateLimiter(store, limits=RateLimits(auth_failures=1))
    async with (
        fault_server(HOSTILE["never-answers"]) as server,
        running_bot(
            store,
            probe=None,
            advise=None,  # the real diagnosis
            limiter=limiter,
            extra_ports=(server.port,),
            deadline=2.0,
        ) as bot,
    ):
        assert await run_check(bot, server.port, user="U0A", host="127.0.0.1", view_id="V1") is None
        verdict = json.dumps([call.params for call in bot.slack.of("chat.postMessage")])
        again = await run_check(bot, server.port, user="U0B", host="127.0.0.1", view_id="V2")
        said = bot.slack.everything()
    assert server.auth_commands == 1
    assert "did not answer the login" in verdict
    assert "Do not retry at once" in verdict
    assert "firewall" not in verdict.lower() and "cannot connect" not in verdict.lower()
    assert again is not None and "failed to sign in 1 times" in json.dumps(again)
    assert CANARY not in said
