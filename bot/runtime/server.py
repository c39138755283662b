"""The HTTP runtime: ``POST /slack/events`` (events, commands, interactivity),
``GET /healthz`` and ``GET /metrics``, plus the start-up sweep and graceful drain.

Bolt verifies every Slack request's signature (HMAC v0, at most 300 s old) and
answers 401 otherwise. While draining after SIGTERM the server keeps answering
(questions still work, new checks are refused politely) until in-flight checks
finish or the deadline passes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import hmac
import logging
from pathlib import Path
from typing import Any, Final

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.signature import SignatureVerifier

from bot.checks.contracts import HEARTBEAT_EVERY
from bot.errors import StoreUnavailable
from bot.helpdesk.prometheus import render_prometheus
from bot.oauth.web import add_oauth_routes
from bot.probe import farewell
from bot.probe.plan import DEFAULT_LIMITS
from bot.probe.tls import ca_file_problem
from bot.runtime.guard import (
    BODY_TIMEOUT,
    CONNECTION_CAP,
    HEADER_TIMEOUT,
    GuardedRunner,
    LogOnce,
    quiet_accept_errors,
)
from bot.runtime.identity import TokenCheck
from bot.runtime.wiring import Bot

log = logging.getLogger(__name__)

EVENTS_PATH: Final = "/slack/events"
DRAIN_MARGIN: Final = 5.0  # beyond the probe deadline, for posting the last results
MAX_BODY: Final = 1024 * 1024  # Slack payloads are far smaller; bound what we read
HEALTH_STORE_TIMEOUT: Final = 2.0


class PromptAck(AsyncAck):
    """Bolt's ``ack`` that also hands its response to the waiting HTTP handler.

    Bolt runs a listener as a task and polls every 10 ms until it has acked, so
    without this an ack waited for the next poll (plus a turn of a busy loop)
    before its response could leave: tens of milliseconds at 50 concurrent commands.
    """

    def __init__(self, answer: asyncio.Future[BoltResponse]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # slack_bolt leaves it unannotated
        self._answer = answer

    async def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        response = await super().__call__(*args, **kwargs)
        if not self._answer.done():
            self._answer.set_result(response)
        return response


def _settle(answer: asyncio.Future[BoltResponse], dispatch: asyncio.Task[BoltResponse]) -> None:
    """When Bolt finishes: its response, unless the ack already answered."""
    if dispatch.cancelled():
        if not answer.done():
            answer.cancel()
        return
    error = dispatch.exception()
    if answer.done():
        if error is not None:
            log.error("Slack request failed after its ack", exc_info=error)
    elif error is not None:
        answer.set_exception(error)
    else:
        answer.set_result(dispatch.result())


def make_web_app(
    bot: Bot,
    *,
    slack_events: bool = True,
    signing_secret: str | None = None,
    metrics_token: str | None = None,
    ca_file: Path | None = None,
) -> web.Application:
    """The aiohttp application (without Slack routes in Socket Mode).

    With ``signing_secret``, a request's Slack signature is checked before its body
    is parsed (401 otherwise); the helpdesk figures on ``/metrics`` need
    ``Authorization: Bearer <metrics_token>`` (without a token they are not served).
    """
    app = web.Application(client_max_size=MAX_BODY)
    dispatching: set[asyncio.Task[BoltResponse]] = set()
    verifier = SignatureVerifier(signing_secret) if signing_secret else None

    async def events(request: web.Request) -> web.Response:
        """Answer with the ack's response as soon as the listener acks; Bolt's own
        response (dedupe, errors before the ack, unhandled requests) when it returns
        first. Unsigned, badly signed or malformed requests never reach Bolt."""
        try:
            async with asyncio.timeout(BODY_TIMEOUT):
                body = await request.text()
        except TimeoutError:
            return web.Response(status=408, text="request body too slow")
        except (web.HTTPException, UnicodeDecodeError, ValueError):
            return web.Response(status=400, text="unreadable request body")
        if verifier is not None and not verifier.is_valid_request(body, dict(request.headers)):
            return web.Response(status=401, text="invalid signature")
        answer: asyncio.Future[BoltResponse] = asyncio.get_running_loop().create_future()
        try:
            bolt_request = AsyncBoltRequest(
                body=body,
                query=request.query_string,
                headers=request.headers,  # type: ignore[arg-type]  # a multidict, read like a dict
                context={"ack": PromptAck(answer)},
            )
        except Exception:
            log.info("a signed request with a malformed body was refused")
            return web.Response(status=400, text="malformed request body")
        dispatch = asyncio.create_task(bot.app.async_dispatch(bolt_request))
        dispatching.add(dispatch)  # a strong reference until Bolt is done
        dispatch.add_done_callback(dispatching.discard)
        dispatch.add_done_callback(functools.partial(_settle, answer))
        return await to_aiohttp_response(await answer)

    async def healthz(request: web.Request) -> web.Response:
        """200 while serving with a store that answers and a usable CA bundle; 503 when
        draining, when the store does not answer (checks are refused then) or when the
        CA bundle became unusable, so a balancer or an operator sees it. The body says
        which."""
        try:
            async with asyncio.timeout(HEALTH_STORE_TIMEOUT):
                await bot.deps.store.ping()
            store = "ok"
        except (StoreUnavailable, TimeoutError):
            store = "unreachable"
        ca = (
            "none"
            if ca_file is None
            else ("ok" if ca_file_problem(ca_file) is None else "unusable")
        )
        accepting = bot.deps.runner.accepting
        healthy = accepting and store == "ok" and ca != "unusable"
        body = {
            "ok": healthy,
            "accepting": accepting,
            "store": store,
            "ca_file": ca,
            "checks_in_flight": bot.deps.runner.in_flight,
        }
        return web.json_response(body, status=200 if healthy else 503)

    async def metrics(request: web.Request) -> web.Response:
        """Process metrics for anyone who reaches the port; the helpdesk figures (which
        Slack shows to admins only) only with the bearer token."""
        payload = generate_latest(bot.deps.metrics.registry)
        given = request.headers.get("Authorization", "")
        expected = f"Bearer {metrics_token}" if metrics_token else None
        if expected is not None and hmac.compare_digest(given.encode(), expected.encode()):
            try:
                payload += await render_prometheus(bot.deps.helpdesk)
            except StoreUnavailable:
                # The process counters still say something useful without the store.
                log.warning("store unreachable: /metrics without the helpdesk numbers")
        response = web.Response(body=payload)
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    if slack_events:
        app.router.add_post(EVENTS_PATH, events)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app


@functools.cache
def settle_heap() -> None:
    """Once per process, before serving: collect start-up garbage, then freeze
    what is left (modules, the knowledge base, the Bolt app) out of the cyclic
    collector. Those objects live as long as the process; left in, every full
    collection under load walked all of them (a 63 ms pause measured in
    bench/ack.py, felt by every request in flight)."""
    gc.collect()
    gc.freeze()


class BotServer:
    """Runs the web app, the start-up sweep, and the drain on shutdown."""

    def __init__(
        self,
        bot: Bot,
        *,
        host: str = "0.0.0.0",  # noqa: S104 (a server listens on every interface by design)
        port: int = 3000,
        slack_events: bool = True,
        sweep_every: float | None = None,
        connection_cap: int = CONNECTION_CAP,
        header_timeout: float = HEADER_TIMEOUT,
    ) -> None:
        self._bot = bot
        # Default: as often as a record can age past the sweep's limit.
        self._sweep_every = bot.deps.runner.deadline + 20.0 if sweep_every is None else sweep_every
        self._host = host
        self._port = port
        settings = bot.deps.settings
        secret, token = settings.slack_signing_secret, settings.metrics_token
        app = make_web_app(
            bot,
            slack_events=slack_events,
            signing_secret=secret.reveal() if secret and slack_events else None,
            metrics_token=token.reveal() if token else None,
            ca_file=settings.ca_file,
        )
        if slack_events and bot.deps.sign_ins is not None:  # HTTP mode: Google's callback
            add_oauth_routes(app, bot.deps.sign_ins.pending)
        self._notes = LogOnce()
        self._runner = GuardedRunner(
            app,
            guard={"cap": connection_cap, "header_timeout": header_timeout, "notes": self._notes},
            access_log=None,
        )
        self._later: asyncio.Task[None] | None = None
        self._beat: asyncio.Task[None] | None = None
        self._stopped = False
        self.port = 0
        self.token_check: TokenCheck | None = None

    async def start(self) -> int:
        """Listen, sweep checks a previous process left in flight; return the bound port."""
        settle_heap()
        quiet_accept_errors(asyncio.get_running_loop(), self._notes)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self.token_check = await self.check_token()
        await self.heartbeat()
        await self.sweep()
        self._beat = asyncio.create_task(self._heartbeat_later())
        # A check younger than the sweep's age limit may belong to a process that
        # just died: keep looking, at the pace records can age past that limit.
        self._later = asyncio.create_task(self._sweep_later())
        log.info("listening on %s:%d", self._host, self.port)
        return self.port

    async def sweep(self) -> int:
        try:
            told = await self._bot.deps.runner.sweep_interrupted(self._bot.notify_interrupted)
        except StoreUnavailable:
            log.warning("store unreachable: interrupted checks will be swept later")
            return 0
        if told:
            log.info("closed out %d interrupted check(s)", told)
        return told

    async def check_token(self) -> TokenCheck | None:
        """``auth.test`` once, bounded: say once if Slack cannot be reached."""
        identity = self._bot.identity
        if identity is None:
            return None
        result = await identity.check()
        if result is TokenCheck.UNREACHABLE:
            log.warning(
                "Slack is unreachable (%s): serving anyway; replies wait until it answers",
                identity.problem,
            )
        elif result is TokenCheck.INVALID:
            log.error("Slack refused the bot token (%s)", identity.problem)
        return result

    async def heartbeat(self) -> None:
        try:
            await self._bot.deps.runner.heartbeat()
        except StoreUnavailable:
            log.warning("store unreachable: could not renew this process's lease")

    async def _heartbeat_later(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_EVERY)
            await self.heartbeat()

    async def _sweep_later(self) -> None:
        # Periodic, not once: a peer that dies while this process lives on would
        # otherwise leave its owners waiting until that peer is restarted.
        while True:
            await asyncio.sleep(self._sweep_every)
            await self.sweep()

    async def stop(self) -> None:
        """Refuse new checks, let running ones finish within the deadline, then close.
        Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        if self._later is not None:
            self._later.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._later
        left = await self._bot.deps.runner.drain(self._bot.deps.runner.deadline + DRAIN_MARGIN)
        if self._beat is not None:  # renewed until the last check of ours is done
            self._beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beat
        if left:
            log.warning("%d check(s) did not finish before shutdown", left)
        await farewell.settle(DEFAULT_LIMITS.quit)  # the QUITs said after finished checks
        await self._runner.cleanup()
