"""Google sign-ins waiting for their callback: state hashed, single use, short-lived, bound."""

from __future__ import annotations

import asyncio

import pytest

from bot.oauth.errors import Problem, SignInFailed
from bot.oauth.pending import Delivery, PendingSignIns
from bot.oauth.pkce import new_state, state_hash
from bot.oauth.service import SignIns
from bot.oauth.settings import OAuthSettings, Provider
from bot.secret import Secret
from bot.store import MemoryStore, keys


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_code_reaches_the_waiting_check_once() -> None:
    """The first callback delivers the code; the same state again is refused."""
    store = MemoryStore()
    pending = PendingSignIns(store)
    state = new_state()
    await pending.open(state, user_id="U0ALICE", check_id="c1")
    waiting = asyncio.create_task(pending.wait(state))
    assert await pending.deliver(state, code="Canary-code-1", error=None) is Delivery.DONE
    code = await waiting
    assert isinstance(code, Secret) and code.reveal() == "Canary-code-1"
    assert await pending.deliver(state, code="again", error=None) is Delivery.USED


async def test_only_the_hash_of_the_state_is_stored() -> None:
    """The store's document is keyed by the SHA-256 and holds user and check, no state."""
    store = MemoryStore()
    state = new_state()
    await PendingSignIns(store).open(state, user_id="U0ALICE", check_id="c1")
    document = await store.get_thread(keys.oauth_state(state_hash(state)))
    assert document["user"] == "U0ALICE" and document["check"] == "c1"
    assert state not in repr(store.__dict__)


async def test_unknown_expired_and_foreign_states_change_nothing() -> None:
    """A state never issued, an expired one, or one started by another process."""
    store, clock = MemoryStore(), Clock()
    here = PendingSignIns(store, clock=clock)
    elsewhere = PendingSignIns(store, clock=clock)
    assert await here.deliver("never-issued", code="x", error=None) is Delivery.UNKNOWN
    assert await here.deliver("", code="x", error=None) is Delivery.UNKNOWN
    state = new_state()
    await here.open(state, user_id="U0ALICE", check_id="c1")
    assert await elsewhere.deliver(state, code="x", error=None) is Delivery.ELSEWHERE
    late = new_state()
    await here.open(late, user_id="U0ALICE", check_id="c2")
    clock.now += 601
    assert await here.deliver(late, code="x", error=None) is Delivery.UNKNOWN


async def test_provider_error_fails_the_waiting_check() -> None:
    """error=access_denied on the callback: the check's wait raises denied."""
    pending = PendingSignIns(MemoryStore())
    state = new_state()
    await pending.open(state, user_id="U0ALICE", check_id="c1")
    waiting = asyncio.create_task(pending.wait(state))
    assert await pending.deliver(state, code=None, error="access_denied") is Delivery.FAILED
    with pytest.raises(SignInFailed) as caught:
        await waiting
    assert caught.value.problem is Problem.DENIED


async def test_no_callback_in_time_is_expired() -> None:
    """The wait ends with expired after the state's lifetime."""
    pending = PendingSignIns(MemoryStore(), ttl=0.01)
    state = new_state()
    await pending.open(state, user_id="U0ALICE", check_id="c1")
    with pytest.raises(SignInFailed) as caught:
        await pending.wait(state)
    assert caught.value.problem is Problem.EXPIRED


def test_offered_providers_follow_settings_host_and_mode() -> None:
    """Unconfigured: nothing. Google needs its client, the public URL and HTTP mode."""
    store = MemoryStore()
    full = OAuthSettings(
        ms_client_id="id",
        google_client_id="g",
        google_client_secret=Secret("s"),
        public_url="https://bot.example.com",
    )

    def offered(settings: OAuthSettings, host: str | None, *, http: bool = True) -> list[str]:
        sign_ins = SignIns(settings, pending=PendingSignIns(store), http_mode=http)
        return [p.value for p in sign_ins.offered(host)]

    assert offered(OAuthSettings(), None) == []
    assert offered(full, None) == ["microsoft", "google"]
    assert offered(full, "smtp.office365.com") == ["microsoft"]
    assert offered(full, "smtp.gmail.com") == ["google"]
    assert offered(full, "smtp.gmail.com", http=False) == []
    assert offered(OAuthSettings(ms_client_id="id"), "mail.example.com") == ["microsoft"]
    no_url = OAuthSettings(google_client_id="g", google_client_secret=Secret("s"))
    assert offered(no_url, "smtp.gmail.com") == []
    assert Provider.GOOGLE.value == "google"
