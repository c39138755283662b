"""Policy refusals: the operator's logs name the setting that would allow the target;
what Slack users see stays generic (no setting names)."""

from __future__ import annotations

import json
import logging

import pytest

from bot.store import MemoryStore
from tests.support.harness import form_values, running_bot


async def test_refused_address_logs_the_setting_but_slack_stays_generic(
    store: MemoryStore, caplog: pytest.LogCaptureFixture
) -> None:
    """A loopback target with no SMTPCHECK_ALLOW_NETWORKS: refused; the log says which
    value would allow it; nothing sent to Slack names a setting."""
    caplog.set_level(logging.INFO)
    async with running_bot(store, settings_changes={"allow_networks": ()}) as bot:
        view = await bot.open_modal(channel_id="C0GENERAL")
        values = form_values(host="127.0.0.1", port="587", security="auto")
        status, _ = await bot.submit(view, values)
        assert status == 200
        await bot.slack.wait_for("chat.postMessage", 2)
        said = bot.slack.everything()
    assert "SMTPCHECK_" not in said
    assert "SMTPCHECK_ALLOW_NETWORKS=127.0.0.1/32" in caplog.text


async def test_refused_port_logs_the_setting_but_the_field_error_stays_generic(
    store: MemoryStore, caplog: pytest.LogCaptureFixture
) -> None:
    """A port outside SMTPCHECK_ALLOWED_PORTS: a field error without setting names; the log
    names the value that would allow it."""
    caplog.set_level(logging.INFO)
    async with running_bot(store) as bot:
        view = await bot.open_modal()
        status, text = await bot.submit(view, form_values(host="mail.example.com", port="2526"))
    errors = json.loads(text)["errors"]
    assert status == 200 and list(errors) == ["port"]
    assert "SMTPCHECK_" not in errors["port"]
    assert "SMTPCHECK_ALLOWED_PORTS=25,465,587,2525,2526" in caplog.text
