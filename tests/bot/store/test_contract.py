"""The Store contract: every test runs against MemoryStore and RedisStore alike."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import date, timedelta

import pytest

from bot.store import (
    LIST_CHECKS_MAX,
    THREAD_MAX_BYTES,
    CheckRecord,
    CheckState,
    MemoryStore,
    RedisStore,
)
from bot.store.base import Refusal, Reserved
from tests.bot.store.support import StoreCase, scan_ttls

DAY = date(2025, 3, 10)


def record(check_id: str, *, user: str = "U1", at: float = 100.0, **changes: object) -> CheckRecord:
    base = CheckRecord(
        check_id=check_id,
        user_id=user,
        team_id="T1",
        host="smtp.example.com",
        port=587,
        security="starttls",
        username="canary-user",
        state=CheckState.RUNNING,
        channel="D123",
        thread_ts="1700000000.000100",
        created_at=at,
        updated_at=at,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


# -- dedupe ----------------------------------------------------------------------------
async def test_claim_first_caller_wins(case: StoreCase) -> None:
    """Of many concurrent claims on one key exactly one wins; other keys are independent."""
    results = await asyncio.gather(*(case.store.claim("event:Ev1", 60) for _ in range(10)))
    assert results.count(True) == 1
    assert await case.store.claim("event:Ev2", 60) is True


async def test_claim_expires_after_ttl(case: StoreCase) -> None:
    """A claim can be taken again once its TTL has passed."""
    assert await case.store.claim("submit:V1", 1.0) is True
    assert await case.store.claim("submit:V1", 1.0) is False
    await case.timeline.advance(1.3)
    assert await case.store.claim("submit:V1", 1.0) is True


# -- sliding windows ---------------------------------------------------------------------
async def test_hit_refuses_past_limit_without_recording(case: StoreCase) -> None:
    """hit allows `limit` actions per window; refused hits are not counted."""
    store = case.store
    for n in range(1, 4):
        verdict = await store.hit("u", window=600, limit=3)
        assert (verdict.allowed, verdict.count, verdict.retry_after) == (True, n, 0.0)
    refused = await store.hit("u", window=600, limit=3)
    assert not refused.allowed
    assert refused.count == 3
    assert refused.retry_after == pytest.approx(600, abs=case.timeline.slack)
    assert await store.count("u", window=600) == 3


async def test_retry_after_points_at_oldest_action_in_window(case: StoreCase) -> None:
    """retry_after is when the oldest counted action leaves the window; then one fits."""
    store = case.store
    await store.hit("k", window=2.0, limit=2)
    await case.timeline.advance(0.8)
    await store.hit("k", window=2.0, limit=2)
    refused = await store.peek("k", window=2.0, limit=2)
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(1.2, abs=case.timeline.slack)
    await case.timeline.advance(refused.retry_after + 0.1)
    freed = await store.peek("k", window=2.0, limit=2)
    assert freed.allowed
    assert freed.count == 1


async def test_window_frees_completely(case: StoreCase) -> None:
    """After a whole window without actions the count is back to zero."""
    for _ in range(2):
        await case.store.hit("w", window=1.0, limit=2)
    await case.timeline.advance(1.3)
    assert await case.store.count("w", window=1.0) == 0
    assert (await case.store.hit("w", window=1.0, limit=2)).allowed


async def test_peek_never_records(case: StoreCase) -> None:
    """peek answers whether one more action fits without counting one."""
    for _ in range(5):
        assert (await case.store.peek("p", window=60, limit=1)).allowed
    assert await case.store.count("p", window=60) == 0


async def test_add_hit_records_past_any_limit(case: StoreCase) -> None:
    """add_hit records unconditionally and returns the count in the window."""
    counts = [await case.store.add_hit("fail", window=900) for _ in range(4)]
    assert counts == [1, 2, 3, 4]
    assert not (await case.store.peek("fail", window=900, limit=3)).allowed


async def test_concurrent_hits_never_exceed_limit(case: StoreCase) -> None:
    """hit is atomic: 20 racing hits with limit 5 let exactly 5 through."""
    verdicts = await asyncio.gather(
        *(case.store.hit("race", window=60, limit=5) for _ in range(20))
    )
    assert sum(v.allowed for v in verdicts) == 5
    assert await case.store.count("race", window=60) == 5


async def test_nonsense_limits_and_ttls_are_refused(case: StoreCase) -> None:
    """A zero limit or a non-positive TTL is a programming error, not a silent no-op."""
    with pytest.raises(ValueError, match="limit"):
        await case.store.hit("x", window=60, limit=0)
    with pytest.raises(ValueError, match="ttl"):
        await case.store.claim("x", 0)
    with pytest.raises(ValueError, match="key part"):
        await case.store.claim("has space", 10)


# -- slots -----------------------------------------------------------------------------
async def test_slot_has_one_holder_and_only_it_releases(case: StoreCase) -> None:
    """A slot holds one token; a stranger's release is refused and leaves it held."""
    store = case.store
    assert await store.acquire_slot("target:a", ttl=60, token="t1")
    assert not await store.acquire_slot("target:a", ttl=60, token="t2")
    assert not await store.release_slot("target:a", token="t2")
    assert not await store.acquire_slot("target:a", ttl=60, token="t2")
    assert await store.release_slot("target:a", token="t1")
    assert await store.acquire_slot("target:a", ttl=60, token="t2")


