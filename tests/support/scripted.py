"""A scripted stand-in for the probe engine, for handler tests that exercise the
Slack flow rather than SMTP (the end-to-end tier runs the real engine)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bot.probe.model import (
    AuthAttempt,
    AuthWithheld,
    BeforeAuth,
    Finding,
    OnStep,
    Outcome,
    ProbeReport,
    ProbeRequest,
    Reply,
    Stage,
    Status,
    StepResult,
)


@dataclass(slots=True)
class ScriptedProbe:
    """Reports ``outcome`` after walking the stages; remembers each request it got."""

    outcome: Outcome = Outcome.AUTHENTICATED
    banner: str = "mail.example.com ESMTP ready"
    mechanisms: tuple[str, ...] = ()  # advertised AUTH mechanisms (server-controlled)
    hold: asyncio.Event | None = None  # when set, the probe waits for it before finishing
    hold_after_auth: asyncio.Event | None = None  # ... or for this one, once AUTH is booked
    auth_sent: asyncio.Event = field(default_factory=asyncio.Event)  # set once AUTH is booked
    requests: list[ProbeRequest] = field(default_factory=list)

    async def __call__(
        self, request: ProbeRequest, on_step: OnStep, before_auth: BeforeAuth | None = None
    ) -> ProbeReport:
        self.requests.append(request)
        steps = [
            StepResult(stage=Stage.RESOLVE, status=Status.OK, elapsed_ms=1.0, detail="127.0.0.1"),
            StepResult(stage=Stage.CONNECT, status=Status.OK, elapsed_ms=2.0, detail="connected"),
            StepResult(
                stage=Stage.BANNER,
                status=Status.OK,
                elapsed_ms=3.0,
                detail=f"greeting {self.banner}",
                reply=Reply(code=220, enhanced=None, text=self.banner),
            ),
        ]
        for step in steps:
            await on_step(step)
        if self.hold is not None:
            await self.hold.wait()
        if before_auth is not None and request.username is not None:
            attempt = AuthAttempt(
                host=request.host,
                port=request.port,
                username=request.username,
                address="127.0.0.1",
                addresses=("127.0.0.1",),
            )
            try:
                await before_auth(attempt)
            except Exception as exc:
                raise AuthWithheld(str(exc)) from exc
        self.auth_sent.set()
        if self.hold_after_auth is not None:
            await self.hold_after_auth.wait()
        rejected = self.outcome is Outcome.AUTH_REJECTED
        auth = StepResult(
            stage=Stage.AUTH,
            status=Status.FAIL if rejected else Status.OK,
            elapsed_ms=4.0,
            detail="rejected" if rejected else "accepted",
            reply=Reply(
                code=535 if rejected else 235,
                enhanced="5.7.8" if rejected else "2.7.0",
                text="Authentication credentials invalid" if rejected else "OK",
            ),
            finding=Finding.AUTH_REJECTED if rejected else None,
        )
        steps.append(auth)
        await on_step(auth)
        return ProbeReport(
            host=request.host,
            port=request.port,
            security=request.effective_security,
            username=request.username,
            outcome=self.outcome,
            steps=tuple(steps),
            auth_mechanisms=self.mechanisms,
        )
