"""Build the Slack app: Bolt ``AsyncApp`` wired to injected settings, store,
knowledge base, resolver, Slack Web API client and probe.

``build_app`` does no I/O. It returns a ``Bot``: the Bolt app plus the
dependencies the runtime needs around it (the check runner for SIGTERM and the
start-up sweep, the metrics registry for ``/metrics``, the store for ``/healthz``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

import aiohttp
import dns.asyncresolver
from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

import handlers
from bot.checks.advice import AdviseFn, make_advise
from bot.checks.limits import RateLimiter
from bot.checks.runner import CheckRunner, ProbeFn
from bot.config import Settings
from bot.helpdesk.recorder import HelpdeskMetrics
from bot.logs import setup_logging
from bot.probe.collaborators import Collaborators
from bot.probe.model import OnStep, ProbeReport, ProbeRequest
from bot.resolver import make_resolver
from bot.runtime.deps import Deps
from bot.runtime.metrics import Metrics
from bot.runtime.middleware import DedupeEvents, InjectDeps, error_handler
from bot.store.base import CheckRecord, Store
from handlers import check_thread
from knowledge import KnowledgeBase, get_knowledge

log = logging.getLogger(__name__)

PROBE_DEADLINE: Final = 30.0
# Libraries that log raw request/response payloads (a view_submission holds the
# typed password) at DEBUG: never below INFO, whatever LOG_LEVEL says.
CHATTY_LOGGERS: Final = (
    "slack_bolt",
    "slack_sdk",
    "slack_sdk.socket_mode",
    "slack_sdk.web",
    "aiohttp.access",
    "aiohttp.client",
    "aiohttp.server",
)
BOLT_LOGGER: Final = "slack_bolt.smtpcheck"
# slack_sdk builds its DEBUG request/response lines (the whole payload, repr'd)
# whenever its logger's *own* level is NOTSET or DEBUG, before logging filters
# them: a client logger with an explicit level skips that work on every API call.
CLIENT_LOGGER: Final = "slack_sdk.web.smtpcheck"


@dataclass(frozen=True, slots=True)
class Bot:
    app: AsyncApp
    deps: Deps
    client: AsyncWebClient
    notify_interrupted: Callable[[CheckRecord], Awaitable[None]]
    """Tells a swept check's owner that a restart cut it short (a Slack surface)."""


def drop_token_unused_warning(record: logging.LogRecord) -> bool:
    """Bolt reads SLACK_BOT_TOKEN itself and, given our client too, warns that the token
    "will be unused": it is the very token the client carries, so the line only misleads."""
    return record.getMessage() != warning_client_prioritized_and_token_skipped()


def configure_logging(level: str) -> None:
    """Process-wide logging: redaction on every record, chatty libraries clamped."""
    setup_logging(level)
    clamp_library_loggers(level)


def clamp_library_loggers(level: str) -> None:
    """Keep payload-logging libraries at INFO or above, even at LOG_LEVEL=DEBUG."""
    floor = max(logging.INFO, logging.getLevelName(level))
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(floor)


def make_client(
    settings: Settings, *, session: aiohttp.ClientSession | None = None
) -> AsyncWebClient:
    """The Slack Web API client: base URL from settings, 429s retried after
    ``Retry-After``, connection errors retried once."""
    token = settings.slack_bot_token.reveal() if settings.slack_bot_token else None
    client_logger = logging.getLogger(CLIENT_LOGGER)
    client_logger.setLevel(max(logging.INFO, logging.getLogger().getEffectiveLevel()))
    return AsyncWebClient(
        token=token,
        base_url=settings.slack_api_url,
        session=session,
        logger=client_logger,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        ],
    )


def make_probe(
    settings: Settings, resolver: dns.asyncresolver.Resolver, *, deadline: float
) -> ProbeFn:
    """``bot.probe.run_probe`` bound to this process's resolver, egress policy and TLS
    context (built once, here)."""
    collaborators = Collaborators.from_settings(settings, resolver=resolver)

    async def probe(request: ProbeRequest, on_step: OnStep) -> ProbeReport:
        # Imported on first use: building the app (and serving questions) never
        # needs the SMTP engine loaded.
        from bot.probe import run_probe

        return await run_probe(
            request,
            collaborators=collaborators,
            deadline=deadline,
            on_step=on_step,
        )

    return probe


def build_app(
    settings: Settings,
    *,
    store: Store,
    client: AsyncWebClient | None = None,
    kb: KnowledgeBase | None = None,
    resolver: dns.asyncresolver.Resolver | None = None,
    probe: ProbeFn | None = None,
    advise: AdviseFn | None = None,
    limiter: RateLimiter | None = None,
    metrics: Metrics | None = None,
    helpdesk: HelpdeskMetrics | None = None,
    deadline: float = PROBE_DEADLINE,
) -> Bot:
    """Everything injected; anything not given is built from ``settings``."""
    kb = kb or get_knowledge()
    resolver = resolver or make_resolver(settings.dns_servers)
    client = client or make_client(settings)
    metrics = metrics or Metrics()
    helpdesk = helpdesk or HelpdeskMetrics(store)
    runner = CheckRunner(
        store=store,
        limiter=limiter or RateLimiter(store),
        probe=probe or make_probe(settings, resolver, deadline=deadline),
        advise=advise or make_advise(kb),
        metrics=metrics,
        helpdesk=helpdesk,
        deadline=deadline,
    )
    deps = Deps(
        settings=settings,
        store=store,
        kb=kb,
        resolver=resolver,
        runner=runner,
        metrics=metrics,
        helpdesk=helpdesk,
    )
    bolt_logger = logging.getLogger(BOLT_LOGGER)
    bolt_logger.setLevel(max(logging.INFO, logging.getLogger().getEffectiveLevel()))
    bolt_logger.addFilter(drop_token_unused_warning)
    secret = settings.slack_signing_secret
    app = AsyncApp(
        name="smtpcheck",
        logger=bolt_logger,
        client=client,
        signing_secret=secret.reveal() if secret else "",
        # Socket Mode requests are not signed; HTTP requests always are.
        request_verification_enabled=secret is not None,
        # No assistant threads or workflow steps here: skip their per-request middleware.
        attaching_function_token_enabled=False,
        attaching_conversation_kwargs_enabled=False,
        ignoring_self_assistant_message_events_enabled=False,
    )
    app.use(InjectDeps(deps))
    app.use(DedupeEvents(store))
    handlers.register_all(app)
    app.error(error_handler(metrics))

    async def notify_interrupted(record: CheckRecord) -> None:
        await check_thread.notify_interrupted(client, record)

    return Bot(app=app, deps=deps, client=client, notify_interrupted=notify_interrupted)