async def test_slot_of_crashed_holder_expires(case: StoreCase) -> None:
    """A slot nobody releases frees itself after its TTL."""
    assert await case.store.acquire_slot("target:b", ttl=1.0, token="t1")
    await case.timeline.advance(1.3)
    assert await case.store.acquire_slot("target:b", ttl=1.0, token="t2")
    assert not await case.store.release_slot("target:b", token="t1")


# -- account budgets (atomic admission) -------------------------------------------------
async def _reserve(
    case: StoreCase, token: str, *, book: bool = True, slots: tuple[str, ...] = ("s",)
) -> Reserved:
    return await case.store.reserve(
        budgets=("acct-a", "acct-b"),
        slots=slots,
        token=token,
        limit=3,
        window=60,
        ttl=30,
        book=book,
    )


async def test_reserve_checks_budget_and_takes_slot_in_one_step(case: StoreCase) -> None:
    """reserve books every budget key and takes the slot; a busy slot or a full budget
    refuses and changes nothing."""
    store = case.store
    assert (await _reserve(case, "t1")).allowed
    assert await store.count("acct-a", window=60) == 1
    assert await store.count("acct-b", window=60) == 1
    busy = await _reserve(case, "t2")
    assert busy.refused is Refusal.SLOT
    assert await store.count("acct-a", window=60) == 1  # the refusal booked nothing
    assert (await _reserve(case, "t1")).allowed  # the holder may book again: still one
    assert await store.count("acct-b", window=60) == 1
    await store.settle(budgets=("acct-a", "acct-b"), slots=("s",), token="t1", cancel=False)
    assert (await _reserve(case, "t2")).allowed
    await store.settle(budgets=("acct-a", "acct-b"), slots=("s",), token="t2", cancel=False)
    assert (await _reserve(case, "t3")).allowed
    await store.settle(budgets=("acct-a", "acct-b"), slots=("s",), token="t3", cancel=False)
    full = await _reserve(case, "t4")
    assert full.refused is Refusal.BUDGET and 0 < full.retry_after <= 60
    assert await store.acquire_slot("s", ttl=30, token="probe")  # the slot stayed free


