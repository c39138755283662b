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
- ``reach``: the resolve and connect stages; ``mode``: finding a port's TLS mode
  from evidence (a greeting raced against a TLS handshake, a plaintext survey).
- ``engine``: ``run_probe``, the loop carrying out the plan; ``farewell``: the
  QUIT said after the report, in the background.

Names are loaded on first use (module ``__getattr__``), so importing
``bot.probe.model`` or this package loads neither the engine nor aiosmtplib.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_HOME = {
    "Collaborators": "bot.probe.collaborators",
    "DEFAULT_LIMITS": "bot.probe.plan",
    "Finding": "bot.probe.model",
    "Limits": "bot.probe.plan",
    "Mechanism": "bot.probe.model",
    "OnStep": "bot.probe.model",
    "Outcome": "bot.probe.model",
    "ProbeReport": "bot.probe.model",
    "ProbeRequest": "bot.probe.model",
    "Reply": "bot.probe.model",
    "ReplyCode": "bot.probe.model",
    "Security": "bot.probe.model",
    "Stage": "bot.probe.model",
    "Status": "bot.probe.model",
    "StepResult": "bot.probe.model",
    "TlsInfo": "bot.probe.model",
    "build_request": "bot.probe.request",
    "run_probe": "bot.probe.engine",
}

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


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value  # the next lookup is a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
