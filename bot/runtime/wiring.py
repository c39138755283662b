"""Build the Slack app: Bolt ``AsyncApp`` wired to injected settings, store,
knowledge base, resolver, Slack Web API client and probe.

``build_app`` does no I/O. It returns a ``Bot``: the Bolt app plus the
dependencies the runtime needs around it (the check runner for SIGTERM and the
start-up sweep, the metrics registry for ``/metrics``, the store for ``/healthz``).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

import aiohttp
import dns.asyncresolver
from slack_bolt.async_app import AsyncApp
from slack_bolt.logger.messages import (
    warning_client_prioritized_and_token_skipped,
    warning_token_skipped,
)
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

import handlers
from bot.checks.advice import AdviseFn, make_advise
from bot.checks.contracts import ProbeFn
from bot.checks.limits import RateLimiter
from bot.checks.runner import CheckRunner
from bot.config import Settings
from bot.fetch import HttpsFetcher, fetch_context
from bot.helpdesk.recorder import HelpdeskMetrics
from bot.logs import setup_logging
from bot.oauth.pending import PendingSignIns
from bot.oauth.service import SignIns
from bot.probe.collaborators import Collaborators
from bot.probe.egress import EgressPolicy
from bot.probe.model import BeforeAuth, OnStep, ProbeReport, ProbeRequest
from bot.resolver import make_resolver
from bot.runtime.deps import DISCOVERY_BUDGET, Deps
from bot.runtime.identity import SlackIdentity
from bot.runtime.metrics import Metrics
from bot.runtime.middleware import DedupeEvents, InjectDeps, error_handler
from bot.store.base import CheckRecord, Store
from handlers import check_thread
from knowledge import KnowledgeBase, get_knowledge
from knowledge.autoconfig import Fetcher

log = logging.getLogger(__name__)

PROBE_DEADLINE: Final = 30.0
SLACK_ATTEMPT_TIMEOUT: Final = 10.0
"""Seconds one Slack Web API request may take."""
SLACK_CALL_BUDGET: Final = 25.0
"""Seconds one Web API call may take in all, retries (5xx, connection, 429) included."""
TRIGGER_LIFETIME: Final = 3.0
"""Seconds Slack keeps a trigger_id valid: a views.open still retrying after that is
waiting for nothing (the user is told at once instead)."""
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
    identity: SlackIdentity | None = None
    """The bot's Slack identity (``auth.test``), checked at start-up."""


_TOKEN_WARNINGS: Final = frozenset(
    {warning_client_prioritized_and_token_skipped(), warning_token_skipped()}
)


def drop_token_unused_warning(record: logging.LogRecord) -> bool:
    """Bolt reads SLACK_BOT_TOKEN itself and, given our client (and our authorize, which
    answers with that client's identity), warns that the token "will be unused" or "will be
    ignored": it is the very token the client carries, so either line only misleads."""
    return record.getMessage() not in _TOKEN_WARNINGS


def configure_logging(level: str) -> None:
    """Process-wide logging: redaction on every record, chatty libraries clamped."""
    setup_logging(level)
    clamp_library_loggers(level)


def clamp_library_loggers(level: str) -> None:
    """Keep payload-logging libraries at INFO or above, even at LOG_LEVEL=DEBUG."""
    floor = max(logging.INFO, logging.getLevelName(level))
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(floor)


class BoundedWebClient(AsyncWebClient):
    """``AsyncWebClient`` whose every call, retries included, ends within ``budget``
    seconds (``TimeoutError`` otherwise). slack_sdk applies its own ``timeout`` only
    to sessions it makes itself; with ours a silent Slack could hold a call (and the
    check waiting on it) for aiohttp's default of 300 s."""

    def __init__(self, *, budget: float = SLACK_CALL_BUDGET, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.budget = budget

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        budget = min(self.budget, TRIGGER_LIFETIME) if api_method == "views.open" else self.budget
        async with asyncio.timeout(budget):
            return await super().api_call(api_method, **kwargs)


class BoundedApp(AsyncApp):
    """Bolt's ``AsyncApp`` whose per-request clients (Bolt makes a fresh one for every
    request, copying ours) keep our budget on every call."""

    def _init_context(self, req: Any) -> None:
        super()._init_context(req)
        plain = req.context.client
        budget = getattr(self._async_client, "budget", SLACK_CALL_BUDGET)
        req.context["client"] = BoundedWebClient(
            budget=budget,
            token=plain.token,
            base_url=plain.base_url,
            timeout=plain.timeout,
            ssl=plain.ssl,
            proxy=plain.proxy,
            session=plain.session,
            trust_env_in_session=plain.trust_env_in_session,
            headers=plain.headers,
            team_id=getattr(plain, "team_id", None),
            logger=plain.logger,
            retry_handlers=plain.retry_handlers,
        )


def make_session(*, attempt_timeout: float = SLACK_ATTEMPT_TIMEOUT) -> aiohttp.ClientSession:
    """The process's HTTP session for Slack, each request bounded by ``attempt_timeout``."""
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=attempt_timeout))


