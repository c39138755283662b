"""``smtpcheck probe HOST``: run the live SMTP authentication probe from a terminal.

The password comes from a no-echo prompt, or from the first line of stdin with
``--password-stdin``; never from an argument (it would sit in shell history and
``ps``). It is wrapped in ``Secret`` the moment it is read.

Exit codes (``Outcome.exit_code``): 0 authenticated or reachable, 1 rejected,
2 invalid input or refused by policy, 3 DNS/connect/TLS/protocol/timeout, or the
knowledge data failed to load (then nothing is probed).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import math
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final, TextIO

from bot.cli import EXIT_INVALID, oauth
from bot.cli.knowledge import EXIT_DATA, knowledge_base
from bot.config import Settings
from bot.errors import InputError
from bot.messages import SIGN_IN_REASONS
from bot.oauth.errors import Problem, SignInFailed
from bot.oauth.settings import Provider
from bot.probe.model import (
    AuthAttempt,
    Outcome,
    ProbeReport,
    ProbeRequest,
    Security,
    Status,
    StepResult,
)
from bot.secret import Secret
from knowledge import KnowledgeBase

# The engine (aiosmtplib, dnspython, ssl) is imported in ``run``: registering this
# subcommand must not slow down `smtpcheck explain` and friends.

MAX_TIMEOUT: Final = 300.0
DEFAULT_TIMEOUT: Final = 30.0
INTERRUPTED_AFTER_AUTH: Final = (
    "the login had already been sent when the run was interrupted; the server may count it as "
    "a failed attempt, so wait a few minutes before trying again"
)

_MARKS: Final = {Status.OK: "✓", Status.WARN: "!", Status.FAIL: "✗", Status.SKIPPED: "-"}
_ASCII_MARKS: Final = {Status.OK: "+", Status.WARN: "!", Status.FAIL: "x", Status.SKIPPED: "-"}
_VERDICTS: Final = {
    Outcome.AUTHENTICATED: "AUTHENTICATED: the server accepted the login",
    Outcome.REACHABLE: "REACHABLE: the server answers and offers login (no password tested)",
    Outcome.AUTH_REJECTED: "REJECTED: the server refused the login",
    Outcome.INVALID_INPUT: "INVALID INPUT",
    Outcome.POLICY_REFUSED: "REFUSED: this server may not be probed from here",
    Outcome.DNS_ERROR: "DNS PROBLEM: the server name could not be resolved",
    Outcome.CONNECT_ERROR: "CONNECTION PROBLEM: the server could not be reached",
    Outcome.TLS_ERROR: "TLS PROBLEM: no trustworthy encrypted connection",
    Outcome.PROTOCOL_ERROR: "PROTOCOL PROBLEM: the server did not behave as expected",
    Outcome.TIMEOUT: "TIMEOUT: the server did not answer in time",
    Outcome.INTERRUPTED: "INTERRUPTED: the check did not finish",
    Outcome.CRASHED: "ERROR: the check failed on this side",
}


class _Invalid(Exception):
    """Bad command-line input; the message is the one line shown, ``field`` the input."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "probe",
        help="check that an SMTP server accepts a login (one AUTH attempt)",
        description="Connect to an SMTP submission server, check TLS and its certificate, "
        "and (with --user) try exactly one login.",
    )
    parser.add_argument("host", help="the mail server's name or IP address")
    # Values stay text here: build_request validates them and names the field on error.
    parser.add_argument("--port", help="port (default 587, or 465 with --security tls)")
    parser.add_argument("--user", help="username; the password is then asked for")
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of stdin instead of a prompt",
    )
    parser.add_argument("--security", default="auto", help="auto|starttls|tls|none")
    parser.add_argument("--mechanism", default="auto", help="auto|plain|login|cram-md5|xoauth2")
    parser.add_argument(
        "--oauth",
        metavar="|".join(provider.value for provider in Provider),
        help="sign in with Microsoft (device code) or Google (browser), then one XOAUTH2 AUTH "
        "with the token (needs --user; no password)",
    )
    parser.add_argument("--ca-file", help="extra trusted CA certificates (PEM)")
    parser.add_argument(
        "--timeout",
        default=str(DEFAULT_TIMEOUT),
        help=f"overall deadline in seconds (default {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=run)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    """Validate input, run the probe, print the result; return the exit code."""
    from bot.probe.policy_hints import port_hint
    from bot.probe.request import PortNotAllowed, build_request

    kb = knowledge_base(args)  # before the password prompt: no diagnosis, no point probing
    if kb is None:
        return EXIT_DATA
    try:
        deadline = _timeout(args.timeout)
        ca_file = _ca_file(args.ca_file)
        if args.oauth is not None:
            return await _run_oauth(args, settings, kb, deadline=deadline, ca_file=ca_file)
        password = _password(args.user, password_stdin=args.password_stdin)
        request = build_request(
            host=args.host,
            port=args.port,
            security=args.security,
            mechanism=args.mechanism,
            username=args.user,
            password=password,
            allowed_ports=settings.allowed_ports,
        )
    except PortNotAllowed as exc:
        hint = port_hint(exc.port, settings.allowed_ports)
        return _invalid(f"invalid port: {exc.reason} ({hint})", args.json, field="port")
    except InputError as exc:
        return _invalid(f"invalid {exc.field}: {exc.reason}", args.json, field=exc.field)
    except _Invalid as exc:
        return _invalid(str(exc), args.json, field=exc.field)
    del password  # the request holds the only reference from here on
    return await _probe_and_print(request, settings, kb, args, deadline=deadline, ca_file=ca_file)


async def _probe_and_print(
    request: ProbeRequest,
    settings: Settings,
    kb: KnowledgeBase,
    args: argparse.Namespace,
    *,
    deadline: float,
    ca_file: Path | None,
) -> int:
    from bot.checks.advice import diagnose
    from bot.cli.live import LiveSteps
    from bot.probe import farewell
    from bot.probe.collaborators import Collaborators
    from bot.probe.engine import run_probe
    from bot.probe.plan import DEFAULT_LIMITS
    from bot.probe.policy_hints import networks_hint

    collaborators = Collaborators.from_settings(settings, ca_files=(ca_file,))
    live = None
    if not args.json and sys.stdout.isatty():
        marks = marks_for(sys.stdout)
        live = LiveSteps(sys.stdout, lambda step: step_line(step, marks))
    sent: list[AuthAttempt] = []  # the login is about to go out: a Ctrl-C now may cost one

    async def sending(attempt: AuthAttempt) -> None:
        sent.append(attempt)

    try:
        if live is None:
            report = await run_probe(
                request, collaborators=collaborators, deadline=deadline, before_auth=sending
            )
        else:
            who = f" as {request.username}" if request.username else ""
            live.start(header(request.host, request.port, _live_mode(request), who))
            try:
                report = await run_probe(
                    request, collaborators=collaborators, deadline=deadline,
                    on_step=live.on_step, before_auth=sending,
                )  # fmt: skip
            finally:
                await live.stop()
    except asyncio.CancelledError:  # Ctrl-C: main says "interrupted"; say what it may cost
        if args.json:
            print(json.dumps({"outcome": "interrupted", "auth_sent": bool(sent)}, indent=2))
        if sent:
            print(f"smtpcheck probe: {INTERRUPTED_AFTER_AUTH}", file=sys.stderr)
        raise
    diagnosis = diagnose(report, kb).as_dict()
    if args.json:
        print(json.dumps({**report.as_dict(), "diagnosis": diagnosis}, indent=2))
    elif live is not None:
        print(render_end(report, diagnosis))
    else:
        print(render(report, diagnosis, sys.stdout))
    allow = networks_hint(report.refused_addresses)
    if report.outcome is Outcome.POLICY_REFUSED and allow:
        print(f"smtpcheck probe: {allow}", file=sys.stderr)
    sys.stdout.flush()  # the verdict is out; the QUIT said after it may take a moment
    await farewell.settle(DEFAULT_LIMITS.quit)
    return report.outcome.exit_code


async def _run_oauth(
    args: argparse.Namespace,
    settings: Settings,
    kb: KnowledgeBase,
    *,
    deadline: float,
    ca_file: Path | None,
) -> int:
    """``--oauth``: validate everything first, sign in, then probe with the token."""
    from bot.probe.request import build_request

    try:
        provider = Provider(args.oauth.lower())
    except ValueError:
        names = " or ".join(provider.value for provider in Provider)
        raise _Invalid(
            f"invalid oauth: {args.oauth[:20]!r} is not a choice; use {names}", field="oauth"
        ) from None
    problem = oauth.missing_client(provider, settings.oauth)
    if problem is None and args.user is None:
        problem = "--oauth needs --user (the mailbox to sign in as)"
    if problem is None and args.password_stdin:
        problem = "--oauth takes no password: the sign-in gives a token instead"
    if problem is None and args.mechanism not in ("auto", "xoauth2"):
        problem = "--oauth always uses --mechanism xoauth2"
    if problem is not None:
        raise _Invalid(problem, field="oauth")
    fields = {"host": args.host, "port": args.port, "security": args.security}
    build_request(**fields, allowed_ports=settings.allowed_ports)  # bad input: no sign-in
    try:
        token = await oauth.sign_in(provider, settings.oauth, login_hint=args.user)
    except SignInFailed as exc:
        return _sign_in_failed(exc, kb, as_json=args.json)
    request = build_request(
        **fields,
        mechanism="xoauth2",
        username=args.user,
        password=token,
        allowed_ports=settings.allowed_ports,
    )
    del token  # the request holds the only reference from here on
    return await _probe_and_print(request, settings, kb, args, deadline=deadline, ca_file=ca_file)


def _sign_in_failed(exc: SignInFailed, kb: KnowledgeBase, *, as_json: bool) -> int:
    reason = SIGN_IN_REASONS[exc.problem]
    articles = [a for a in exc.articles if a in kb.articles]
    if as_json:
        error = exc.error
        out = {
            "outcome": "sign_in_failed",
            "sign_in": {
                "problem": exc.problem.value,
                "error": error.error if error else None,
                "code": f"AADSTS{error.code}" if error and error.code else None,
            },
            "steps": [],
            "diagnosis": {"summary": reason, "articles": articles},
        }
        print(json.dumps(out, indent=2))
    else:
        print(f"Sign-in failed ({exc}): {reason}")
        if articles:
            print(f"  Read more: {', '.join(articles)}")
    unreachable = exc.problem in (Problem.UNREACHABLE, Problem.BAD_RESPONSE)
    return Outcome.TIMEOUT.exit_code if unreachable else Outcome.AUTH_REJECTED.exit_code


def _invalid(message: str, as_json: bool, *, field: str | None) -> int:
    """One line on stderr; with ``--json`` also a JSON document on stdout saying the same."""
    print(f"smtpcheck probe: {message}", file=sys.stderr)
    if as_json:
        error = {"field": field, "message": message}
        print(json.dumps({"outcome": Outcome.INVALID_INPUT.value, "error": error}, indent=2))
    return EXIT_INVALID


def _timeout(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise _Invalid(
            f"invalid timeout: {raw[:20]!r} is not a number of seconds", field="timeout"
        ) from None
    if not math.isfinite(value) or not 0 < value <= MAX_TIMEOUT:
        raise _Invalid(
            f"invalid timeout: must be more than 0 and at most {MAX_TIMEOUT:g} seconds",
            field="timeout",
        )
    return value


def _ca_file(raw: str | None) -> Path | None:
    if raw is None:
        return None
    from bot.probe.tls import ca_file_problem, shown_path

    path = Path(raw)
    if not path.is_file():
        raise _Invalid(
            f"invalid ca-file: {shown_path(raw)} is not a readable file", field="ca-file"
        )
    problem = ca_file_problem(path)
    if problem is not None:
        raise _Invalid(f"invalid ca-file: {shown_path(raw)} {problem}", field="ca-file")
    return path


def _password(user: str | None, *, password_stdin: bool) -> Secret | None:
    """Read the password the one way allowed, wrapped at once; None without --user."""
    if user is None:
        if password_stdin:
            raise _Invalid("--password-stdin needs --user", field="password-stdin")
        return None
    if password_stdin:
        line = _interruptible(sys.stdin.readline)
        secret = Secret(line.removesuffix("\n").removesuffix("\r"))
        if not secret:
            raise _Invalid("invalid password: the first line of stdin is empty", field="password")
        return secret
    if not sys.stdin.isatty():
        raise _Invalid(
            "--user needs a password: run in a terminal to be asked for it, "
            "or pass it on stdin with --password-stdin",
            field="password",
        )
    return Secret(_interruptible(lambda: getpass.getpass(f"Password for {user}: ")))


def _interruptible(read: Callable[[], str]) -> str:
    """``read()`` with Ctrl-C raising KeyboardInterrupt at once. asyncio.run's own SIGINT
    handler only cancels the main task, which cannot happen while this blocking read holds
    the loop: the first Ctrl-C at the password prompt went unnoticed."""
    if threading.current_thread() is not threading.main_thread():
        return read()
    previous = signal.getsignal(signal.SIGINT)
    if previous is None or previous is signal.SIG_IGN:  # Ctrl-C ignored (a background job)
        return read()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return read()
    finally:
        signal.signal(signal.SIGINT, previous)


def render(report: ProbeReport, diagnosis: dict[str, Any], stream: TextIO) -> str:
    """The human-readable report: one line per stage, TLS facts, verdict, diagnosis."""
    marks = marks_for(stream)
    who = f" as {report.username}" if report.username else ""
    lines = [header(report.host, report.port, report.security.value, who)]
    lines.extend(step_line(step, marks) for step in report.steps)
    lines.append(render_end(report, diagnosis))
    return "\n".join(lines)


def _live_mode(request: ProbeRequest) -> str:
    """The mode in the live header, printed before the probe knows it: with ``auto``, the
    one tried first (the port's usual mode), which the evidence may still change."""
    tried = request.effective_security.value
    return f"auto, trying {tried} first" if request.security is Security.AUTO else tried


def header(host: str, port: int, security: str, who: str) -> str:
    return f"smtpcheck probe {host} port {port} ({security}){who}"


def marks_for(stream: TextIO) -> dict[Status, str]:
    return _MARKS if _can_encode(stream, "✓✗") else _ASCII_MARKS


def step_line(step: StepResult, marks: dict[Status, str]) -> str:
    mark = marks[step.status]
    return f"  {mark} {step.stage.value:<8}{step.elapsed_ms:>8.0f} ms  {step.detail}"


def render_end(report: ProbeReport, diagnosis: dict[str, Any]) -> str:
    """Everything after the stage lines: TLS facts, verdict, diagnosis."""
    lines: list[str] = []
    if report.tls is not None:
        tls = report.tls
        lines.append("")
        lines.append(f"TLS: {tls.version}, {tls.cipher}")
        lines.append(f"  certificate: {tls.subject}, issued by {tls.issuer}")
        if tls.sans:
            lines.append(f"  names: {', '.join(tls.sans)}")
        lines.append(f"  expires: {tls.not_after}")
    lines.append("")
    lines.append(f"Verdict: {_VERDICTS[report.outcome]} ({report.elapsed_ms:.0f} ms)")
    lines.append("")
    lines.append(f"Diagnosis: {diagnosis['summary']}")
    if diagnosis.get("cause"):
        lines.append(f"  Likely cause: {diagnosis['cause']}")
    steps = diagnosis.get("next_steps") or []
    if steps:
        lines.append("  Next steps:")
        lines.extend(f"    {number}. {text}" for number, text in enumerate(steps, 1))
    if diagnosis.get("articles"):
        lines.append(f"  Read more: {', '.join(diagnosis['articles'])}")
    return "\n".join(lines)


def _can_encode(stream: TextIO, text: str) -> bool:
    try:
        text.encode(getattr(stream, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True