async def test_settle_with_cancel_takes_the_booking_back(case: StoreCase) -> None:
    """A booking settled as "did not count" leaves the budget as it was."""
    store = case.store
    assert (await _reserve(case, "ok")).allowed
    await store.settle(budgets=("acct-a", "acct-b"), slots=("s",), token="ok", cancel=True)
    assert await store.count("acct-a", window=60) == 0
    assert await store.count("acct-b", window=60) == 0
    assert await store.acquire_slot("s", ttl=30, token="next")


async def test_reserve_without_booking_only_peeks_the_budget(case: StoreCase) -> None:
    """book=False takes the slot within the budget but records no action."""
    assert (await _reserve(case, "t", book=False)).allowed
    assert await case.store.count("acct-a", window=60) == 0


async def test_concurrent_reserves_never_exceed_the_budget(case: StoreCase) -> None:
    """20 racing bookings on separate slots with a budget of 3: exactly 3 get through."""
    results = await asyncio.gather(*(_reserve(case, f"r{i}", slots=(f"s{i}",)) for i in range(20)))
    assert sum(r.allowed for r in results) == 3
    assert await case.store.count("acct-a", window=60) == 3


async def test_leases_live_until_they_expire_or_are_dropped(case: StoreCase) -> None:
    """A renewed lease is live; it dies after its TTL or when dropped."""
    store = case.store
    await store.renew_lease("p1", ttl=1.0)
    await store.renew_lease("p2", ttl=60)
    assert await store.live_leases(["p1", "p2", "p3"]) == {"p1", "p2"}
    await case.timeline.advance(1.3)
    assert await store.live_leases(["p1", "p2"]) == {"p2"}
    await store.drop_lease("p2")
    assert await store.live_leases(["p2"]) == frozenset()


# -- global pool -------------------------------------------------------------------------
async def test_global_cap_holds_and_frees(case: StoreCase) -> None:
    """The pool admits `cap` holders; a holder may refresh; release makes room."""
    store = case.store
    assert await store.acquire_global("checks", cap=2, ttl=60, token="a")
    assert await store.acquire_global("checks", cap=2, ttl=60, token="b")
    assert not await store.acquire_global("checks", cap=2, ttl=60, token="c")
    assert await store.acquire_global("checks", cap=2, ttl=60, token="a")
    assert await store.count_global("checks") == 2
    await store.release_global("checks", token="a")
    await store.release_global("checks", token="never-held")
    assert await store.count_global("checks") == 1
    assert await store.acquire_global("checks", cap=2, ttl=60, token="c")


async def test_global_cap_concurrent_acquires(case: StoreCase) -> None:
    """Racing acquires never overfill the pool."""
    results = await asyncio.gather(
        *(case.store.acquire_global("pool", cap=3, ttl=60, token=f"t{i}") for i in range(12))
    )
    assert results.count(True) == 3


async def test_crashed_global_holder_ages_out(case: StoreCase) -> None:
    """A holder that never releases stops counting after its TTL."""
    store = case.store
    assert await store.acquire_global("checks", cap=1, ttl=1.0, token="crashed")
    assert not await store.acquire_global("checks", cap=1, ttl=1.0, token="next")
    await case.timeline.advance(1.3)
    assert await store.count_global("checks") == 0
    assert await store.acquire_global("checks", cap=1, ttl=60, token="next")


# -- probe records -------------------------------------------------------------------------
async def test_check_record_round_trip(case: StoreCase) -> None:
    """A saved record comes back equal; an unknown id gives None."""
    original = record("c1")
    await case.store.save_check(original)
    assert await case.store.get_check("c1") == original
    assert await case.store.get_check("nope") is None


async def test_list_checks_newest_first_per_user(case: StoreCase) -> None:
    """list_checks returns one user's records, newest first, at most `limit`."""
    for i in range(4):
        await case.store.save_check(record(f"c{i}", at=100.0 + i, state=CheckState.DONE))
    await case.store.save_check(record("other", user="U2", at=500.0))
    listed = await case.store.list_checks("U1", limit=3)
    assert [r.check_id for r in listed] == ["c3", "c2", "c1"]
    assert [r.check_id for r in await case.store.list_checks("U2")] == ["other"]
    assert await case.store.list_checks("U3") == []


