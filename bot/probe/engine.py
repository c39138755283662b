"""The live SMTP authentication probe: ``run_probe(request, collaborators=...) -> ProbeReport``.

A thin loop around ``plan``: it takes the actions ``plan.actions`` lists for
the effective security mode, stops at the first that fails, and returns the
report at once; QUIT (when the dialogue is still in step) is said afterwards in
the background (``farewell``), so the verdict never waits for the goodbye.
Each action runs its stage(s) in ``_stage``, which times the stage, bounds it
by ``min(its limit, time left)`` and turns whatever goes wrong into the
stage's failed step; ``ReportDraft`` keeps what was found.

- The name is resolved once and every answer checked by the egress policy;
  the probe connects its own socket to a checked address and hands it to
  aiosmtplib, which is given the name only for SNI and certificate checks.
- TLS comes before AUTH unless ``security=none`` was chosen; a server without
  STARTTLS gets no credentials.
- Exactly one AUTH attempt with one explicit mechanism (``auth_plain`` and
  friends, never ``login()``, which tries every mechanism in turn).
- Network and server behaviour never raises: it becomes the report's outcome
  (``failures.classify`` is the one place foreign exceptions are read).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import Final

import aiosmtplib

from bot.probe import failures, farewell, mode, reach, words
from bot.probe.authenticate import authenticate
from bot.probe.collaborators import Collaborators
from bot.probe.draft import ReportDraft
from bot.probe.failures import Failure, ImplicitTlsPort
from bot.probe.model import (
    BeforeAuth,
    Finding,
    OnStep,
    Outcome,
    ProbeReport,
    ProbeRequest,
    Security,
    Stage,
    Status,
)
from bot.probe.plan import (
    DEFAULT_LIMITS,
    Action,
    Deadline,
    Limits,
    actions,
    keeps_dialogue,
)
from bot.probe.replies import format_reply, keywords
from bot.probe.request import IPAddress
from bot.probe.session import TappedSMTP, first_bytes
from bot.probe.stage_run import STAGE_ERRORS, Alarm, StageRun
from bot.probe.tls import HandshakeClock, handshake_clock, looks_like_tls

_MAX_SHOWN: Final = 12


async def run_probe(
    request: ProbeRequest,
    *,
    collaborators: Collaborators,
    deadline: float = 30.0,
    on_step: OnStep | None = None,
    limits: Limits = DEFAULT_LIMITS,
    before_auth: BeforeAuth | None = None,
) -> ProbeReport:
    """Probe ``request.host`` and report what each stage found, within ``deadline`` seconds.

    Never raises for network or server behaviour; ``on_step`` is awaited after
    each stage (its errors are logged and ignored); ``before_auth`` see ``BeforeAuth``.
    Build ``collaborators`` with ``Collaborators.from_settings`` unless a test hands in its own.
    """
    probe = _Probe(request, collaborators, deadline=deadline, on_step=on_step, limits=limits)
    probe.before_auth = before_auth
    return await probe.run()


class _Probe:
    """State of one probe run. Used once."""

    def __init__(
        self,
        request: ProbeRequest,
        collaborators: Collaborators,
        *,
        deadline: float,
        on_step: OnStep | None,
        limits: Limits,
    ) -> None:
        started = time.monotonic()
        self.request = request
        self.collaborators = collaborators
        self.limits = limits
        self.deadline = Deadline.starting(deadline, now=started)
        self.draft = ReportDraft(request, on_step=on_step, started=started)
        self.alarm = Alarm()
        self.current = StageRun(
            Stage.RESOLVE, started=started, limits=limits, deadline=self.deadline,
            draft=self.draft, alarm=self.alarm,
        )  # fmt: skip
        self.addresses: tuple[IPAddress, ...] = ()
        self.sock: socket.socket | None = None
        self.smtp: TappedSMTP | None = None
        self.in_sync = False  # the SMTP dialogue is at a point where QUIT makes sense
        self.before_auth: BeforeAuth | None = None
        self.switch_to: Security | None = None  # auto: the mode the evidence showed
        self._announcing: asyncio.Task[None] | None = None  # steps published mid-stage
        self._got_bytes = False  # the banner stage saw the server's first bytes
        self.extensions: tuple[str, ...] = ()  # EHLO keywords, as shown

    # -- the run -------------------------------------------------------------------------

    async def run(self) -> ProbeReport:
        handed_off = False
        try:
            async with asyncio.timeout(self.deadline.guard):
                plan = actions(self.draft.security)
                while plan:
                    for action in plan:
                        passed = await _ACTIONS[action](self)
                        if self.current.failure is not None:
                            self._out_of_step(self.current.failure)
                        if self.draft.on_step is not None:  # after the stage's timeout
                            await self._announced()
                            await self.draft.publish()
                        if not passed:
                            break
                    plan = await self._switched_plan()
            handed_off = self._hand_off_quit()
        except TimeoutError:
            if self.draft.outcome is None:  # the backstop fired (a slow on_step, say)
                await self._announced()
                running = self.current
                failure = running.classify(TimeoutError())
                self._out_of_step(failure)
                self.draft.add_failure(running.stage, running.started, failure)
                await self.draft.publish()
        finally:
            self.alarm.close()
            if not handed_off:
                await self._close()
        return self.draft.report()

    def _stage(self, stage: Stage) -> StageRun:
        """Time ``stage`` and record how it ended: the one place a stage's step is added.

        The code inside ends the stage with ``ok``/``finish`` or ``fail``; what
        ``run`` lets through (network and server behaviour) is classified and
        becomes the failure (``StageRun.__exit__``). Steps reach ``on_step`` after
        the action, outside the stage's timeout, so a slow ``on_step`` never counts
        against the server.
        """
        return self.current.begin(stage, started=time.monotonic())

    def _announce(self, running: StageRun) -> None:
        """Publish the steps ``running`` has finished now, while it goes on (the ``tls``
        line of implicit TLS shows when the handshake ends, not with the greeting); in a
        task of its own, so a slow ``on_step`` still never counts against the server."""
        for step in running.earlier:
            self.draft.add(step)
        running.earlier.clear()
        if self.draft.on_step is not None:
            self._announcing = asyncio.ensure_future(self.draft.publish())

    async def _announced(self) -> None:
        """Wait for what ``_announce`` publishes: it comes before any later step."""
        announcing, self._announcing = self._announcing, None
        if announcing is not None:
            await announcing

    async def _switched_plan(self) -> tuple[Action, ...]:
        """With ``security auto``, the rest of the plan for the mode the evidence showed
        (once: from a new connection to the same checked address); else nothing."""
        found, self.switch_to = self.switch_to, None
        if found is None:
            return ()
        await self._close()
        self.smtp, self.sock, self.in_sync = None, None, False
        self.draft.security = found
        self.addresses = (self.draft.address,) if self.draft.address else self.addresses
        return actions(found)[1:]  # resolved already

    # -- actions, in the order plan.actions takes them ------------------------------------

    async def _resolve(self) -> bool:
        with self._stage(Stage.RESOLVE) as stage:
            self.addresses = await reach.resolve(
                stage, self.request.host, self.collaborators, self.deadline, self.limits
            )
        return stage.passed

    async def _connect(self) -> bool:
        with self._stage(Stage.CONNECT) as stage:
            self.sock = await reach.connect(
                stage, self.addresses, self.request, self.draft, self.deadline
            )
        return stage.passed

    async def _banner(self) -> bool:
        """Plaintext greeting (STARTTLS and none): peek first, then let aiosmtplib read it."""
        sock = self._own_socket()

        with self._stage(Stage.BANNER) as stage:
            tls, head = await self._answers_tls(sock, stage)
            if tls:
                if self.request.security is not Security.AUTO:
                    stage.fail(self.current.classify(ImplicitTlsPort()))
                self.switch_to = Security.TLS
                window, port = self.limits.greeting_window, self.request.port
                stage.ok(words.AUTO_FOUND_TLS.format(seconds=window, port=port))
                return False
            self._got_bytes = head is not None
            # the greeting window already spent counts: "no greeting within 10s" is 10 s
            result = await stage.attempt(self._greet(sock, head), shared=True)
            if isinstance(result, Failure):
                if result.finding is Finding.BANNER_TIMEOUT and not self._got_bytes:
                    result = await self._sniff(sock, result)
                stage.fail(result)
            reply = self._live_client().reply(result)
            stage.ok(words.BANNER_OK.format(reply=format_reply(reply)), reply)
        self.in_sync = stage.passed
        return stage.passed

    async def _greet(self, sock: socket.socket, head: bytes | None) -> aiosmtplib.SMTPResponse:
        seen = head if head is not None else await first_bytes(sock)
        self._got_bytes = True
        if not seen:
            raise aiosmtplib.SMTPServerDisconnected("closed before the greeting")
        if looks_like_tls(seen):
            raise ImplicitTlsPort()
        return await self._client(sock, use_tls=False).greet()

    async def _answers_tls(self, sock: socket.socket, stage: StageRun) -> tuple[bool, bytes | None]:
        """No greeting within a short window: does the port want TLS (``mode``)?"""
        window, budget = self.limits.greeting_window, stage.budget()
        race = min(self.limits.sniff, max(0.0, budget - window))
        return await mode.greeting_or_tls(sock, self._port, window=min(window, budget), race=race)

    async def _sniff(self, sock: socket.socket, timed_out: Failure) -> Failure:
        """No greeting at all: does the port answer a TLS ClientHello (an implicit-TLS port)?"""
        budget = self.deadline.budget(self.limits.sniff, time.monotonic())
        if self.smtp is None and await mode.late_tls_check(sock, self._port(), budget=budget):
            return self.current.classify(ImplicitTlsPort())
        return timed_out

    async def _implicit_tls(self) -> bool:
        """Implicit TLS: aiosmtplib does the handshake and reads the greeting in one call.

        The handshake clock splits it into the ``tls`` and ``banner`` stages, and moves
        the timeout from the TLS limit to the banner limit when the handshake is done.
        """
        sock = self._own_socket()
        loop = asyncio.get_running_loop()
        with self._stage(Stage.TLS) as stage:
            guard = asyncio.timeout_at(loop.time() + stage.budget())

            def handshake_done(ssl_object: ssl.SSLObject) -> None:
                self.draft.tls_established(ssl_object)
                tls_step = self.draft.tls_step(stage.started, time.monotonic())
                stage.advance(Stage.BANNER, finished=tls_step)
                self._announce(stage)
                guard.reschedule(loop.time() + stage.budget())

            token = handshake_clock.set(HandshakeClock(handshake_done))
            try:
                async with guard:
                    response = await self._client(sock, use_tls=True).greet()
            except STAGE_ERRORS as exc:
                failure = self.current.classify(exc)
                if failure.finding is not Finding.TLS_ON_STARTTLS_PORT:
                    raise
                if self.request.security is Security.AUTO:  # plain SMTP here: STARTTLS then
                    self.switch_to = Security.STARTTLS
                    stage.ok(words.AUTO_FOUND_PLAIN.format(port=self.request.port))
                    return False
                stage.fail(await self._what_plain_port_offers())
            finally:
                handshake_clock.reset(token)
            # A greeting over TLS implies a finished handshake.
            assert stage.stage is Stage.BANNER
            reply = self._live_client().reply(response)
            stage.ok(words.BANNER_OK.format(reply=format_reply(reply)), reply)
        self.in_sync = stage.passed
        return stage.passed

    async def _what_plain_port_offers(self) -> Failure:
        """Implicit TLS met plain SMTP: look (a separate connection) at what it offers."""
        budget = self.deadline.budget(self.limits.sniff, time.monotonic())
        offer = await mode.survey(self._port(), budget=budget)
        starttls, auth = (offer.starttls, offer.auth) if offer else (None, ())
        return failures.tls_on_plain_port(self.request.port, starttls=starttls, auth=auth)

    async def _ehlo(self) -> bool:
        smtp = self._live_client()
        with self._stage(Stage.EHLO) as stage:
            # local_hostname (our address literal) was set at connect
            response = await stage.run(smtp.ehlo())
            offered = self.draft.offered = keywords(smtp.server_auth_methods, _MAX_SHOWN)
            shown = keywords(smtp.esmtp_extensions, _MAX_SHOWN)
            self.extensions = tuple(
                [f"AUTH {' '.join(offered)}" if k == "AUTH" and offered else k for k in shown]
            )
            extensions = ", ".join(self.extensions)
            reply = smtp.reply(response, lines=1)
            stage.ok(words.EHLO_OK.format(extensions=extensions or "none"), reply)
        return stage.passed

    async def _starttls(self) -> bool:
        smtp, host, context = self._live_client(), self.request.host, self.collaborators.tls_context
        with self._stage(Stage.TLS) as stage:
            if not smtp.supports_extension("starttls"):
                stage.fail(failures.starttls_missing_offering(self.request.port, self.extensions))
            await stage.run(smtp.upgrade(server_hostname=host, context=context))
            transport = smtp.transport
            self.draft.tls_established(
                transport.get_extra_info("ssl_object") if transport else None
            )
            stage.finish_step(self.draft.tls_step(stage.started, time.monotonic()))
        return stage.passed

    async def _tls_off(self) -> bool:
        with self._stage(Stage.TLS) as stage:
            if self.request.has_credentials:
                stage.finish(Status.WARN, words.TLS_OFF_IN_CLEAR, finding=Finding.PLAINTEXT_AUTH)
            else:
                stage.finish(Status.SKIPPED, words.TLS_OFF)
        return True

    async def _auth(self) -> bool:
        draft, request = self.draft, self.request
        with self._stage(Stage.AUTH) as stage:
            if not draft.offered:
                stage.fail(failures.auth_not_offered(over_tls=draft.tls is not None))
            if request.username is None or request.password is None:
                detail = words.AUTH_OFFERED_NO_CREDENTIALS.format(offered=" ".join(draft.offered))
                stage.finish(Status.SKIPPED, detail)
                outcome = Outcome.REACHABLE
            else:
                await authenticate(
                    stage,
                    self._live_client(),
                    draft,
                    request,
                    username=request.username,
                    secret=request.password,
                    addresses=self.addresses,
                    before_auth=self.before_auth,
                )
                outcome = Outcome.AUTHENTICATED
        if stage.passed:
            draft.outcome = outcome
        return stage.passed

    def _hand_off_quit(self) -> bool:
        """QUIT in the background, when the dialogue is in step and time is left.

        The verdict is in by now: the report does not wait for the goodbye, and
        the goodbye (bounded by the QUIT limit) closes the connection itself.
        """
        smtp = self.smtp
        budget = self.deadline.quit_budget(self.limits.quit, time.monotonic())
        if smtp is None or not self.in_sync or not smtp.is_connected or budget is None:
            return False
        self.draft.transcript.note("QUIT follows after the verdict.")
        farewell.send_off(self._quit(smtp, budget))
        return True

    async def _quit(self, smtp: TappedSMTP, budget: float) -> None:
        # Past the budget the connection is dropped, which ends the wait for the reply:
        # a plain timer rather than a cancelling timeout.
        timer = asyncio.get_running_loop().call_later(budget, smtp.close)
        try:
            await smtp.quit()
        except (OSError, aiosmtplib.SMTPException):
            pass  # no goodbye, or a broken one: nothing left to report
        finally:
            timer.cancel()
            await self._close()

    # -- helpers -------------------------------------------------------------------------

    def _client(self, sock: socket.socket, *, use_tls: bool) -> TappedSMTP:
        """Hand the connected socket to aiosmtplib; from here on it owns (and closes) it."""
        context, transcript = self.collaborators.tls_context, self.draft.transcript
        self.smtp = TappedSMTP.on_socket(sock, self.request.host, context, transcript, use_tls)
        return self.smtp

    def _port(self) -> mode.Port:
        assert self.draft.address is not None  # set by connect
        return mode.Port(
            self.draft.address, self.request.port, self.request.host, self.collaborators.tls_context
        )

    def _own_socket(self) -> socket.socket:
        assert self.sock is not None
        return self.sock

    def _live_client(self) -> TappedSMTP:
        assert self.smtp is not None
        return self.smtp

    def _out_of_step(self, failure: Failure) -> None:
        """After ``failure`` (the step that decides the outcome), is QUIT still in order?"""
        if not keeps_dialogue(failure.finding, has_reply=failure.reply is not None):
            self.in_sync = False

    async def _close(self) -> None:
        smtp, sock = self.smtp, self.sock
        if smtp is not None:
            smtp.close()  # aborts its transport, so none still uses the socket's descriptor
        if sock is not None:
            sock.close()  # no-op once the transport closed it; needed if none was ever made
        if smtp is not None or sock is not None:
            self.draft.transcript.note("Connection closed with remote host.")
            await asyncio.sleep(0)  # let the transport's connection_lost run and drop the fd


# Looked up per run rather than bound in each _Probe: a dict of bound methods on the
# instance would be a reference cycle, leaving every probe's objects to the cyclic GC.
_ACTIONS: Final[dict[Action, Callable[[_Probe], Awaitable[bool]]]] = {
    Action.RESOLVE: _Probe._resolve,
    Action.CONNECT: _Probe._connect,
    Action.BANNER: _Probe._banner,
    Action.IMPLICIT_TLS: _Probe._implicit_tls,
    Action.EHLO: _Probe._ehlo,
    Action.STARTTLS: _Probe._starttls,
    Action.TLS_OFF: _Probe._tls_off,
    Action.AUTH: _Probe._auth,
}
