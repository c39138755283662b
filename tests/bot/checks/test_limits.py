"""Rate limits and lockout for live checks (issue 4 policies), on both stores."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.checks.limits import RateLimiter, RateLimits, plain_duration, target_key
from bot.config import Settings
from bot.errors import RateLimited, StoreUnavailable
from bot.secret import Secret
from bot.store import MemoryStore, RedisStore, keys, make_store
from tests.bot.store.support import (
    REDIS_HOST,
    FakeClock,
    StoreCase,
    closed_port,
    open_case,
    redis_client,
    scan_ttls,
)

HOST = "smtp.example.com"
USER = "canary-user@example.com"


@pytest.fixture(params=["memory", "redis"])
async def case(request: pytest.FixtureRequest) -> AsyncIterator[StoreCase]:
    """A fresh store of each kind, with its time control."""
    async for value in open_case(request.param):
        yield value


@pytest.fixture
def clock() -> FakeClock:
    """A fake monotonic clock for the memory store."""
    return FakeClock()


@pytest.fixture
def limiter(clock: FakeClock) -> RateLimiter:
    """A limiter with the issue's default limits on a memory store with a fake clock."""
    return RateLimiter(MemoryStore(clock=clock))


async def run_check(
    limiter: RateLimiter,
    user: str,
    username: str,
    *,
    failed: bool,
    host: str = HOST,
    addresses: tuple[str, ...] = ("192.0.2.10",),
) -> None:
    """Admit, book the AUTH (as the runner does before the credentials leave), settle."""
    reservation = await limiter.check_start(user, host, username)
    booking = limiter.booking_for(reservation, addresses, username)
    try:
        await limiter.book_auth(reservation, booking)
    except RateLimited:
        await limiter.finish(reservation)
        raise
    await limiter.finish(reservation, booking=booking, counted=failed)


async def test_user_limit_five_per_ten_minutes(limiter: RateLimiter, clock: FakeClock) -> None:
    """A 6th check in 10 minutes is refused (why, when); it fits once the first ages out."""
    await run_check(limiter, "U1", "a", failed=False)
    clock.advance(360)
    for i in range(4):
        await run_check(limiter, "U1", f"b{i}", failed=False)
    with pytest.raises(RateLimited) as refused:
        await limiter.check_start("U1", HOST, "c")
    assert refused.value.retry_after == pytest.approx(240)
    assert refused.value.reason == (
        "You have run 5 checks in the last 10 minutes; try again in 4 minutes."
    )
    await run_check(limiter, "U2", "c", failed=False)  # other users are unaffected
    clock.advance(240)
    await run_check(limiter, "U1", "c", failed=False)


async def test_lockout_after_three_failed_auth(limiter: RateLimiter, clock: FakeClock) -> None:
    """Three failed AUTH in 15 minutes lock the account out until the oldest ages out."""
    for _ in range(3):
        await run_check(limiter, "U1", USER, failed=True)
        clock.advance(60)
    with pytest.raises(RateLimited) as refused:
        await limiter.check_start("U2", HOST.upper(), USER.upper())
    assert refused.value.retry_after == pytest.approx(900 - 180)
    assert "failed to sign in 3 times in the last 15 minutes" in refused.value.reason
    assert refused.value.reason.endswith("try again in 12 minutes.")
    await run_check(limiter, "U1", "someone-else", failed=True)  # another account is fine
    clock.advance(720)
    await run_check(limiter, "U1", USER, failed=False)