def make_client(
    settings: Settings,
    *,
    session: aiohttp.ClientSession | None = None,
    attempt_timeout: float = SLACK_ATTEMPT_TIMEOUT,
    budget: float = SLACK_CALL_BUDGET,
) -> BoundedWebClient:
    """The Slack Web API client: base URL from settings, 429s retried after
    ``Retry-After``, connection errors and 500/503 retried once, each attempt bounded
    by ``attempt_timeout`` and the whole call by ``budget`` seconds."""
    token = settings.slack_bot_token.reveal() if settings.slack_bot_token else None
    client_logger = logging.getLogger(CLIENT_LOGGER)
    client_logger.setLevel(max(logging.INFO, logging.getLogger().getEffectiveLevel()))
    return BoundedWebClient(
        budget=budget,
        token=token,
        base_url=settings.slack_api_url,
        session=session,
        timeout=max(1, math.ceil(attempt_timeout)),  # used when slack_sdk makes the session
        logger=client_logger,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=1),
            AsyncServerErrorRetryHandler(max_retry_count=1),
            AsyncRateLimitErrorRetryHandler(max_retry_count=2),
        ],
    )


def provider_hosts(kb: KnowledgeBase) -> dict[str, str]:
    """Submission host (lower case) -> provider id, for one budget per provider account."""
    return {
        submission.host.lower(): provider.id
        for provider in kb.providers.values()
        for submission in provider.submission
    }


def make_probe(
    settings: Settings, resolver: dns.asyncresolver.Resolver, *, deadline: float
) -> ProbeFn:
    """``bot.probe.run_probe`` bound to this process's resolver, egress policy and TLS
    context (built once, here)."""
    collaborators = Collaborators.from_settings(settings, resolver=resolver)

    async def probe(request: ProbeRequest, on_step: OnStep, before_auth: BeforeAuth) -> ProbeReport:
        # Imported on first use: building the app (and serving questions) never
        # needs the SMTP engine loaded.
        from bot.probe import run_probe

        return await run_probe(
            request,
            collaborators=collaborators,
            deadline=deadline,
            on_step=on_step,
            before_auth=before_auth,
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
    fetcher: Fetcher | None = None,
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
        limiter=limiter or RateLimiter(store, provider_of=provider_hosts(kb).get),
        probe=probe or make_probe(settings, resolver, deadline=deadline),
        advise=advise or make_advise(kb),
        metrics=metrics,
        helpdesk=helpdesk,
        deadline=deadline,
    )
    sign_ins = SignIns(
        settings.oauth,
        pending=PendingSignIns(store),
        http_mode=settings.slack_app_token is None,
    )
    deps = Deps(
        settings=settings,
        store=store,
        kb=kb,
        resolver=resolver,
        runner=runner,
        metrics=metrics,
        helpdesk=helpdesk,
        sign_ins=sign_ins,
        fetcher=fetcher
        or HttpsFetcher(
            resolver=resolver,
            policy=EgressPolicy(settings.allow_networks),
            ssl_context=fetch_context([settings.ca_file] if settings.ca_file else []),
            deadline=DISCOVERY_BUDGET,
        ),
    )
    bolt_logger = logging.getLogger(BOLT_LOGGER)
    bolt_logger.setLevel(max(logging.INFO, logging.getLogger().getEffectiveLevel()))
    bolt_logger.addFilter(drop_token_unused_warning)
    secret = settings.slack_signing_secret
    identity = SlackIdentity(client)
    app = BoundedApp(
        name="smtpcheck",
        logger=bolt_logger,
        client=client,
        authorize=identity.authorizer(),
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

    return Bot(
        app=app,
        deps=deps,
        client=client,
        notify_interrupted=notify_interrupted,
        identity=identity,
    )
