"""The live SMTP authentication probe: validate input, run the probe, read the report.

Imports no Slack and no knowledge base; the CLI and the bot both build on this.

Modules, from pure to networked:

- ``model``: the vocabulary (enums, requests, reports); pure data.
- ``request``: raw input to a validated ``ProbeRequest`` (``build_request``).
- ``plan``: stage order per security mode, mechanism choice, limits and deadline.
- ``replies``, ``transcript``, ``words``: server text, the transcript, our wording.
- ``egress``: where the probe may connect, and the one DNS resolution it trusts.
- ``tls``: verifying contexts, handshake timing, certificate facts.
- ``collaborators``: resolver, egress policy and TLS context, built from ``Settings``.
- ``failures``: the one place foreign exceptions become findings.
- ``draft``, ``stage_run``, ``session``: the report being written, one stage
  under way, the socket and SMTP client.
- ``engine``: ``run_probe``, the loop carrying out the plan.
"""

from bot.probe.collaborators import Collaborators
from bot.probe.engine import run_probe
from bot.probe.model import (
    Finding,
    Mechanism,
    OnStep,
    Outcome,
    ProbeReport,
    ProbeRequest,
    Reply,
    ReplyCode,
    Security,
    Stage,
    Status,
    StepResult,
    TlsInfo,
)
from bot.probe.plan import DEFAULT_LIMITS, Limits
from bot.probe.request import build_request

__all__ = [
    "DEFAULT_LIMITS",
    "Collaborators",
    "Finding",
    "Limits",
    "Mechanism",
    "OnStep",
    "Outcome",
    "ProbeReport",
    "ProbeRequest",
    "Reply",
    "ReplyCode",
    "Security",
    "Stage",
    "Status",
    "StepResult",
    "TlsInfo",
    "build_request",
    "run_probe",
]
