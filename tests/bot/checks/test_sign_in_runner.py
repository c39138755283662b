"""The check runner with a sign-in: token into the probe, failures told, no sweep meanwhile."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace

from bot.checks.advice import Advice
from bot.checks.contracts import SIGN_IN_OUTCOME, CheckOrder
from bot.checks.limits import RateLimiter
from bot.checks.runner import CheckRunner
from bot.oauth.errors import Problem, SignInFailed
from bot.probe.model import ProbeReport, ProbeRequest, StepResult
from bot.probe.request import build_request
from bot.runtime.metrics import Metrics
from bot.secret import Secret
from bot.store import MemoryStore
from bot.store.base import CheckRecord, CheckState
from tests.support.harness import plain_advice
from tests.support.scripted import ScriptedProbe


@dataclass
class Sink:
    failures: list[Problem] = field(default_factory=list)
    reports: list[ProbeReport] = field(default_factory=list)

    async def started(self, record: CheckRecord) -> tuple[str, str]:
        return "D0ALICE", "1.0"

    async def progress(self, record: CheckRecord, steps: tuple[StepResult, ...]) -> None:
        pass

    async def finished(self, record: CheckRecord, report: ProbeReport, advice: Advice) -> None:
        self.reports.append(report)

    async def crashed(self, record: CheckRecord, reference: str) -> None:
        raise AssertionError("crashed")

    async def sign_in_failed(self, record: CheckRecord, failure: SignInFailed) -> None:
        self.failures.append(failure.problem)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def oauth_request() -> ProbeRequest:
    request = build_request(
        host="smtp.office365.com",
        port=587,
        mechanism="xoauth2",
        username="alice@example.com",
        password=Secret("-"),
        allowed_ports=frozenset({587}),
    )
    return replace(request, password=None)  # as the modal builds it: the token comes later


def make_runner(
    store: MemoryStore, probe: ScriptedProbe, clock: Clock, deadline: float
) -> CheckRunner:
    return CheckRunner(
        store=store,
        limiter=RateLimiter(store),
        probe=probe,
        advise=plain_advice,
        metrics=Metrics(),
        deadline=deadline,
        clock=clock,
    )


ORDER = CheckOrder(user_id="U0ALICE", team_id=None, origin_channel=None, submission_key="v:1")


async def test_token_becomes_the_password_of_the_probe() -> None:
    """The sign-in's token reaches the probe as the request's password, nowhere else."""
    store, probe, clock = MemoryStore(), ScriptedProbe(), Clock()
    runner = make_runner(store, probe, clock, deadline=10.0)
    request = oauth_request()
    admission = await runner.admit(ORDER, request)
    assert admission is not None
    sink = Sink()

    async def sign_in(record: CheckRecord) -> Secret:
        return Secret("Canary-runner-token")

    await runner.launch(admission, request, sink, sign_in=sign_in)
    assert probe.requests[0].password is not None
    assert probe.requests[0].password.reveal() == "Canary-runner-token"
    assert len(sink.reports) == 1
    record = await store.get_check(admission.record.check_id)
    assert record is not None and "Canary-runner-token" not in record.to_json()


async def test_failed_sign_in_probes_nothing_and_is_recorded() -> None:
    """SignInFailed: no probe, the sink is told why, the record says sign_in_failed."""
    store, probe, clock = MemoryStore(), ScriptedProbe(), Clock()
    runner = make_runner(store, probe, clock, deadline=10.0)
    request = oauth_request()
    admission = await runner.admit(ORDER, request)
    assert admission is not None
    sink = Sink()

    async def sign_in(record: CheckRecord) -> Secret:
        raise SignInFailed(Problem.ADMIN_CONSENT)

    await runner.launch(admission, request, sink, sign_in=sign_in)
    assert probe.requests == [] and sink.failures == [Problem.ADMIN_CONSENT]
    record = await store.get_check(admission.record.check_id)
    assert record is not None
    assert (record.state, record.outcome) == (CheckState.DONE, SIGN_IN_OUTCOME)


async def test_a_long_sign_in_is_not_swept_as_interrupted() -> None:
    """While the user signs in, the record is kept fresh, so the sweep leaves it alone."""
    store, probe, clock = MemoryStore(), ScriptedProbe(), Clock()
    runner = make_runner(store, probe, clock, deadline=0.02)  # heartbeat every 10 ms
    request = oauth_request()
    admission = await runner.admit(ORDER, request)
    assert admission is not None
    signed_in = asyncio.Event()

    async def sign_in(record: CheckRecord) -> Secret:
        await signed_in.wait()
        return Secret("t")

    task = runner.launch(admission, request, Sink(), sign_in=sign_in)
    clock.now += 3600  # an hour of signing in, as far as the records can tell
    check_id = admission.record.check_id
    for _ in range(1000):  # the heartbeat's next save, however slow the machine
        record = await store.get_check(check_id)
        if record is not None and record.updated_at >= clock.now:
            break
        await asyncio.sleep(0.005)
    else:
        raise AssertionError("the record was never refreshed")

    async def notify(record: CheckRecord) -> None:
        raise AssertionError("swept a live sign-in")

    assert await runner.sweep_interrupted(notify) == 0
    signed_in.set()
    await task
    assert len(probe.requests) == 1