async def test_list_checks_index_is_bounded(case: StoreCase) -> None:
    """Only the newest LIST_CHECKS_MAX checks per user stay indexed."""
    for i in range(LIST_CHECKS_MAX + 5):
        await case.store.save_check(record(f"c{i:03}", at=float(i), state=CheckState.DONE))
    listed = await case.store.list_checks("U1", limit=1000)
    assert len(listed) == LIST_CHECKS_MAX
    assert listed[0].check_id == f"c{LIST_CHECKS_MAX + 4:03}"


async def test_in_flight_lists_queued_and_running_oldest_first(case: StoreCase) -> None:
    """The sweep sees queued and running checks from every user, and not finished ones."""
    store = case.store
    await store.save_check(record("late", at=300.0, state=CheckState.QUEUED))
    await store.save_check(record("early", user="U2", at=100.0))
    await store.save_check(record("done", at=200.0, state=CheckState.DONE))
    assert [r.check_id for r in await store.list_in_flight()] == ["early", "late"]
    await store.mark_check("early", CheckState.DONE, updated_at=400.0, outcome="authenticated")
    assert [r.check_id for r in await store.list_in_flight()] == ["late"]


async def test_mark_check_compare_and_set(case: StoreCase) -> None:
    """mark_check with only_from never overwrites a check that already finished."""
    store = case.store
    await store.save_check(record("c1"))
    done = await store.mark_check(
        "c1", CheckState.DONE, updated_at=150.0, outcome="auth_failed", finding="535 5.7.8"
    )
    assert done is not None
    assert (done.state, done.outcome, done.finding, done.updated_at) == (
        CheckState.DONE,
        "auth_failed",
        "535 5.7.8",
        150.0,
    )
    swept = await store.mark_check(
        "c1", CheckState.INTERRUPTED, updated_at=200.0, only_from=[CheckState.RUNNING]
    )
    assert swept is None
    assert await store.get_check("c1") == done
    assert await store.mark_check("missing", CheckState.DONE, updated_at=1.0) is None


async def test_interrupted_notice_claimed_once_across_processes(case: StoreCase) -> None:
    """Two processes sweeping the same check tell its owner exactly once."""
    peer = await case.open_peer()
    try:
        results = await asyncio.gather(
            *(s.claim_interrupted_notice("c9") for s in [case.store, peer] * 5)
        )
        assert results.count(True) == 1
        assert not await peer.claim_interrupted_notice("c9")
    finally:
        if peer is not case.store:
            await peer.close()


async def test_records_visible_to_another_process(case: StoreCase) -> None:
    """A record saved by one process is listed in flight by another (restart sweep)."""
    await case.store.save_check(record("c1"))
    peer = await case.open_peer()
    try:
        assert [r.check_id for r in await peer.list_in_flight()] == ["c1"]
        swept = await peer.mark_check(
            "c1", CheckState.INTERRUPTED, updated_at=999.0, only_from=[CheckState.RUNNING]
        )
        assert swept is not None
        assert (await case.store.get_check("c1")) == swept
    finally:
        if peer is not case.store:
            await peer.close()


# -- threads ---------------------------------------------------------------------------------
async def test_thread_state_merges_and_deletes(case: StoreCase) -> None:
    """update_thread merges fields, None deletes one, get_thread reads it back."""
    store = case.store
    assert await store.get_thread("D1:1.2") == {}
    await store.update_thread("D1:1.2", {"provider": "gmail", "steps_done": ["a"]})
    state = await store.update_thread("D1:1.2", {"client": "outlook", "provider": None})
    assert state == {"client": "outlook", "steps_done": ["a"]}
    assert await store.get_thread("D1:1.2") == state
    assert await store.get_thread("D1:9.9") == {}


