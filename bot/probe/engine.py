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
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Final

import aiosmtplib
from aiosmtplib.auth import auth_plain_encode, auth_xoauth2_encode

from bot.probe import failures, farewell, words
from bot.probe.collaborators import Collaborators
from bot.probe.draft import ReportDraft
from bot.probe.egress import Resolution, resolve_target
from bot.probe.failures import Failure, ImplicitTlsPort
from bot.probe.model import (
    Finding,
    Mechanism,
    OnStep,
    Outcome,
    ProbeReport,
    ProbeRequest,
    Stage,
    Status,
)
from bot.probe.plan import (
    DEFAULT_LIMITS,
    Action,
    Deadline,
    Limits,
    actions,
    choose_mechanism,
    keeps_dialogue,
)
from bot.probe.replies import clean_text, format_reply, parse_reply
from bot.probe.request import IPAddress, parse_ip_literal
from bot.probe.session import TappedSMTP, ehlo_name, first_bytes, open_socket
from bot.probe.stage_run import STAGE_ERRORS, StageFailed, StageRun
from bot.probe.tls import HandshakeClock, handshake_clock, looks_like_tls, speaks_tls
from bot.secret import Secret

_MAX_SHOWN: Final = 12


async def run_probe(
    request: ProbeRequest,
    *,
    collaborators: Collaborators,
    deadline: float = 30.0,
    on_step: OnStep | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> ProbeReport:
    """Probe ``request.host`` and report what each stage found, within ``deadline`` seconds.

    Never raises for network or server behaviour; ``on_step`` is awaited after
    each stage (its errors are logged and ignored). Build ``collaborators`` with
    ``Collaborators.from_settings`` unless a test hands in its own.
    """
    return await _Probe(
        request, collaborators, deadline=deadline, on_step=on_step, limits=limits
    ).run()


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
        self.current = self._run_of(Stage.RESOLVE, started=started)
        self.addresses: tuple[IPAddress, ...] = ()
        self.sock: socket.socket | None = None
        self.smtp: TappedSMTP | None = None
        self.in_sync = False  # the SMTP dialogue is at a point where QUIT makes sense
        self._actions: dict[Action, Callable[[], Awaitable[bool]]] = {
            Action.RESOLVE: self._resolve,
            Action.CONNECT: self._connect,
            Action.BANNER: self._banner,
            Action.IMPLICIT_TLS: self._implicit_tls,
            Action.EHLO: self._ehlo,
            Action.STARTTLS: self._starttls,
            Action.TLS_OFF: self._tls_off,
            Action.AUTH: self._auth,
        }

    # -- the run -------------------------------------------------------------------------

    async def run(self) -> ProbeReport:
        handed_off = False
        try:
            async with asyncio.timeout(self.deadline.guard):
                for action in actions(self.draft.security):
                    if not await self._actions[action]():
                        break
            handed_off = self._hand_off_quit()
        except TimeoutError:
            if self.draft.outcome is None:  # the backstop fired (a slow on_step, say)
                await self._record_failure(self.current.classify(TimeoutError()))
        finally:
            if not handed_off:
                await self._close()
        return self.draft.report()

    @asynccontextmanager
    async def _stage(self, stage: Stage) -> AsyncIterator[StageRun]:
        """Time ``stage`` and record how it ended: the one place a stage's step is added.

        The code inside ends the stage with ``ok``/``finish`` or ``fail``; what
        ``run`` lets through (network and server behaviour) is classified and
        becomes the failure. Steps are added after the stage's timeout is over,
        so a slow ``on_step`` never counts against the server.
        """
        running = self._run_of(stage, started=time.monotonic())
        self.current = running
        failure: Failure | None = None
        try:
            yield running
        except StageFailed as stop:
            failure = stop.failure
        except STAGE_ERRORS as exc:
            failure = self.current.classify(exc)
        for step in running.earlier:
            await self.draft.add(step)
        if failure is not None:
            running.step = None
            await self._record_failure(failure)
        elif running.step is not None:
            await self.draft.add(running.step)

    def _run_of(self, stage: Stage, *, started: float) -> StageRun:
        return StageRun(
            stage, started=started, limits=self.limits, deadline=self.deadline, draft=self.draft
        )

    # -- actions, in the order plan.actions takes them ------------------------------------

    async def _resolve(self) -> bool:
        host = self.request.host
        resolver, policy = self.collaborators.resolver, self.collaborators.policy

        async def lookup() -> Resolution:
            lifetime = self.deadline.dns_lifetime(self.limits.dns, time.monotonic())
            return await resolve_target(host, resolver=resolver, policy=policy, lifetime=lifetime)

        async with self._stage(Stage.RESOLVE) as stage:
            resolution = await stage.run(lookup)
            self.addresses = resolution.addresses
            if parse_ip_literal(host) is not None:
                stage.ok(words.LITERAL.format(host=host))
            else:
                shown = ", ".join(str(ip) for ip in self.addresses[:4])
                more = ", ..." if len(self.addresses) > 4 else ""
                detail = words.RESOLVED.format(host=host, addresses=shown + more)
                notes = [
                    words.RESOLVED_PARTLY.format(rdtype=rdtype, problem=problem.value)
                    for rdtype, problem in resolution.failed
                ]
                stage.ok("; ".join([detail, *notes]))
        return stage.passed

    async def _connect(self) -> bool:
        port, transcript = self.request.port, self.draft.transcript
        async with self._stage(Stage.CONNECT) as stage:
            transcript.note(f"Trying {self._host_port()}...")
            earlier: list[str] = []
            failure: Failure | None = None
            for address in self.addresses:
                self.draft.address = address
                result = await stage.attempt(partial(open_socket, address, port))
                if not isinstance(result, Failure):
                    self.sock = result
                    break
                failure = result
                earlier.append(words.EARLIER_FAILED.format(address=address, reason=result.detail))
                transcript.note(clean_text(result.detail))
                if self.deadline.remaining(time.monotonic()) <= 0:
                    break
            if self.sock is None:
                assert failure is not None  # resolve_target never returns an empty tuple
                if len(earlier) > 1:
                    failure = Failure(
                        failure.outcome, failure.finding, "; ".join(earlier), failure.reply
                    )
                stage.fail(failure)
            transcript.note(f"Connected to {self.draft.address}.")
            detail = words.CONNECTED.format(address=self.draft.address, port=port)
            stage.ok("; ".join([*earlier, detail]))
        return stage.passed

    async def _banner(self) -> bool:
        """Plaintext greeting (STARTTLS and none): peek first, then let aiosmtplib read it."""
        sock = self._own_socket()
        got_bytes = False

        async def greet() -> aiosmtplib.SMTPResponse:
            nonlocal got_bytes
            head = await first_bytes(sock)
            got_bytes = True
            if not head:
                raise aiosmtplib.SMTPServerDisconnected("closed before the greeting")
            if looks_like_tls(head):
                raise ImplicitTlsPort()
            return await self._client(sock, use_tls=False).greet()

        async with self._stage(Stage.BANNER) as stage:
            result = await stage.attempt(greet)
            if isinstance(result, Failure):
                if result.finding is Finding.BANNER_TIMEOUT and not got_bytes:
                    result = await self._sniff(sock, result)
                stage.fail(result)
            reply = parse_reply(result.code, result.message)
            stage.ok(words.BANNER_OK.format(reply=format_reply(reply)), reply)
        self.in_sync = stage.passed
        return stage.passed

    async def _sniff(self, sock: socket.socket, timed_out: Failure) -> Failure:
        """No greeting at all: does the port answer a TLS ClientHello (an implicit-TLS port)?"""
        budget = self.deadline.budget(self.limits.sniff, time.monotonic())
        if budget <= 0 or self.smtp is not None:
            return timed_out
        context, host = self.collaborators.tls_context, self.request.host
        try:
            async with asyncio.timeout(budget):
                is_tls = await speaks_tls(sock, context=context, server_hostname=host)
        except TimeoutError:
            return timed_out
        return self.current.classify(ImplicitTlsPort()) if is_tls else timed_out

    async def _implicit_tls(self) -> bool:
        """Implicit TLS: aiosmtplib does the handshake and reads the greeting in one call.

        The handshake clock splits it into the ``tls`` and ``banner`` stages, and moves
        the timeout from the TLS limit to the banner limit when the handshake is done.
        """
        sock = self._own_socket()
        loop = asyncio.get_running_loop()
        async with self._stage(Stage.TLS) as stage:
            guard = asyncio.timeout(loop.time() + stage.budget())

            def handshake_done(ssl_object: ssl.SSLObject) -> None:
                self.draft.tls_established(ssl_object)
                tls_step = self.draft.tls_step(stage.started, time.monotonic())
                stage.advance(Stage.BANNER, finished=tls_step)
                guard.reschedule(loop.time() + stage.budget())

            token = handshake_clock.set(HandshakeClock(handshake_done))
            try:
                async with guard:
                    response = await self._client(sock, use_tls=True).greet()
            finally:
                handshake_clock.reset(token)
            # A greeting over TLS implies a finished handshake.
            assert stage.stage is Stage.BANNER
            reply = parse_reply(response.code, response.message)
            stage.ok(words.BANNER_OK.format(reply=format_reply(reply)), reply)
        self.in_sync = stage.passed
        return stage.passed

    async def _ehlo(self) -> bool:
        smtp = self._live_client()
        async with self._stage(Stage.EHLO) as stage:
            # local_hostname (our address literal) was set at connect
            response = await stage.run(smtp.ehlo)
            self.draft.offered = tuple(
                clean_text(method.upper(), max_chars=30) for method in smtp.server_auth_methods
            )[:_MAX_SHOWN]
            offered = self.draft.offered
            keywords = [clean_text(k.upper(), max_chars=30) for k in smtp.esmtp_extensions]
            extensions = ", ".join(
                f"AUTH {' '.join(offered)}" if k == "AUTH" and offered else k
                for k in keywords[:_MAX_SHOWN]
            )
            reply = parse_reply(response.code, response.message.split("\n", 1)[0])
            stage.ok(words.EHLO_OK.format(extensions=extensions or "none"), reply)
        return stage.passed

    async def _starttls(self) -> bool:
        smtp = self._live_client()
        upgrade = partial(
            smtp.upgrade,
            server_hostname=self.request.host,
            context=self.collaborators.tls_context,
        )
        async with self._stage(Stage.TLS) as stage:
            if not smtp.supports_extension("starttls"):
                stage.fail(failures.starttls_missing(self.request.port))
            await stage.run(upgrade)
            transport = smtp.transport
            self.draft.tls_established(
                transport.get_extra_info("ssl_object") if transport else None
            )
            stage.finish_step(self.draft.tls_step(stage.started, time.monotonic()))
        return stage.passed

    async def _tls_off(self) -> bool:
        async with self._stage(Stage.TLS) as stage:
            if self.request.has_credentials:
                stage.finish(Status.WARN, words.TLS_OFF_IN_CLEAR, finding=Finding.PLAINTEXT_AUTH)
            else:
                stage.finish(Status.SKIPPED, words.TLS_OFF)
        return True

    async def _auth(self) -> bool:
        draft, request = self.draft, self.request
        async with self._stage(Stage.AUTH) as stage:
            if not draft.offered:
                stage.fail(failures.auth_not_offered(over_tls=draft.tls is not None))
            if request.username is None or request.password is None:
                detail = words.AUTH_OFFERED_NO_CREDENTIALS.format(offered=" ".join(draft.offered))
                stage.finish(Status.SKIPPED, detail)
                outcome = Outcome.REACHABLE
            else:
                await self._authenticate(stage, request.username, request.password)
                outcome = Outcome.AUTHENTICATED
        if stage.passed:
            draft.outcome = outcome
        return stage.passed

    async def _authenticate(self, stage: StageRun, username: str, secret: Secret) -> None:
        """The one AUTH attempt, with the one mechanism ``plan.choose_mechanism`` picks."""
        smtp, draft = self._live_client(), self.draft
        wanted = self.request.mechanism
        mechanism = choose_mechanism(wanted, draft.offered, over_tls=draft.tls is not None)
        if mechanism is None:
            stage.fail(failures.mechanism_not_offered(wanted, draft.offered))
        draft.mechanism = mechanism.value.upper()
        methods = {
            Mechanism.PLAIN: smtp.auth_plain,
            Mechanism.LOGIN: smtp.auth_login,
            Mechanism.CRAM_MD5: smtp.auth_crammd5,
            Mechanism.XOAUTH2: smtp.auth_xoauth2,
        }
        draft.secrets.extend(secret.forms())

        async def authenticate() -> aiosmtplib.SMTPResponse:
            password = secret.reveal()  # the one place the password is unwrapped
            draft.secrets.extend(
                blob.decode("ascii")
                for blob in (
                    auth_plain_encode(username, password),
                    auth_xoauth2_encode(username, password),
                )
            )
            return await methods[mechanism](username, password)

        response = await stage.run(authenticate)
        reply = parse_reply(response.code, response.message, draft.secrets)
        detail = words.AUTH_OK.format(mechanism=draft.mechanism, reply=format_reply(reply))
        stage.ok(detail, reply)

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
        try:
            async with asyncio.timeout(budget):
                await smtp.quit()
        except (OSError, aiosmtplib.SMTPException):
            pass  # no goodbye, or a broken one: nothing left to report
        finally:
            await self._close()

    # -- helpers -------------------------------------------------------------------------

    def _client(self, sock: socket.socket, *, use_tls: bool) -> TappedSMTP:
        """Hand the connected socket to aiosmtplib; from here on it owns (and closes) it."""
        smtp = TappedSMTP(
            transcript=self.draft.transcript,
            hostname=self.request.host,  # SNI and certificate name only: the socket is connected
            sock=sock,
            local_hostname=ehlo_name(sock),
            timeout=None,  # our own stage timeouts and deadline govern
            use_tls=use_tls,
            start_tls=False,  # STARTTLS is decided here, never silently by aiosmtplib
            tls_context=self.collaborators.tls_context,
        )
        self.smtp = smtp
        return smtp

    def _own_socket(self) -> socket.socket:
        assert self.sock is not None
        return self.sock

    def _live_client(self) -> TappedSMTP:
        assert self.smtp is not None
        return self.smtp

    def _host_port(self) -> str:
        host = self.request.host
        return f"[{host}]:{self.request.port}" if ":" in host else f"{host}:{self.request.port}"

    async def _record_failure(self, failure: Failure) -> None:
        """The current stage failed with ``failure``: that step decides the outcome."""
        if not keeps_dialogue(failure.finding, has_reply=failure.reply is not None):
            self.in_sync = False
        running = self.current
        await self.draft.add_failure(running.stage, running.started, failure)

    async def _close(self) -> None:
        smtp, sock = self.smtp, self.sock
        if smtp is not None:
            smtp.close()  # aborts its transport, so none still uses the socket's descriptor
        if sock is not None:
            sock.close()  # no-op once the transport closed it; needed if none was ever made
        if smtp is not None or sock is not None:
            self.draft.transcript.note("Connection closed with remote host.")
            await asyncio.sleep(0)  # let the transport's connection_lost run and drop the fd
