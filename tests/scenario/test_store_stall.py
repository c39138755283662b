"""Redis stalls just as a check ends: the verdict still arrives, the record does not stay
"running" and the account is not refused for minutes once Redis answers again, and a
peer process sharing Redis never sends a late "interrupted" notice (a TCP proxy in
front of the real Redis does the stalling)."""

from __future__ import annotations

import asyncio
import uuid

from bot.checks.limits import RateLimiter
from bot.config import Settings
from bot.probe.model import Outcome
from bot.secret import Secret
from bot.store import CheckState, make_store
from tests.bot.store.support import REDIS_HOST, REDIS_PORT, drop_namespace, require_redis
from tests.e2e.processes import wait_until
from tests.support.harness import form_values, running_bot
from tests.support.scripted import ScriptedProbe
from tests.support.stall_proxy import stall_proxy


async def test_a_redis_stall_at_the_end_of_a_check_loses_nothing() -> None:
    """Stall Redis while the probe finishes: verdict posted anyway; after the stall the
    record is done and a new check on the account is admitted; no interrupted notice."""
    require_redis()
    namespace = f"test-{uuid.uuid4().hex}"
    async with stall_proxy(REDIS_HOST, REDIS_PORT) as proxy:
        url = Secret(f"redis://127.0.0.1:{proxy.port}/0")
        store = make_store(Settings(redis_url=url), namespace=namespace)
        peer_store = make_store(Settings(redis_url=url), namespace=namespace)
        gate = asyncio.Event()
        probe = ScriptedProbe(Outcome.AUTH_REJECTED, hold_after_auth=gate)
        try:
            async with running_bot(peer_store, probe=ScriptedProbe()) as peer:
                async with running_bot(store, probe=probe) as bot:
                    view = await bot.open_modal()
                    values = form_values(
                        host="mail.example.com", username="alice@example.com", password="x-pw"
                    )
                    assert await bot.submit(view, values) == (200, "")
                    await asyncio.wait_for(probe.auth_sent.wait(), 10)
                    proxy.stall()
                    gate.set()  # the probe ends while Redis is silent
                    await bot.slack.wait_for("chat.postMessage", 3, within=20)
                    proxy.resume()
                    runner = bot.bot.deps.runner
                    await wait_until(lambda: runner.in_flight == 0, "the retries", within=30)
                    (record,) = await store.list_checks("U0ALICE")
                    assert record.state is CheckState.DONE
                    assert record.outcome == Outcome.AUTH_REJECTED.value
                    limiter = RateLimiter(store)
                    again = await limiter.check_start("U0BOB", "mail.example.com", "alice")
                    await limiter.finish(again)
                    # The peer sweeps now and then: nothing of a live process is its to take.
                    assert await peer.server.sweep() == 0
                    assert await bot.server.sweep() == 0
                texts = [str(c.params.get("text", "")) for c in bot.slack.of("chat.postMessage")]
                assert not any("interrupted" in t for t in texts)
                assert not peer.slack.of("chat.postMessage")
        finally:
            await store.close()
            await peer_store.close()
            await drop_namespace(namespace)