async def test_thread_state_is_bounded_and_json_only(case: StoreCase) -> None:
    """Oversized or non-JSON updates are refused and leave the state unchanged."""
    store = case.store
    await store.update_thread("t", {"provider": "gmail"})
    with pytest.raises(ValueError, match="exceed"):
        await store.update_thread("t", {"blob": "x" * THREAD_MAX_BYTES})
    with pytest.raises(ValueError, match="JSON"):
        await store.update_thread("t", {"bad": {1, 2}})
    assert await store.get_thread("t") == {"provider": "gmail"}


async def test_thread_state_expires(case: StoreCase) -> None:
    """Thread state disappears after its TTL."""
    await case.store.update_thread("t", {"step": 2}, ttl=1.0)
    await case.timeline.advance(1.3)
    assert await case.store.get_thread("t") == {}


async def test_concurrent_thread_updates_all_land(case: StoreCase) -> None:
    """Racing updates to one thread lose no field (atomic read-modify-write)."""
    await asyncio.gather(*(case.store.update_thread("t", {f"f{i}": i}) for i in range(10)))
    assert await case.store.get_thread("t") == {f"f{i}": i for i in range(10)}


# -- metrics ---------------------------------------------------------------------------------
async def test_event_counts_and_distinct_users(case: StoreCase) -> None:
    """Day buckets add up per day; distinct users are counted once over a range."""
    store = case.store
    days = [DAY - timedelta(days=1), DAY, DAY + timedelta(days=1)]
    await store.record_event("check_failed", "U1", days[0])
    await store.record_event("check_failed", "U1", DAY)
    await store.record_event("check_failed", "U2", DAY, value=3)
    await store.record_event("check_failed", None, DAY)
    await store.record_event("check_ok", "U3", DAY)
    assert await store.event_counts("check_failed", days) == {days[0]: 1, DAY: 5, days[2]: 0}
    assert await store.distinct_users("check_failed", days) == 2
    assert await store.distinct_users("check_failed", [days[0]]) == 1
    assert await store.distinct_users("check_ok", days) == 1
    assert await store.event_counts("check_failed", []) == {}


async def test_error_counts_sum_over_days(case: StoreCase) -> None:
    """Error replies are counted per key and summed over the requested days."""
    store = case.store
    await store.record_error("gmail-535-badcredentials", DAY)
    await store.record_error("gmail-535-badcredentials", DAY + timedelta(days=1))
    await store.record_error("m365-535-smtp-auth-disabled", DAY)
    await store.record_error("outside-range", DAY + timedelta(days=5))
    counts = await store.error_counts([DAY, DAY + timedelta(days=1)])
    assert counts == {"gmail-535-badcredentials": 2, "m365-535-smtp-auth-disabled": 1}


async def test_duration_stats(case: StoreCase) -> None:
    """Durations sum and count per day; the mean is None when nothing was recorded."""
    store = case.store
    await store.record_duration("resolution", DAY, 60.0)
    await store.record_duration("resolution", DAY + timedelta(days=1), 120.5)
    stats = await store.duration_stats("resolution", [DAY, DAY + timedelta(days=1)])
    assert (stats.count, stats.total, stats.mean) == (2, 180.5, 90.25)
    empty = await store.duration_stats("resolution", [DAY - timedelta(days=3)])
    assert (empty.count, empty.mean) == (0, None)


async def test_metric_kind_is_validated(case: StoreCase) -> None:
    """Metric kinds are short lower-case names, so they cannot forge other keys."""
    with pytest.raises(ValueError, match="metric kind"):
        await case.store.record_event("Bad Kind", None, DAY)


