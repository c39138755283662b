"""The live SMTP authentication probe: ``run_probe(request, ...) -> ProbeReport``.

Stages, each a ``StepResult``: resolve -> connect -> banner -> ehlo -> tls ->
ehlo -> auth -> quit (with implicit TLS the handshake comes before the banner).

- The name is resolved once and every answer checked by the egress policy;
  the probe connects its own socket to a checked address and hands it to
  aiosmtplib, which is given the name only for SNI and certificate checks.
- TLS comes before AUTH unless ``security=none`` was chosen; a server without
  STARTTLS gets no credentials.
- Exactly one AUTH attempt with one explicit mechanism (``auth_plain`` and
  friends, never ``login()``, which tries every mechanism in turn).
- Every stage has its own timeout and the whole probe one deadline: a stage
  gets ``min(its limit, time left)``, so a server answering each step just in
  time cannot stretch the probe past the deadline.
- Network and server behaviour never raises: it becomes the report's outcome
  (``failures.classify`` is the one place foreign exceptions are read).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache, partial
from pathlib import Path
from typing import Final, TypeVar

import aiosmtplib
import dns.asyncresolver
from aiosmtplib.auth import auth_plain_encode, auth_xoauth2_encode

from bot.config import Settings
from bot.probe import words
from bot.probe.egress import EgressPolicy, resolve_target
from bot.probe.failures import Failure, ImplicitTlsPort, Where, classify
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
from bot.probe.replies import clean_text, format_reply, parse_reply
from bot.probe.request import IPAddress, parse_ip_literal
from bot.probe.session import TappedSMTP, ehlo_name, first_bytes, open_socket
from bot.probe.tls import (
    HandshakeClock,
    client_context,
    handshake_clock,
    looks_like_tls,
    speaks_tls,
    tls_info,
)
from bot.probe.transcript import Transcript
from bot.resolver import make_resolver

logger = logging.getLogger(__name__)

OnStep = Callable[[StepResult], Awaitable[None]]
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Per-stage timeouts in seconds; each is further capped by the time left."""

    dns: float = 5.0
    connect: float = 5.0  # per address tried
    banner: float = 10.0
    command: float = 10.0  # EHLO, each AUTH exchange
    tls: float = 10.0  # STARTTLS command plus handshake, or the implicit handshake
    quit: float = 2.0
    sniff: float = 2.0  # the ClientHello test after a silent greeting


DEFAULT_LIMITS: Final = Limits()
# The outer guard is a backstop a little past the deadline; stage budgets already end at it.
_GUARD_GRACE: Final = 0.25
# A timeout with less than this left was the deadline's, not the stage's own limit.
_DEADLINE_SLACK: Final = 0.01
_MIN_QUIT_BUDGET: Final = 0.05
# Best first. Over TLS the password is protected anyway and PLAIN is the most widely
# working; in the clear, CRAM-MD5 at least keeps the password itself off the wire.
_PREFERENCE_TLS: Final = (Mechanism.PLAIN, Mechanism.LOGIN, Mechanism.CRAM_MD5)
_PREFERENCE_CLEAR: Final = (Mechanism.CRAM_MD5, Mechanism.PLAIN, Mechanism.LOGIN)
_MAX_SHOWN: Final = 12
_DECIDED_HERE: Final = frozenset(
    {Finding.STARTTLS_MISSING, Finding.AUTH_NOT_OFFERED, Finding.MECHANISM_NOT_OFFERED}
)


