"""What the handlers are given: one object injected into every request's context.

``bot.runtime.wiring.build_app`` adds a global middleware that puts ``Deps`` into Bolt's
``context`` under ``DEPS_KEY``; handlers read it with ``deps_of(context)``. So
listeners keep Bolt's plain ``register(app)`` shape and still get everything
injected (no globals, no environment reads).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import dns.asyncresolver

from bot.checks.runner import CheckRunner
from bot.config import Settings
from bot.helpdesk.recorder import HelpdeskMetrics
from bot.oauth.service import SignIns
from bot.oauth.settings import Provider
from bot.runtime.metrics import Metrics
from bot.store.base import Store
from knowledge import KnowledgeBase
from knowledge.autoconfig import Fetcher

DEPS_KEY: Final = "smtpcheck_deps"

DISCOVERY_BUDGET: Final = 1.5
"""Seconds discovery may take before the modal opens with what is known (the
trigger_id expires 3 s after the command)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Deps:
    settings: Settings
    store: Store
    kb: KnowledgeBase
    resolver: dns.asyncresolver.Resolver
    runner: CheckRunner
    metrics: Metrics
    helpdesk: HelpdeskMetrics
    sign_ins: SignIns | None = None  # OAuth sign-ins for checks (None: none configured)
    fetcher: Fetcher | None = None  # autoconfig over HTTPS for discovery; None: DNS only

    def sign_in_choices(self, host: str | None) -> tuple[Provider, ...]:
        """The sign-in buttons the probe modal offers for ``host`` (none when unconfigured)."""
        return self.sign_ins.offered(host) if self.sign_ins is not None else ()


def deps_of(context: Mapping[str, Any]) -> Deps:
    """The injected dependencies of this request."""
    deps = context[DEPS_KEY]
    if not isinstance(deps, Deps):
        raise TypeError("request context holds no smtpcheck Deps")
    return deps
