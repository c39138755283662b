"""A check that ends without a report (withheld at the last moment, failed on the bot's
side; interrupted by a restart: tests/scenario/test_safety.py) must not leave its parent
message in the DM saying "Checking host:port ..." forever: the parent is edited to say how
it ended."""

from __future__ import annotations

from typing import Any

from bot.errors import StoreUnavailable
from bot.store import MemoryStore
from bot.store.base import Reserved
from tests.support.harness import form_values, running_bot
from tests.support.scripted import ScriptedProbe


class StoreGoneAtBooking(MemoryStore):
    """A store that stops answering just as the AUTH is booked (as a Redis that dies
    mid-check does): the check is withheld, nothing is sent."""

    async def reserve(self, *, book: bool, **kwargs: Any) -> Reserved:
        if book:
            raise StoreUnavailable("the store went away")
        return await super().reserve(book=book, **kwargs)


async def test_a_withheld_check_closes_its_parent_message() -> None:
    """The store fails at the AUTH booking: the thread says no sign-in was tried, and the
    parent's last edit says so too instead of "Checking ..."."""
    store = StoreGoneAtBooking()
    probe = ScriptedProbe()
    async with running_bot(store, probe=probe) as bot:
        view = await bot.open_modal()
        values = form_values(host="mail.example.com", username="alice@example.com", password="pw")
        assert await bot.submit(view, values) == (200, "")
        posts = await bot.slack.wait_for("chat.postMessage", 2)
        updates = await bot.slack.wait_for("chat.update", 1)
    assert "did not try to sign in" in posts[-1].params["text"]
    assert posts[-1].params["reply_broadcast"] in (True, "true", "1")  # seen, like a verdict
    parent = posts[0].params
    assert parent["text"].startswith("Checking")
    last = updates[-1].params
    assert last["ts"] == "1700000000.000001" and last["channel"] == parent["channel"]
    assert "Checking" not in last["text"] and "did not try to sign in" in last["text"]
    assert not probe.auth_sent.is_set()
