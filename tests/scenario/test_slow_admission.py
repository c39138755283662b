"""A slow store (answering, but past Slack's 3 s for a view submission) while a check is
admitted: the modal is answered in time and says the outcome comes in the DM; the check
then runs exactly once, or the DM says why it could not."""

from __future__ import annotations

import asyncio
import json
import time

from bot import messages
from bot.errors import StoreUnavailable
from bot.store import MemoryStore
from tests.e2e.processes import wait_until
from tests.support.harness import Running, form_values, running_bot
from tests.support.scripted import ScriptedProbe

SLOW = 2.6  # seconds the store takes for the submission's first call: past ADMIT_WITHIN


class SlowAtAdmission(MemoryStore):
    """The first claim (the submission's de-duplication) is slow; with ``then_fail`` it
    ends as a store that went away."""

    def __init__(self, *, then_fail: bool = False) -> None:
        super().__init__()
        self.then_fail = then_fail
        self.slowed = False

    async def claim(self, key: str, ttl: float) -> bool:
        if not self.slowed and "submit" in key:
            self.slowed = True
            await asyncio.sleep(SLOW)
            if self.then_fail:
                raise StoreUnavailable("the store went away")
        return await super().claim(key, ttl)


async def _submit(bot: Running) -> tuple[float, dict[str, object]]:
    view = await bot.open_modal()
    values = form_values(host="mail.example.com", username="alice@example.com", password="pw")
    started = time.monotonic()
    status, body = await bot.submit(view, values)
    assert status == 200
    return time.monotonic() - started, json.loads(body)


async def test_a_slow_admission_answers_the_modal_in_time_and_runs_the_check_once() -> None:
    store = SlowAtAdmission()
    probe = ScriptedProbe()
    async with running_bot(store, probe=probe) as bot:
        answered_in, answer = await _submit(bot)
        await asyncio.wait_for(probe.auth_sent.wait(), 10)
        runner = bot.bot.deps.runner
        await wait_until(lambda: runner.in_flight == 0, "the check to end", within=10)
        texts = [str(c.params.get("text", "")) for c in bot.slack.of("chat.postMessage")]
    assert answered_in < 2.9, answered_in  # Slack's 3 s
    assert answer["response_action"] == "update"
    assert "result (or why it could not run) will arrive" in json.dumps(answer)
    assert len(probe.requests) == 1
    assert any("mail.example.com" in text for text in texts)  # the check's own messages


async def test_a_slow_admission_that_fails_says_so_in_the_dm() -> None:
    store = SlowAtAdmission(then_fail=True)
    probe = ScriptedProbe()
    async with running_bot(store, probe=probe) as bot:
        answered_in, answer = await _submit(bot)
        (told,) = await bot.slack.wait_for("chat.postMessage", 1, within=10)
    assert answered_in < 2.9, answered_in
    assert answer["response_action"] == "update"
    assert told.params["text"] == messages.REFUSED_STORE
    assert probe.requests == []
