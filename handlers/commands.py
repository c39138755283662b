"""``/smtpcheck``: help, a knowledge answer, or the probe modal (prefilled from an
email address or ``host[:port]``)."""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass
from typing import Any, Final, Literal

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages
from bot.errors import InputError, LookupFailed, StoreUnavailable
from bot.helpdesk.feedback import Feedback, ReviewReason, new_answer_token
from bot.redaction import redact_credentials
from bot.runtime.deps import DISCOVERY_BUDGET, Deps, deps_of
from bot.runtime.private import trusted_response_url
from handlers.blocks import kit, modal, turns
from handlers.help_thread import answer, faq_page
from handlers.home import admin_stats
from knowledge import CONFIDENCE_FLOOR, discover_settings, search

Kind = Literal["modal", "help", "faq", "stats", "email", "target", "question"]

_EMAIL: Final = re.compile(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+")
_TARGET: Final = re.compile(
    r"(?P<host>[A-Za-z0-9.-]+\.[A-Za-z0-9-]+|\[[0-9A-Fa-f:.]+\])(?::(?P<port>\d{1,5}))?"
)
# Slack wraps typed addresses as <mailto:a@b|a@b>; keep the visible part.
_SLACK_LINK: Final = re.compile(r"<(?:mailto:)?[^|>]*\|([^>]*)>|<(?:mailto:)?([^>]*)>")


@dataclass(frozen=True, slots=True)
class CommandArgs:
    kind: Kind
    value: str = ""
    port: int | None = None


def classify(text: str) -> CommandArgs:
    """What the user asked for with ``/smtpcheck <text>``."""
    text = _SLACK_LINK.sub(lambda m: m.group(1) or m.group(2) or "", text).strip()
    if not text:
        return CommandArgs("modal")
    if text.lower() in ("help", "-h", "--help", "?"):
        return CommandArgs("help")
    if text.lower() in ("faq", "questions", "common questions"):
        return CommandArgs("faq")
    if text.lower() in ("stats", "numbers", "metrics"):
        return CommandArgs("stats")
    if _EMAIL.fullmatch(text):
        return CommandArgs("email", text)
    target = _TARGET.fullmatch(text)
    if target:
        port = target.group("port")
        return CommandArgs("target", target.group("host").strip("[]"), int(port) if port else None)
    return CommandArgs("question", text)


async def prefill_for(deps: Deps, args: CommandArgs) -> modal.Prefill:
    """Modal values for the arguments; discovery is bounded so the trigger stays valid."""
    if args.kind == "target":
        security = "tls" if args.port == 465 else "auto"
        return modal.Prefill(host=args.value, port=args.port, security=security)
    if args.kind != "email":
        return modal.Prefill()
    email = args.value
    domain = email.rpartition("@")[2]
    partial = modal.Prefill(
        email=email, username=email, note=messages.PREFILL_PARTIAL.format(domain=domain)
    )
    try:
        found = await asyncio.wait_for(
            discover_settings(
                deps.kb,
                email,
                resolver=deps.resolver,
                fetcher=deps.fetcher,
                deadline=DISCOVERY_BUDGET,
            ),
            DISCOVERY_BUDGET + 0.2,
        )
    except (TimeoutError, InputError, LookupFailed):
        return partial
    if not found.candidates:
        return partial
    best = found.candidates[0]
    source = found.provider.name if found.provider else best.source.upper()
    note = messages.PREFILL_FOUND.format(domain=found.domain or domain, source=source)
    return modal.Prefill(
        email=email,
        host=best.host,
        port=best.port,
        security=best.security,
        username=found.login_for(email),
        # OAuth-only, an incomplete lookup, a gateway, else the provider's own rule (app
        # passwords, a switch that lets mail apps in): the first thing to know.
        note=" ".join([note, *found.notes[:1]]),
    )


async def handle_smtpcheck(
    ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    """Parse, then answer in the ack (help, question) or ack and open the modal."""
    deps = deps_of(context)
    args = classify(str(command.get("text", "")))
    deps.metrics.commands.labels(args.kind).inc()
    if args.kind == "help":
        await ack(text=messages.USAGE)
        return
    if args.kind == "faq":
        # The common questions as buttons (an answer starts a thread in the user's DM).
        questions, _, pages = faq_page(deps.kb, 0)
        body = turns.faq_blocks(None, questions, pages=pages)
        await ack(text=messages.COMMON_QUESTIONS.strip("*"), blocks=body)
        return
    if args.kind == "stats":
        text, body = await admin_stats(deps, str(command["user_id"]), client)
        await ack(text=text, blocks=body)
        return
    if args.kind == "question":
        redacted = redact_credentials(args.value)
        # An ephemeral answer has no thread: its "Not helpful" finds the question by a
        # random token, kept once the answer is out (the ack must not wait for the store).
        token = new_answer_token()
        text, body = answer(deps.kb, redacted.text, token=token)
        if redacted.hidden:
            body.insert(0, kit.context(messages.REDACTED_NOTE))
        await ack(text=text, blocks=body)
        with contextlib.suppress(StoreUnavailable):  # the answer matters more than the count
            if kit.has_feedback(body):
                await Feedback(deps.store).remember_answered(token, redacted.text)
            await deps.helpdesk.record_question(str(command["user_id"]))
            if not_confident(deps, redacted.text):
                await Feedback(deps.store).review(redacted.text, ReviewReason.NOT_CONFIDENT)
        return
    await ack()
    prefill = await prefill_for(deps, args)
    view = modal.probe_modal(
        prefill,
        origin_channel=command.get("channel_id"),
        sign_in=deps.sign_in_choices(prefill.host),
        response_url=trusted_response_url(command.get("response_url"), deps.settings.slack_api_url),
    )
    await client.views_open(trigger_id=command["trigger_id"], view=view)


def not_confident(deps: Deps, question: str) -> bool:
    result = search(deps.kb, question, limit=1)
    return not result.answers or result.confidence < CONFIDENCE_FLOOR


def register(app: AsyncApp) -> None:
    app.command("/smtpcheck")(handle_smtpcheck)