# -- safety ------------------------------------------------------------------------------------
async def test_every_key_expires(case: StoreCase) -> None:
    """After touching every kind of data, no key lives without a TTL."""
    store = case.store
    await store.claim("c", 60)
    await store.hit("h", window=60, limit=5)
    await store.add_hit("a", window=60)
    await store.acquire_slot("s", ttl=60, token="t")
    await store.acquire_global("g", cap=2, ttl=60, token="t")
    await store.save_check(record("c1"))
    await store.save_check(record("c2", state=CheckState.DONE))
    await store.mark_check("c1", CheckState.DONE, updated_at=1.0)
    await store.claim_interrupted_notice("c2")
    await store.update_thread("t", {"k": "v"})
    await store.record_event("ev", "U1", DAY)
    await store.record_error("r", DAY)
    await store.record_duration("d", DAY, 1.0)
    if isinstance(store, RedisStore):
        ttls = await scan_ttls(case.namespace)
        assert len(ttls) >= 12
        assert all(key.startswith(f"{case.namespace}:") for key in ttls)
    else:
        assert isinstance(store, MemoryStore)
        ttls = {k: int(v * 1000) for k, v in store.live_keys().items()}
        assert len(ttls) >= 12
    assert all(ttl > 0 for ttl in ttls.values()), ttls


def test_check_record_has_no_secret_field() -> None:
    """CheckRecord cannot hold a password: no such field, none in its JSON either."""
    names = {f.name for f in dataclasses.fields(CheckRecord)}
    assert not names & {"password", "secret", "token", "credentials"}
    data = json.loads(record("c1").to_json())
    assert data["username"] == "canary-user"
    assert not any("password" in key or "secret" in key for key in data)
    assert CheckRecord.from_json(record("c1").to_json()) == record("c1")


def test_check_record_json_ignores_unknown_fields() -> None:
    """Records written by a newer version still load (unknown fields are dropped)."""
    data = json.loads(record("c1").to_json())
    data["added_later"] = 1
    assert CheckRecord.from_json(json.dumps(data)) == record("c1")


# -- journals ----------------------------------------------------------------------------
async def test_journal_is_newest_first_deduplicated_and_capped(case: StoreCase) -> None:
    """push_entry replaces the entry with the same dedupe id (moving it to the front),
    keeps only the newest ``keep`` and reads back newest first, at most ``limit``."""
    store = case.store
    for n, dedupe in enumerate(["a", "b", "c", "a", "d"]):
        await store.push_entry(
            "feedback:review", {"n": n}, dedupe=dedupe, at=100.0 + n, keep=3, ttl=60
        )
    assert await store.entries("feedback:review", 10) == [{"n": 4}, {"n": 3}, {"n": 2}]
    assert await store.entries("feedback:review", 2) == [{"n": 4}, {"n": 3}]
    assert await store.entries("feedback:review", 0) == []
    assert await store.entries("webhook:failures", 5) == []


async def test_journal_expires(case: StoreCase) -> None:
    """A journal goes with its TTL."""
    await case.store.push_entry("webhook:failures", {"x": 1}, dedupe="1", at=1.0, keep=5, ttl=1.0)
    await case.timeline.advance(1.3)
    assert await case.store.entries("webhook:failures", 5) == []


async def test_journal_pushes_from_two_processes_all_land(case: StoreCase) -> None:
    """Concurrent pushes from two processes lose nothing (no read-modify-write): every
    distinct question of both lands on the review list, each once."""
    from bot.helpdesk.feedback import Feedback, ReviewReason

    peer = await case.open_peer()
    try:
        ticks = iter(range(1000))
        here = Feedback(case.store, clock=lambda: float(next(ticks)))
        there = Feedback(peer, clock=lambda: float(next(ticks)))
        await asyncio.gather(
            *(
                (here if n % 2 else there).review(f"question {n}", ReviewReason.NOT_CONFIDENT)
                for n in range(30)
            ),
            here.review("question 1", ReviewReason.NOT_HELPFUL),
        )
        items = await here.to_review()
        assert sorted(i.question for i in items) == sorted(f"question {n}" for n in range(30))
        assert [i.at for i in items] == sorted((i.at for i in items), reverse=True)
    finally:
        if peer is not case.store:
            await peer.close()


