"""The live SMTP authentication probe: validate input, run the probe, read the report.

Imports no Slack and no knowledge base; the CLI and the bot both build on this.
"""

from bot.probe.engine import DEFAULT_LIMITS, Limits, run_probe
from bot.probe.model import (
    Finding,
    Mechanism,
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
from bot.probe.request import build_request

__all__ = [
    "DEFAULT_LIMITS",
    "Finding",
    "Limits",
    "Mechanism",
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