async def run_probe(
    request: ProbeRequest,
    *,
    settings: Settings,
    resolver: dns.asyncresolver.Resolver | None = None,
    ca_file: Path | None = None,
    deadline: float = 30.0,
    on_step: OnStep | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> ProbeReport:
    """Probe ``request.host`` and report what each stage found. Never raises for
    network or server behaviour; ``on_step`` is awaited after each stage (its
    errors are logged and ignored)."""
    ca_files = [path for path in (settings.ca_file, ca_file) if path is not None]
    probe = _Probe(
        request,
        settings=settings,
        resolver=resolver,
        context_files=ca_files,
        deadline=deadline,
        on_step=on_step,
        limits=limits,
    )
    return await probe.run()


@lru_cache(maxsize=8)
def _default_resolver(dns_servers: tuple[tuple[str, int], ...]) -> dns.asyncresolver.Resolver:
    # One per configuration: building a resolver reads /etc/resolv.conf.
    return make_resolver(dns_servers)


class _Probe:
    """State of one probe run. Used once."""

    def __init__(
        self,
        request: ProbeRequest,
        *,
        settings: Settings,
        resolver: dns.asyncresolver.Resolver | None,
        context_files: Sequence[Path],
        deadline: float,
        on_step: OnStep | None,
        limits: Limits,
    ) -> None:
        self.request = request
        self.settings = settings
        self.resolver = resolver
        self.context = client_context(context_files)
        self.deadline = deadline
        self.on_step = on_step
        self.limits = limits
        self.security = request.effective_security
        self.started = time.monotonic()
        self.ends = self.started + deadline
        self.secrets: list[str] = []
        self.transcript = Transcript(self.secrets)
        self.steps: list[StepResult] = []
        self.outcome: Outcome | None = None
        self.address: IPAddress | None = None
        self.sock: socket.socket | None = None
        self.smtp: TappedSMTP | None = None
        self.in_sync = False  # the SMTP dialogue is at a point where QUIT makes sense
        self.tls: TlsInfo | None = None
        self.mechanism: str | None = None
        self.offered: tuple[str, ...] = ()
        self.stage = Stage.RESOLVE
        self.stage_started = self.started

    # -- the run -------------------------------------------------------------------------

    async def run(self) -> ProbeReport:
        try:
            async with asyncio.timeout(self.deadline + _GUARD_GRACE):
                await self._session()
        except TimeoutError:
            if self.outcome is None:  # the backstop fired (a slow on_step, say)
                failure = self._classify(TimeoutError())
                await self._fail(self.stage, self.stage_started, failure)
        finally:
            await self._close()
        return self._report()

    async def _session(self) -> None:
        addresses = await self._resolve()
        if addresses is None or not await self._connect(addresses):
            return
        greeted = (
            await self._implicit_tls() if self.security is Security.TLS else await self._banner()
        )
        if greeted and await self._ehlo():
            if self.security is Security.STARTTLS:
                if await self._starttls() and await self._ehlo():
                    await self._auth()
            else:
                if self.security is Security.NONE:
                    await self._tls_off()
                await self._auth()
        await self._quit()

    # -- stages --------------------------------------------------------------------------

    async def _resolve(self) -> tuple[IPAddress, ...] | None:
        host = self.request.host
        self._begin(Stage.RESOLVE)
        is_literal = parse_ip_literal(host) is not None
        resolver = self.resolver or _default_resolver(self.settings.dns_servers)
        policy = EgressPolicy(self.settings.allow_networks)

        async def lookup() -> tuple[IPAddress, ...]:
            lifetime = max(self._budget(self.limits.dns), 0.001)
            return await resolve_target(host, resolver=resolver, policy=policy, lifetime=lifetime)

        result = await self._attempt(self.limits.dns, lookup)
        if isinstance(result, Failure):
            await self._fail(Stage.RESOLVE, self.stage_started, result)
            return None
        if is_literal:
            detail = words.LITERAL.format(host=host)
        else:
            shown = ", ".join(str(ip) for ip in result[:4]) + (", ..." if len(result) > 4 else "")
            detail = words.RESOLVED.format(host=host, addresses=shown)
        await self._ok(Stage.RESOLVE, detail)
        return result

    async def _connect(self, addresses: Sequence[IPAddress]) -> bool:
        port = self.request.port
        self._begin(Stage.CONNECT)
        self.transcript.note(f"Trying {self._host_port()}...")
        earlier: list[str] = []
        failure: Failure | None = None
        for address in addresses:
            self.address = address
            result = await self._attempt(self.limits.connect, partial(open_socket, address, port))
            if isinstance(result, Failure):
                failure = result
                earlier.append(words.EARLIER_FAILED.format(address=address, reason=result.detail))
                self.transcript.note(clean_text(result.detail))
                if self._remaining() <= 0:
                    break
                continue
            self.sock = result
            self.transcript.note(f"Connected to {address}.")
            detail = words.CONNECTED.format(address=address, port=port)
            if earlier:
                detail = "; ".join([*earlier, detail])
            await self._ok(Stage.CONNECT, detail)
            return True
        assert failure is not None  # resolve_target never returns an empty tuple
        if len(earlier) > 1:
            failure = Failure(failure.outcome, failure.finding, "; ".join(earlier), failure.reply)
        await self._fail(Stage.CONNECT, self.stage_started, failure)
        return False

    async def _banner(self) -> bool:
        """Plaintext greeting (STARTTLS and none): peek first, then let aiosmtplib read it."""
        sock = self._own_socket()
        self._begin(Stage.BANNER)
        got_bytes = False

        async def greet() -> aiosmtplib.SMTPResponse:
            nonlocal got_bytes
            head = await first_bytes(sock)
            got_bytes = True
            if not head:
                raise aiosmtplib.SMTPServerDisconnected("closed before the greeting")
            if looks_like_tls(head):
                raise ImplicitTlsPort()
            return await self._greeting(self._client(sock, use_tls=False))

        result = await self._attempt(self.limits.banner, greet)
        if isinstance(result, Failure):
            if result.finding is Finding.BANNER_TIMEOUT and not got_bytes:
                result = await self._sniff(sock, result)
            await self._fail(Stage.BANNER, self.stage_started, result)
            return False
        reply = parse_reply(result.code, result.message)
        await self._ok(Stage.BANNER, words.BANNER_OK.format(reply=format_reply(reply)), reply)
        self.in_sync = True
        return True

    async def _sniff(self, sock: socket.socket, timed_out: Failure) -> Failure:
        """No greeting at all: does the port answer a TLS ClientHello (an implicit-TLS port)?"""
        budget = self._budget(self.limits.sniff)
        if budget <= 0 or self.smtp is not None:
            return timed_out
        try:
            async with asyncio.timeout(budget):
                is_tls = await speaks_tls(
                    sock, context=self.context, server_hostname=self.request.host
                )
        except TimeoutError:
            return timed_out
        return self._classify(ImplicitTlsPort()) if is_tls else timed_out

    async def _implicit_tls(self) -> bool:
        """Implicit TLS: aiosmtplib does the handshake and reads the greeting in one call.

        The handshake clock splits it into the ``tls`` and ``banner`` stages, and moves
        the timeout from the TLS limit to the banner limit when the handshake is done.
        """
        sock = self._own_socket()
        self._begin(Stage.TLS)
        loop = asyncio.get_running_loop()
        tls_started = self.stage_started
        guard = asyncio.timeout(loop.time() + self._budget(self.limits.tls))

        def handshake_done(ssl_object: ssl.SSLObject) -> None:
            self._tls_established(ssl_object)
            self._begin(Stage.BANNER)
            guard.reschedule(loop.time() + self._budget(self.limits.banner))

        clock = HandshakeClock(handshake_done)
        token = handshake_clock.set(clock)
        try:
            async with guard:
                response = await self._greeting(self._client(sock, use_tls=True))
        except (OSError, aiosmtplib.SMTPException) as exc:
            failure = self._classify(exc)
            if clock.done_at is not None:
                await self._emit(self._tls_step(tls_started, clock.done_at))
            await self._fail(self.stage, self.stage_started, failure)
            return False
        finally:
            handshake_clock.reset(token)
        assert clock.done_at is not None  # a greeting over TLS implies a finished handshake
        await self._emit(self._tls_step(tls_started, clock.done_at))
        reply = parse_reply(response.code, response.message)
        await self._ok(Stage.BANNER, words.BANNER_OK.format(reply=format_reply(reply)), reply)
        self.in_sync = True
        return True

    async def _ehlo(self) -> bool:
        smtp = self._live_client()
        self._begin(Stage.EHLO)

        async def ehlo() -> aiosmtplib.SMTPResponse:
            return await smtp.ehlo()  # local_hostname (our address literal) was set at connect

        result = await self._attempt(self.limits.command, ehlo)
        if isinstance(result, Failure):
            await self._fail(Stage.EHLO, self.stage_started, result)
            return False
        self.offered = tuple(
            clean_text(method.upper(), limit=30) for method in smtp.server_auth_methods
        )[:_MAX_SHOWN]
        keywords = [clean_text(k.upper(), limit=30) for k in smtp.esmtp_extensions][:_MAX_SHOWN]
        extensions = ", ".join(
            f"AUTH {' '.join(self.offered)}" if k == "AUTH" and self.offered else k
            for k in keywords
        )
        reply = parse_reply(result.code, result.message.split("\n", 1)[0])
        await self._ok(Stage.EHLO, words.EHLO_OK.format(extensions=extensions or "none"), reply)
        return True

    async def _starttls(self) -> bool:
        smtp = self._live_client()
        self._begin(Stage.TLS)
        if not smtp.supports_extension("starttls"):
            detail = words.STARTTLS_MISSING.format(port=self.request.port)
            failure = Failure(Outcome.TLS_ERROR, Finding.STARTTLS_MISSING, detail)
            await self._fail(Stage.TLS, self.stage_started, failure)
            return False
        started = self.stage_started

        async def upgrade() -> aiosmtplib.SMTPResponse:
            self.transcript.client((b"STARTTLS",))
            try:
                response = await smtp.starttls(
                    server_hostname=self.request.host, tls_context=self.context
                )
            except aiosmtplib.SMTPResponseException as exc:
                self.transcript.server(exc.code, exc.message)
                raise
            self.transcript.server(response.code, response.message)
            return response

        result = await self._attempt(self.limits.tls, upgrade)
        if isinstance(result, Failure):
            await self._fail(Stage.TLS, started, result)
            return False
        transport = smtp.transport
        self._tls_established(transport.get_extra_info("ssl_object") if transport else None)
        await self._emit(self._tls_step(started, time.monotonic()))
        return True

    async def _tls_off(self) -> None:
        self._begin(Stage.TLS)
        if self.request.has_credentials:
            step = self._step(
                Stage.TLS, Status.WARN, words.TLS_OFF_IN_CLEAR, finding=Finding.PLAINTEXT_AUTH
            )
        else:
            step = self._step(Stage.TLS, Status.SKIPPED, words.TLS_OFF)
        await self._emit(step)

    async def _auth(self) -> None:
        smtp = self._live_client()
        self._begin(Stage.AUTH)
        request = self.request
        offered_text = " ".join(self.offered)
        if not self.offered:
            hint = words.AUTH_NOT_OFFERED_CLEAR_HINT if self.tls is None else ""
            detail = words.AUTH_NOT_OFFERED.format(hint=hint)
            failure = Failure(Outcome.PROTOCOL_ERROR, Finding.AUTH_NOT_OFFERED, detail)
            await self._fail(Stage.AUTH, self.stage_started, failure)
            return
        if request.username is None or request.password is None:
            detail = words.AUTH_OFFERED_NO_CREDENTIALS.format(offered=offered_text)
            await self._emit(self._step(Stage.AUTH, Status.SKIPPED, detail))
            self.outcome = Outcome.REACHABLE
            return
        mechanism = self._choose_mechanism()
        if mechanism is None:
            failure = self._mechanism_not_offered()
            await self._fail(Stage.AUTH, self.stage_started, failure)
            return
        self.mechanism = mechanism.value.upper()
        username, secret = request.username, request.password
        methods = {
            Mechanism.PLAIN: smtp.auth_plain,
            Mechanism.LOGIN: smtp.auth_login,
            Mechanism.CRAM_MD5: smtp.auth_crammd5,
            Mechanism.XOAUTH2: smtp.auth_xoauth2,
        }
        self.secrets.extend(secret.forms())

        async def authenticate() -> aiosmtplib.SMTPResponse:
            password = secret.reveal()  # the one place the password is unwrapped
            self.secrets.extend(
                blob.decode("ascii")
                for blob in (
                    auth_plain_encode(username, password),
                    auth_xoauth2_encode(username, password),
                )
            )
            return await methods[mechanism](username, password)

        result = await self._attempt(self.limits.command, authenticate)
        if isinstance(result, Failure):
            await self._fail(Stage.AUTH, self.stage_started, result)
            return
        reply = parse_reply(result.code, result.message, self.secrets)
        detail = words.AUTH_OK.format(mechanism=self.mechanism, reply=format_reply(reply))
        await self._ok(Stage.AUTH, detail, reply)
        self.outcome = Outcome.AUTHENTICATED

    def _choose_mechanism(self) -> Mechanism | None:
        offered = {name.lower() for name in self.offered}
        wanted = self.request.mechanism
        if wanted is not Mechanism.AUTO:
            return wanted if wanted.value in offered else None
        preference = _PREFERENCE_CLEAR if self.tls is None else _PREFERENCE_TLS
        return next((m for m in preference if m.value in offered), None)

    def _mechanism_not_offered(self) -> Failure:
        offered = ", ".join(self.offered)
        wanted = self.request.mechanism
        if wanted is Mechanism.AUTO:
            detail = words.NO_USABLE_MECHANISM.format(offered=offered)
        else:
            detail = words.MECHANISM_NOT_OFFERED.format(
                mechanism=wanted.value.upper(), offered=offered
            )
        return Failure(Outcome.PROTOCOL_ERROR, Finding.MECHANISM_NOT_OFFERED, detail)

    async def _quit(self) -> None:
        """Say goodbye, best effort, only when the dialogue is in step and time is left."""
        smtp = self.smtp
        budget = self._budget(self.limits.quit)
        if smtp is None or not self.in_sync or not smtp.is_connected:
            return
        if budget < _MIN_QUIT_BUDGET:
            return
        self._begin(Stage.QUIT)
        try:
            async with asyncio.timeout(budget):
                response = await smtp.quit()
        except (OSError, aiosmtplib.SMTPException):
            await self._emit(self._step(Stage.QUIT, Status.WARN, words.QUIT_NO_REPLY))
            return
        reply = parse_reply(response.code, response.message, self.secrets)
        if reply.code == ReplyCode.CLOSING and not reply.text and not response.message:
            await self._emit(self._step(Stage.QUIT, Status.OK, words.QUIT_NO_REPLY))
            return
        await self._ok(Stage.QUIT, words.QUIT_OK.format(reply=format_reply(reply)), reply)

    # -- helpers -------------------------------------------------------------------------

    def _client(self, sock: socket.socket, *, use_tls: bool) -> TappedSMTP:
        """Hand the connected socket to aiosmtplib; from here on it owns (and closes) it."""
        smtp = TappedSMTP(
            transcript=self.transcript,
            hostname=self.request.host,  # SNI and certificate name only: the socket is connected
            sock=sock,
            local_hostname=ehlo_name(sock),
            timeout=None,  # our own stage timeouts and deadline govern
            use_tls=use_tls,
            start_tls=False,  # STARTTLS is decided here, never silently by aiosmtplib
            tls_context=self.context,
        )
        self.smtp = smtp
        return smtp

    async def _greeting(self, smtp: TappedSMTP) -> aiosmtplib.SMTPResponse:
        try:
            response = await smtp.connect()
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code >= 0:
                self.transcript.server(exc.code, exc.message)
            raise
        self.transcript.server(response.code, response.message)
        return response

    def _tls_established(self, ssl_object: ssl.SSLObject | None) -> None:
        """Record the TLS facts; from here on the transcript marks lines as inside TLS."""
        info = tls_info(ssl_object)
        self.tls = info
        self.transcript.tls = True
        self.transcript.note(f"TLS started with cipher {info.version}:{info.cipher}")
        self.transcript.note(f"TLS peer certificate for {info.subject}, issued by {info.issuer}")

    def _tls_step(self, started: float, done_at: float) -> StepResult:
        info = self.tls or TlsInfo()
        detail = words.TLS_OK.format(
            version=info.version,
            cipher=info.cipher,
            subject=info.subject or "(no name)",
            issuer=info.issuer or "(unknown)",
            expires=info.not_after or "(unknown)",
        )
        elapsed = (done_at - started) * 1000
        return StepResult(stage=Stage.TLS, status=Status.OK, elapsed_ms=elapsed, detail=detail)

    def _own_socket(self) -> socket.socket:
        assert self.sock is not None
        return self.sock

    def _live_client(self) -> TappedSMTP:
        assert self.smtp is not None
        return self.smtp

    def _host_port(self) -> str:
        host = self.request.host
        return f"[{host}]:{self.request.port}" if ":" in host else f"{host}:{self.request.port}"

    def _remaining(self) -> float:
        return self.ends - time.monotonic()

    def _budget(self, limit: float) -> float:
        return max(0.0, min(limit, self._remaining()))

    def _begin(self, stage: Stage) -> None:
        self.stage = stage
        self.stage_started = time.monotonic()

    async def _attempt(self, limit: float, action: Callable[[], Awaitable[_T]]) -> _T | Failure:
        """Run one stage's action under ``min(limit, time left)``; failures become ``Failure``."""
        budget = self._budget(limit)
        try:
            if budget <= 0:
                raise TimeoutError
            async with asyncio.timeout(budget):
                return await action()
        except (OSError, aiosmtplib.SMTPException, ImplicitTlsPort) as exc:
            if isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code < 0:
                self.transcript.garbage(exc.message)
            return self._classify(exc, limit=limit)

    def _classify(self, exc: BaseException, *, limit: float | None = None) -> Failure:
        stage_limits = {
            Stage.RESOLVE: self.limits.dns,
            Stage.CONNECT: self.limits.connect,
            Stage.BANNER: self.limits.banner,
            Stage.TLS: self.limits.tls,
            Stage.QUIT: self.limits.quit,
        }
        where = Where(
            stage=self.stage,
            host=self.request.host,
            port=self.request.port,
            address=str(self.address) if self.address else None,
            security=self.security,
            limit=limit if limit is not None else stage_limits.get(self.stage, self.limits.command),
            deadline=self.deadline,
            cut_by_deadline=self._remaining() < _DEADLINE_SLACK,
            mechanism=self.mechanism,
            secrets=self.secrets,
        )
        return classify(exc, where)

    def _step(
        self,
        stage: Stage,
        status: Status,
        detail: str,
        *,
        reply: Reply | None = None,
        finding: Finding | None = None,
    ) -> StepResult:
        elapsed = (time.monotonic() - self.stage_started) * 1000
        return StepResult(
            stage=stage,
            status=status,
            elapsed_ms=elapsed,
            detail=detail,
            reply=reply,
            finding=finding,
        )

    async def _ok(self, stage: Stage, detail: str, reply: Reply | None = None) -> None:
        await self._emit(self._step(stage, Status.OK, detail, reply=reply))

    async def _fail(self, stage: Stage, started: float, failure: Failure) -> None:
        self.outcome = failure.outcome
        # A refusal with a complete reply, or a decision of ours, leaves the dialogue in
        # step (QUIT makes sense); a timeout, garbage or a drop does not.
        if failure.reply is None and failure.finding not in _DECIDED_HERE:
            self.in_sync = False
        self.transcript.note(clean_text(failure.detail, limit=300))
        step = StepResult(
            stage=stage,
            status=failure.status,
            elapsed_ms=(time.monotonic() - started) * 1000,
            detail=failure.detail,
            reply=failure.reply,
            finding=failure.finding,
        )
        await self._emit(step)

    async def _emit(self, step: StepResult) -> None:
        self.steps.append(step)
        if self.on_step is None:
            return
        try:
            await self.on_step(step)
        except Exception:  # a progress callback (Slack) must never break the probe
            logger.exception("on_step callback failed after stage %s", step.stage.value)

    async def _close(self) -> None:
        smtp, sock = self.smtp, self.sock
        if smtp is not None:
            smtp.close()  # aborts its transport, so none still uses the socket's descriptor
        if sock is not None:
            sock.close()  # no-op once the transport closed it; needed if none was ever made
        if smtp is not None or sock is not None:
            self.transcript.note("Connection closed with remote host.")
            await asyncio.sleep(0)  # let the transport's connection_lost run and drop the fd

    def _report(self) -> ProbeReport:
        return ProbeReport(
            host=self.request.host,
            port=self.request.port,
            security=self.security,
            username=self.request.username,
            outcome=self.outcome or Outcome.PROTOCOL_ERROR,
            steps=tuple(self.steps),
            address=str(self.address) if self.address else None,
            mechanism=self.mechanism,
            auth_mechanisms=self.offered,
            tls=self.tls,
            transcript=self.transcript.lines,
            elapsed_ms=(time.monotonic() - self.started) * 1000,
        )