async def test_webhook_failures_from_two_processes_all_land(case: StoreCase) -> None:
    """Failed deliveries recorded at once by two processes are all kept, newest first."""
    from bot.helpdesk.webhook import FAILURES_KEPT, Failure, recent_failures, record_failure

    peer = await case.open_peer()
    try:
        await asyncio.gather(
            *(
                record_failure(case.store if n % 2 else peer, Failure(at=float(n), reason=f"r{n}"))
                for n in range(FAILURES_KEPT)
            )
        )
        failures = await recent_failures(case.store)
        assert [f.at for f in failures] == [float(n) for n in reversed(range(FAILURES_KEPT))]
        await record_failure(case.store, Failure(at=99.0, reason="newest"))
        failures = await recent_failures(case.store)
        assert len(failures) == FAILURES_KEPT and failures[0].reason == "newest"
        assert failures[-1].at == 1.0  # the oldest was dropped
    finally:
        if peer is not case.store:
            await peer.close()


async def test_feedback_review_list_round_trips(case: StoreCase) -> None:
    """The admins' review list and the webhook failures keep their order and content
    in both stores (a journal each, with its own TTL); the same wording twice is one
    entry, moved to the front."""
    from bot.helpdesk.feedback import Feedback, ReviewReason
    from bot.helpdesk.webhook import Failure, recent_failures, record_failure

    ticks = iter((100.0, 200.0, 300.0, 400.0))
    feedback = Feedback(case.store, clock=lambda: next(ticks))
    await feedback.review("first question", ReviewReason.NOT_CONFIDENT)
    await feedback.review("second question", ReviewReason.NOT_HELPFUL)
    items = await feedback.to_review()
    assert [(i.question, i.reason, i.at) for i in items] == [
        ("second question", ReviewReason.NOT_HELPFUL, 200.0),
        ("first question", ReviewReason.NOT_CONFIDENT, 100.0),
    ]
    await feedback.review("  First   QUESTION?", ReviewReason.NOT_HELPFUL)
    items = await feedback.to_review()
    assert [(i.question, i.at) for i in items] == [
        ("First QUESTION?", 300.0),
        ("second question", 200.0),
    ]
    await record_failure(case.store, Failure(at=1.0, reason="HTTP 500"))
    await record_failure(case.store, Failure(at=2.0, reason="TimeoutError"))
    assert [f.reason for f in await recent_failures(case.store)] == ["TimeoutError", "HTTP 500"]


async def test_help_thread_outcomes_count_once_across_processes(case: StoreCase) -> None:
    """Deflection's claims and counters on both stores: two processes recording the same
    thread's start, "That fixed it" and a later escalation count one thread, escalated,
    not deflected (the deflection is taken back with a negative count)."""
    from bot.helpdesk.threads import HelpThreads

    peer = await case.open_peer()
    try:
        here, there = HelpThreads(case.store), HelpThreads(peer)
        start = 1_741_600_000.0  # 2025-03-10 UTC
        await asyncio.gather(here.started("D1:1.1", at=start), there.started("D1:1.1", at=start))
        await here.started("D1:2.1", at=start)
        results = await asyncio.gather(
            here.fixed("D1:1.1", at=start + 5), there.fixed("D1:1.1", at=start + 5)
        )
        assert sorted(results) == [False, True]
        assert await there.fixed("D1:2.1", at=start + 5)
        outcomes = await here.outcomes([DAY])
        assert (outcomes.threads, outcomes.deflected, outcomes.escalated) == (2, 2, 0)
        assert await there.escalated("D1:1.1", at=start + 60)
        outcomes = await here.outcomes([DAY])
        assert (outcomes.threads, outcomes.deflected, outcomes.escalated) == (2, 1, 1)
    finally:
        if peer is not case.store:
            await peer.close()
