"""/smtpcheck you@company: the prefill says what discovery could not see, in time."""

from __future__ import annotations

import asyncio

from bot.store import MemoryStore
from tests.support.dns_server import dns_server
from tests.support.harness import running_bot
from tests.support.scripted import ScriptedProbe


async def test_a_silent_dns_server_is_said_in_the_modal_and_costs_about_a_second(
    store: MemoryStore,
) -> None:
    """Every DNS packet dropped: the modal opens within the trigger window with the guess,
    and its note says the DNS server did not answer (an incomplete lookup, not a result)."""
    with dns_server({}, silent_all=True) as silent:
        changes = {"dns_servers": ((silent.host, silent.port),)}
        async with running_bot(store, probe=ScriptedProbe(), settings_changes=changes) as bot:
            started = asyncio.get_running_loop().time()
            view = await bot.open_modal("someone@unknown-company.example")
            elapsed = asyncio.get_running_loop().time() - started
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs["host"]["initial_value"] == "smtp.unknown-company.example"
    assert "The DNS server did not answer" in str(view["blocks"][0])
    assert elapsed < 2.5  # Slack's trigger id lasts 3 s


async def test_a_gateway_mx_is_said_in_the_modal(store: MemoryStore) -> None:
    """A company domain whose MX is at Mimecast: the note says the provider is hidden."""
    zone = {("acme.test.", "MX"): ["10 us-smtp-inbound-1.mimecast.com."]}
    with dns_server(zone) as dns:
        changes = {"dns_servers": ((dns.host, dns.port),)}
        async with running_bot(store, probe=ScriptedProbe(), settings_changes=changes) as bot:
            view = await bot.open_modal("it@acme.test")
    note = str(view["blocks"][0])
    assert "goes through Mimecast" in note and "does not show who hosts the mailboxes" in note


async def test_a_providers_own_rule_is_said_in_the_modal(store: MemoryStore) -> None:
    """gmx.de from the provider table, no DNS needed: with nothing more urgent to say, the
    note is GMX's own rule (mail-app access is off until switched on), said before the
    person types a password that cannot work yet."""
    async with running_bot(store, probe=ScriptedProbe()) as bot:
        view = await bot.open_modal("hans@gmx.de")
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs["host"]["initial_value"] == "mail.gmx.net"
    assert "off until you enable it in the GMX web mail settings" in str(view["blocks"][0])
