"""Build the Slack app: Bolt ``AsyncApp`` wired to injected settings, store,
knowledge base, resolver, Slack Web API client and probe.

``build_app`` does no I/O. It returns a ``Bot``: the Bolt app plus the
dependencies the runtime needs around it (the check runner for SIGTERM and the
start-up sweep, the metrics registry for ``/metrics``, the store for ``/healthz``).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

import aiohttp
import dns.asyncresolver
from slack_bolt.async_app import AsyncApp
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

import handlers
from bot import messages
from bot.checks import Advice, AdviseFn, ArticleRef, CheckRunner, Metrics, OnStep, ProbeFn
from bot.config import Settings
from bot.errors import StoreUnavailable
from bot.helpdesk import HelpdeskMetrics
from bot.logs import setup_logging
from bot.probe.model import Outcome, ProbeReport, ProbeRequest
from bot.ratelimit import RateLimiter
from bot.resolver import make_resolver
from bot.store.base import Store
from handlers.deps import DEPS_KEY, Deps
from knowledge import KnowledgeBase, explain_reply, get_knowledge

log = logging.getLogger(__name__)

PROBE_DEADLINE: Final = 30.0
EVENT_DEDUPE_TTL: Final = 3600.0  # Slack retries within minutes; an hour is plenty
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
    """``bot.probe.run_probe`` bound to this process's settings and resolver."""

    async def probe(request: ProbeRequest, on_step: OnStep) -> ProbeReport:
        # Imported on first use: building the app (and serving questions) never
        # needs the SMTP engine loaded.
        from bot.probe import run_probe

        return await run_probe(
            request,
            settings=settings,
            resolver=resolver,
            ca_file=settings.ca_file,
            deadline=deadline,
            on_step=on_step,
        )

    return probe


def make_advise(kb: KnowledgeBase) -> AdviseFn:
    """``bot.diagnosis.diagnose`` with article ids resolved to titles."""
    from bot.diagnosis import diagnose

    def advise(report: ProbeReport) -> Advice:
        diagnosis = diagnose(report, kb)
        reply = report.auth_reply
        matches = (
            explain_reply(
                kb, " ".join(str(p) for p in (reply.code, reply.enhanced, reply.text) if p)
            )
            if reply is not None and report.outcome is not Outcome.AUTHENTICATED
            else ()
        )
        articles = tuple(
            ArticleRef(id=i, title=kb.articles[i].title)
            for i in diagnosis.articles
            if i in kb.articles
        )
        return Advice(
            summary=diagnosis.summary,
            cause=diagnosis.cause,
            articles=articles,
            next_steps=tuple(diagnosis.next_steps),
            reply_id=matches[0].reply_id if matches else None,
        )

    return advise


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
    app.error(_error_handler(metrics))
    return Bot(app=app, deps=deps, client=client)


class InjectDeps(AsyncMiddleware):
    """Puts this process's dependencies into every request's context.

    A middleware class rather than a function: Bolt calls a function middleware
    through its keyword-injection layer, which builds a ~30-entry argument dict
    (payload views, say/respond helpers) per call, on the ack's critical path.
    """

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        req.context[DEPS_KEY] = self._deps
        await next()
        return None


class DedupeEvents(AsyncMiddleware):
    """A retried delivery of an event (same event_id) has no second effect."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        body = req.body
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id:
            try:
                first = await self._store.claim(f"event:{event_id}", EVENT_DEDUPE_TTL)
            except StoreUnavailable:
                first = True  # answering twice beats not answering while the store is down
            if not first:
                return BoltResponse(status=200, body="")
        await next()
        return None


def _error_handler(metrics: Metrics) -> Callable[..., Awaitable[None]]:
    async def on_error(error: Exception, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Log with a reference, tell the user that reference; never a traceback in chat."""
        reference = secrets.token_hex(4)
        kind = str(body.get("type") or ("command" if "command" in body else "unknown"))
        log.error("unhandled %s error (reference %s)", kind, reference, exc_info=error)
        metrics.errors.labels(kind).inc()
        user = _id_of(body, "user")
        if user is None:
            return
        channel = _id_of(body, "channel")
        text = messages.UNEXPECTED.format(ref=reference)
        try:
            if channel:
                await client.chat_postEphemeral(channel=channel, user=user, text=text)
            else:
                await client.chat_postMessage(channel=user, text=text)
        except Exception:
            log.warning("could not tell %s about error %s", user, reference)

    return on_error


def _id_of(body: dict[str, Any], field: str) -> str | None:
    """The user or channel id of any payload kind: ``{field: {id}}`` (actions, views),
    ``{field}`` or ``{field}_id`` (commands), or the event's ``field``."""
    value = body.get(field)
    if isinstance(value, dict):
        value = value.get("id")
    value = value or body.get(f"{field}_id") or (body.get("event") or {}).get(field)
    return str(value) if value else None
