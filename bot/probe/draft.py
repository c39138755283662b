"""The report of one probe while it is being written: ``ReportDraft``.

The engine does the talking; the draft keeps what it found: the steps (handed to
``on_step`` by ``publish``, which the engine awaits after each stage), the outcome,
the transcript, the TLS facts, the mechanisms offered and tried, and the secret forms
to scrub from server text. ``report()`` turns it into the frozen ``ProbeReport``.

No network I/O and no aiosmtplib here.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections import deque
from typing import TYPE_CHECKING

from bot.probe import words
from bot.probe.model import (
    Mechanism,
    OnStep,
    Outcome,
    ProbeReport,
    ProbeRequest,
    Security,
    Stage,
    Status,
    StepResult,
    TlsInfo,
)
from bot.probe.replies import clean_text
from bot.probe.request import IPAddress
from bot.probe.tls import tls_info
from bot.probe.transcript import Transcript

if TYPE_CHECKING:
    from bot.probe.failures import Failure

logger = logging.getLogger(__name__)


class ReportDraft:
    """What one probe run has found so far. Used once."""

    def __init__(self, request: ProbeRequest, *, on_step: OnStep | None, started: float) -> None:
        self.request = request
        self.security: Security = request.effective_security
        self.on_step = on_step
        self.started = started
        # Shared with the transcript; the engine adds the AUTH blobs at the AUTH call.
        self.secrets: list[str] = []
        self.transcript = Transcript(self.secrets)
        self.steps: list[StepResult] = []
        self.outcome: Outcome | None = None
        self.address: IPAddress | None = None
        self.tls: TlsInfo | None = None
        self.mechanism: str | None = None  # as shown: upper case
        self.offered: tuple[str, ...] = ()  # AUTH mechanisms in the last EHLO
        self.refused: tuple[str, ...] = ()  # addresses the egress policy refused
        self._unpublished: deque[StepResult] = deque()  # added, not yet handed to on_step

    def add(self, step: StepResult) -> None:
        """Keep ``step``; ``on_step`` gets it at the next ``publish``."""
        self.steps.append(step)
        if self.on_step is not None:
            self._unpublished.append(step)

    async def publish(self) -> None:
        """Await ``on_step`` with each step added since the last call, in order; the
        callback's errors are only logged."""
        on_step, waiting = self.on_step, self._unpublished
        while on_step is not None and waiting:
            step = waiting.popleft()
            try:
                await on_step(step)
            except Exception:  # a progress callback (Slack) must never break the probe
                logger.exception("on_step callback failed after stage %s", step.stage.value)

    def add_failure(self, stage: Stage, started: float, failure: Failure) -> None:
        """The step that decides the outcome: ``failure`` during ``stage``, begun at ``started``."""
        self.outcome = failure.outcome
        self.refused = failure.refused
        self.transcript.note(clean_text(failure.detail, max_chars=300))
        step = StepResult(
            stage=stage,
            status=failure.status,
            elapsed_ms=(time.monotonic() - started) * 1000,
            detail=failure.detail,
            reply=failure.reply,
            finding=failure.finding,
        )
        self.add(step)

    def tls_established(self, ssl_object: ssl.SSLObject | None) -> None:
        """Record the TLS facts; from here on the transcript marks lines as inside TLS."""
        info = tls_info(ssl_object)
        self.tls = info
        self.transcript.encrypted = True
        self.transcript.note(f"TLS started with cipher {info.version}:{info.cipher}")
        self.transcript.note(f"TLS peer certificate for {info.subject}, issued by {info.issuer}")

    def tls_step(self, started: float, done_at: float) -> StepResult:
        """The ``tls`` step for a handshake that ran from ``started`` to ``done_at``."""
        info = self.tls or TlsInfo()
        detail = words.TLS_OK.format(
            version=info.version,
            cipher=info.cipher,
            subject=info.subject or "(no name)",
            issuer=info.issuer or "(unknown)",
            expires=info.not_after or "(unknown)",
        )
        elapsed = (done_at - started) * 1000
        return StepResult(stage=Stage.TLS, status=Status.OK, elapsed_ms=elapsed, detail=detail)

    def report(self) -> ProbeReport:
        return ProbeReport(
            host=self.request.host,
            port=self.request.port,
            security=self.security,
            username=self.request.username,
            outcome=self.outcome or Outcome.PROTOCOL_ERROR,
            steps=tuple(self.steps),
            address=str(self.address) if self.address else None,
            mechanism=self.mechanism,
            wanted_mechanism=(
                None
                if self.request.mechanism is Mechanism.AUTO
                else self.request.mechanism.value.upper()
            ),
            auth_mechanisms=self.offered,
            tls=self.tls,
            refused_addresses=self.refused,
            transcript=self.transcript.lines,
            elapsed_ms=(time.monotonic() - self.started) * 1000,
        )
