"""The Slack bot end to end against the real Postfix + Dovecot server: signed requests
to the real HTTP endpoint, a fake Slack Web API, the real probe and diagnosis."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest

from bot.store import MemoryStore
from tests.integration.server import LogWatch, MailServer
from tests.support.dns_server import DnsServer
from tests.support.harness import Running, form_values, running_bot

pytestmark = pytest.mark.integration


def bot_for(server: MailServer) -> Any:
    return running_bot(
        MemoryStore(),
        probe=None,  # the real engine
        advise=None,  # the real diagnosis
        extra_ports=tuple(server.ports),
        settings_changes={"ca_file": server.ca_file},
        deadline=30.0,
    )


async def run_check(
    bot: Running,
    server: MailServer,
    *,
    user: str,
    password: str,
    port: int,
    security: str,
) -> str:
    """Submit the modal for ``port``; return the final parent text plus the verdict message."""
    view = await bot.open_modal(channel_id="C0GENERAL")
    values = form_values(
        host=server.host, port=str(port), security=security, username=user, password=password
    )
    assert await bot.submit(view, values) == (200, "")
    await bot.slack.wait_for("chat.postMessage", 3, within=45)
    parent = str(bot.slack.of("chat.update")[-1].params["text"])
    return parent + "\n" + json.dumps(bot.slack.of("chat.postMessage")[-1].params)


@pytest.mark.parametrize("service", ["submission", "smtps"])
async def test_right_password_signs_in_from_slack(
    mail_server: MailServer, auth_log: LogWatch, service: str
) -> None:
    """/smtpcheck on 587-style STARTTLS and 465-style implicit TLS: signed in, one AUTH."""
    port, security = mail_server.service(service)
    user = mail_server.new_user()  # count only this test's attempts on the shared server
    async with bot_for(mail_server) as bot:
        shown = await run_check(
            bot, mail_server, user=user, password=mail_server.password, port=port, security=security
        )
        assert "Signed in successfully" in shown, shown
        assert mail_server.password not in bot.slack.everything()
    assert await auth_log.count(mail_server.auth_mark_for(user), expected=1) == 1


async def test_wrong_password_gets_the_diagnosis_from_slack(
    mail_server: MailServer, auth_log: LogWatch
) -> None:
    """A wrong password: refused verdict with the fix button, one AUTH on the server,
    and the canary in no Slack call."""
    canary = f"canary-{secrets.token_hex(8)}"
    user = mail_server.new_user()
    async with bot_for(mail_server) as bot:
        shown = await run_check(
            bot,
            mail_server,
            user=user,
            password=canary,
            port=mail_server.submission_port,
            security="starttls",
        )
        assert "refused the sign-in" in shown and "Walk me through the fix" in shown
        assert canary not in bot.slack.everything()
    assert await auth_log.count(mail_server.auth_mark_for(user), expected=1) == 1


async def test_five_wrong_passwords_put_three_auth_on_postfix(
    mail_server: MailServer, auth_log: LogWatch, mail_dns: DnsServer
) -> None:
    """Budget 3: five wrong-password checks for one account, by five users, through both
    services and as address and name, make Dovecot see three AUTH attempts, no more."""
    from bot.checks.limits import RateLimiter, RateLimits
    from tests.e2e.processes import wait_until

    store = MemoryStore()
    user = mail_server.new_user()
    async with running_bot(
        store,
        probe=None,
        advise=None,
        limiter=RateLimiter(store, limits=RateLimits(auth_failures=3)),
        extra_ports=tuple(mail_server.ports),
        settings_changes={
            "ca_file": mail_server.ca_file,
            "dns_servers": (("127.0.0.1", mail_dns.port),),
        },
        deadline=30.0,
    ) as bot:
        runner = bot.bot.deps.runner
        for i in range(5):
            port, security = mail_server.service("submission" if i % 2 else "smtps")
            view = await bot.open_modal(user_id=f"U0PF{i}")
            values = form_values(
                host=mail_server.hostname if i % 2 else mail_server.host,
                port=str(port),
                security=security,
                username=user,
                password=f"wrong-{secrets.token_hex(4)}",
            )
            assert (await bot.submit(view, values, user_id=f"U0PF{i}", view_id=f"V{i}"))[0] == 200
            await wait_until(lambda: runner.in_flight == 0, "the check to end", within=45)
    assert await auth_log.count(mail_server.auth_mark_for(user), expected=3) == 3