async def test_one_budget_per_server_whatever_it_is_called(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    """The IP literal, two DNS names and two ports of one server, and spellings of one
    username, share one budget: the fourth failure is refused before AUTH."""
    ip = "192.0.2.25"
    await run_check(limiter, "U1", "alice@example.com", failed=True, host=ip, addresses=(ip,))
    await run_check(
        limiter, "U2", " Alice@Example.COM", failed=True, host="mail.example.com", addresses=(ip,)
    )
    await run_check(
        limiter,
        "U3",
        "EXAMPLE\\alice",
        failed=True,
        host="smtp.example.com",
        addresses=(ip, "192.0.2.26"),
    )
    with pytest.raises(RateLimited, match="failed to sign in 3 times"):
        await run_check(
            limiter, "U4", "alice", failed=True, host="relay.example.net", addresses=(ip,)
        )
    # Typed as the address, it is refused at admission already, before any probe.
    with pytest.raises(RateLimited, match="failed to sign in 3 times"):
        await limiter.check_start("U4", ip, "alice@example.com")
    await run_check(limiter, "U4", "bob", failed=True, host=ip, addresses=(ip,))


async def test_a_known_provider_is_one_server_whatever_its_addresses() -> None:
    """smtp.gmail.com and smtp.googlemail.com (one provider) share a budget even when
    every check lands on another address; an unknown host with other addresses does not."""
    providers = {"smtp.gmail.com": "gmail", "smtp.googlemail.com": "gmail"}
    limiter = RateLimiter(MemoryStore(clock=FakeClock()), provider_of=providers.get)
    hosts = ["smtp.gmail.com", "SMTP.GoogleMail.com.", "smtp.gmail.com"]
    for i, host in enumerate(hosts):
        await run_check(
            limiter, f"U{i}", "alice@gmail.com", failed=True, host=host, addresses=(f"192.0.2.{i}",)
        )
    with pytest.raises(RateLimited, match="failed to sign in 3 times"):
        await limiter.check_start("U9", "smtp.googlemail.com", "alice")
    for i in range(3):
        await run_check(
            limiter,
            f"V{i}",
            "alice",
            failed=True,
            host="mail.example.org",
            addresses=(f"198.51.100.{i}",),
        )


async def test_a_successful_login_takes_its_booking_back(limiter: RateLimiter) -> None:
    """The booked attempt is removed when the server accepts the login; a failure stays."""
    store = limiter._store
    reservation = await limiter.check_start("U1", HOST, USER)
    booking = limiter.booking_for(reservation, ("192.0.2.10",), USER)
    await limiter.book_auth(reservation, booking)
    key = keys.auth_failures(booking.accounts[-1])
    assert await store.count(key, window=900) == 1  # booked before the credentials leave
    await limiter.finish(reservation, booking=booking, counted=False)
    assert await store.count(key, window=900) == 0
    await run_check(limiter, "U1", USER, failed=True)
    assert await store.count(key, window=900) == 1


def test_usernames_normalise_to_one_account() -> None:
    """Case, width, spaces, DOMAIN\\user and user@domain name one account."""
    forms = ["alice", " ALICE ", "Alice@example.com", "CORP\\alice", "\uff41lice"]  # full-width a
    assert {target_key("192.0.2.1", form) for form in forms} == {target_key("192.0.2.1", "alice")}
    assert target_key("192.0.2.1", "alice") != target_key("192.0.2.1", "bob")


async def test_successful_checks_do_not_lock_out(limiter: RateLimiter) -> None:
    """Only failed AUTH counts towards the lockout."""
    for user in ("U1", "U2", "U3", "U4"):
        await run_check(limiter, user, USER, failed=False)


async def test_one_check_in_flight_per_account(case: StoreCase) -> None:
    """A second check on the same account waits for the first, whoever asks."""
    limiter = RateLimiter(case.store)
    first = await limiter.check_start("U1", HOST, USER)
    with pytest.raises(RateLimited) as refused:
        await limiter.check_start("U2", HOST, USER)
    assert "already running" in refused.value.reason
    # true even when a restart cut the first check off: its slot expires by then at the latest
    assert refused.value.retry_after == RateLimits().hold_ttl
    assert "try again in 2 minutes" in refused.value.reason
    other = await limiter.check_start("U1", HOST, "other-user")
    await limiter.finish(first)
    await limiter.finish(other)
    await run_check(limiter, "U2", USER, failed=False)


async def test_refusals_consume_no_quota(case: StoreCase) -> None:
    """A refused start does not count against the user's five checks."""
    limiter = RateLimiter(case.store)
    held = await limiter.check_start("U9", HOST, USER)
    for _ in range(5):
        with pytest.raises(RateLimited):
            await limiter.check_start("U1", HOST, USER)
    await limiter.finish(held)
    for i in range(5):
        await run_check(limiter, "U1", f"user{i}", failed=False)


async def test_global_cap(case: StoreCase) -> None:
    """No more than the global cap of checks run at once; finishing one makes room."""
    limiter = RateLimiter(case.store, limits=RateLimits(global_cap=2))
    first = await limiter.check_start("U1", HOST, "a")
    second = await limiter.check_start("U2", HOST, "b")
    with pytest.raises(RateLimited) as refused:
        await limiter.check_start("U3", HOST, "c")
    assert refused.value.reason == "Too many checks are running right now; try again in 30 seconds."
    await limiter.finish(first)
    third = await limiter.check_start("U3", HOST, "c")
    # The refused attempt released its account slot: "c" was startable at once.
    for reservation in (second, third):
        await limiter.finish(reservation)


async def test_crashed_check_frees_its_slots(limiter: RateLimiter, clock: FakeClock) -> None:
    """A check that never finishes (process died) stops blocking after hold_ttl."""
    await limiter.check_start("U1", HOST, USER)
    with pytest.raises(RateLimited):
        await limiter.check_start("U1", HOST, USER)
    clock.advance(RateLimits().hold_ttl + 1)
    await run_check(limiter, "U1", USER, failed=False)


async def test_racing_starts_respect_user_limit(case: StoreCase) -> None:
    """Ten concurrent starts by one user on ten accounts let exactly five through."""
    limiter = RateLimiter(case.store)
    results = await asyncio.gather(
        *(limiter.check_start("U1", HOST, f"acct{i}") for i in range(10)),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 5
    assert all(isinstance(r, RateLimited) for r in results if isinstance(r, BaseException))
    # Refused starts gave their account slots back.
    assert await case.store.count_global("checks") == 5


async def test_limits_survive_restart() -> None:
    """Lockout and quota live in Redis: a new process (new client, new limiter) still refuses."""
    cases = open_case("redis")
    case = await anext(cases)
    try:
        before = RateLimiter(case.store)
        for _ in range(3):
            await run_check(before, "U1", USER, failed=True)
        after_store = RedisStore(redis_client(), namespace=case.namespace)
        try:
            after = RateLimiter(after_store)
            with pytest.raises(RateLimited) as refused:
                await after.check_start("U1", HOST, USER)
            assert "3 times" in refused.value.reason
            assert 890 < refused.value.retry_after <= 900
            for i in range(2):
                await run_check(after, "U1", f"x{i}", failed=False)
            with pytest.raises(RateLimited, match="5 checks"):
                await after.check_start("U1", HOST, "x9")
        finally:
            await after_store.close()
        keys = await scan_ttls(case.namespace)
        assert keys, "expected the limiter's keys in Redis"
        assert not any("canary" in key for key in keys), keys
        assert target_key(HOST, USER) in " ".join(keys)
    finally:
        await cases.aclose()


async def test_window_frees_on_redis() -> None:
    """On Redis the lockout lifts when the (short) window passes in real time."""
    cases = open_case("redis")
    case = await anext(cases)
    try:
        limiter = RateLimiter(case.store, limits=RateLimits(auth_failures=1, auth_window=1.0))
        await run_check(limiter, "U1", USER, failed=True)
        with pytest.raises(RateLimited) as refused:
            await limiter.check_start("U1", HOST, USER)
        assert 0 < refused.value.retry_after <= 1.0
        await asyncio.sleep(1.3)
        await run_check(limiter, "U1", USER, failed=False)
    finally:
        await cases.aclose()


async def test_store_down_fails_closed() -> None:
    """With Redis unreachable, starting a check raises StoreUnavailable (never allows it)."""
    store = make_store(Settings(redis_url=Secret(f"redis://{REDIS_HOST}:{closed_port()}/0")))
    try:
        with pytest.raises(StoreUnavailable):
            await RateLimiter(store).check_start("U1", HOST, USER)
    finally:
        await store.close()


def test_target_key_normalises_and_hides_username() -> None:
    """Host and username are compared case-insensitively and only a hash reaches keys."""
    key = target_key("SMTP.Example.com", " Canary-User@Example.com ")
    assert key == target_key(HOST, USER)
    assert "canary" not in key
    assert key != target_key(HOST, None)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0.2, "1 second"),
        (45, "45 seconds"),
        (60, "1 minute"),
        (61, "2 minutes"),
        (240, "4 minutes"),
        (900, "15 minutes"),
        (7200, "2 hours"),
    ],
)
def test_plain_duration(seconds: float, words: str) -> None:
    """Retry times read as plain words, rounded up so users never retry too early."""
    assert plain_duration(seconds) == words
