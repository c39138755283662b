"""Block Kit built by pure functions: the probe modal, check progress and results,
answers and walkthroughs. Plain dicts in, plain dicts out; tested with dict asserts.

Every piece of text that came from a server, a user or the knowledge base goes
through ``escape`` (mrkdwn control characters) and ``clip`` (Slack's limits), so
a banner cannot ping ``<!channel>``, plant a link, or overflow a block.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from bot import messages
from bot.checks import Advice
from bot.probe.model import Outcome, ProbeReport, StepResult
from bot.store.base import CheckRecord

Block = dict[str, Any]

MODAL_CALLBACK: Final = "smtpcheck_probe"
NOTICE_CALLBACK: Final = "smtpcheck_notice"
FIELD_BLOCKS: Final = ("email", "host", "port", "security", "username", "password")
VALUE_ACTION: Final = "value"  # action_id of every input element in the modal
ACTION_FIX: Final = "check_fix"
ACTION_AGAIN: Final = "check_again"
ACTION_HUMAN: Final = "check_human"

# Slack's limits (REFERENCE.md, "Slack platform facts").
SECTION_MAX: Final = 3000
HEADER_MAX: Final = 150
BUTTON_TEXT_MAX: Final = 75
BUTTON_VALUE_MAX: Final = 2000
MESSAGE_BLOCKS_MAX: Final = 50
MODAL_BLOCKS_MAX: Final = 100
METADATA_MAX: Final = 3000
FALLBACK_TEXT_MAX: Final = 3000
REPLY_SHOWN_MAX: Final = 300  # a server reply is evidence, not an essay

_ESCAPES: Final = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def escape(text: str) -> str:
    """Make ``text`` inert in mrkdwn: no mentions, no links, no channel pings."""
    return text.translate(_ESCAPES)


def clip(text: str, limit: int) -> str:
    """Shorten ``text`` to ``limit`` characters, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def code(text: str) -> str:
    """Server text shown verbatim as inline code; backticks cannot end the span early."""
    return "`" + escape(clip(text, REPLY_SHOWN_MAX)).replace("`", "'") + "`"


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SECTION_MAX)}}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, SECTION_MAX)}]}


def button(action_id: str, label: str, value: str | None = None, *, primary: bool = False) -> Block:
    """A button, label and value clipped to Slack's limits."""
    out: Block = {
        "type": "button",
        "action_id": action_id,
        "text": _plain(clip(label, BUTTON_TEXT_MAX)),
    }
    if value is not None:
        out["value"] = value[:BUTTON_VALUE_MAX]
    if primary:
        out["style"] = "primary"
    return out


def target(host: str, port: int) -> str:
    """``host:port`` with IPv6 literals bracketed."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


# -- the probe modal ---------------------------------------------------------------
@dataclass(frozen=True, slots=True, kw_only=True)
class Prefill:
    """Non-secret values to put in the modal (there is never a password here)."""

    email: str | None = None
    host: str | None = None
    port: int | None = None
    security: str = "auto"
    username: str | None = None
    note: str | None = None  # one line shown under the intro (e.g. where settings came from)


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _text_input(
    block_id: str, *, initial: str | None, optional: bool, max_length: int | None = None
) -> Block:
    label, placeholder = messages.MODAL_FIELDS[block_id]
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": VALUE_ACTION}
    if placeholder:
        element["placeholder"] = _plain(placeholder)
    if initial:
        element["initial_value"] = initial
    if max_length:
        element["max_length"] = max_length
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": _plain(label),
        "element": element,
    }
    if block_id in messages.MODAL_HINTS:
        block["hint"] = _plain(messages.MODAL_HINTS[block_id])
    return block


def _security_input(initial: str) -> Block:
    options = [
        {"text": _plain(label), "value": value} for value, label in messages.SECURITY_CHOICES
    ]
    chosen = next((o for o in options if o["value"] == initial), options[0])
    # A static_select inside an input block dispatches nothing before submit (no
    # dispatch_action), so it cannot resend the typed password.
    return {
        "type": "input",
        "block_id": "security",
        "label": _plain(messages.MODAL_FIELDS["security"][0]),
        "element": {
            "type": "static_select",
            "action_id": VALUE_ACTION,
            "options": options,
            "initial_option": chosen,
        },
    }


def probe_modal(prefill: Prefill, *, origin_channel: str | None) -> dict[str, Any]:
    """The modal that asks for what a probe needs. No element dispatches actions."""
    intro = messages.MODAL_INTRO
    if prefill.note:
        intro += "\n_" + escape(prefill.note) + "_"
    port = str(prefill.port) if prefill.port is not None else None
    blocks = [
        section(intro),
        _text_input("email", initial=prefill.email, optional=True, max_length=320),
        _text_input("host", initial=prefill.host, optional=True, max_length=300),
        _text_input("port", initial=port, optional=True, max_length=5),
        _security_input(prefill.security),
        _text_input("username", initial=prefill.username, optional=True, max_length=320),
        _text_input("password", initial=None, optional=True, max_length=4096),
        context(messages.MODAL_FOOTER),
    ]
    metadata = json.dumps({"origin": origin_channel}, separators=(",", ":"))
    return {
        "type": "modal",
        "callback_id": MODAL_CALLBACK,
        "title": _plain(messages.MODAL_TITLE),
        "submit": _plain(messages.MODAL_SUBMIT),
        "close": _plain(messages.MODAL_CLOSE),
        "private_metadata": metadata[:METADATA_MAX],
        "blocks": blocks,
    }


def notice_modal(text: str) -> dict[str, Any]:
    """What the modal turns into when a check is refused (no inputs, nothing kept)."""
    return {
        "type": "modal",
        "callback_id": NOTICE_CALLBACK,
        "title": _plain(messages.REFUSED_TITLE),
        "close": _plain("OK"),
        "blocks": [section(text)],
    }


# -- a check in the DM thread -------------------------------------------------------
def step_line(step: StepResult) -> str:
    name = messages.STAGE_NAMES.get(step.stage, step.stage.value)
    line = f"{messages.STATUS_MARKS[step.status]} *{name}* ({step.elapsed_ms:.0f} ms)"
    if step.detail:
        line += " - " + escape(clip(step.detail, REPLY_SHOWN_MAX))
    if step.reply is not None:
        reply = " ".join(
            str(p) for p in (step.reply.code, step.reply.enhanced, step.reply.text) if p
        )
        line += "\n      " + messages.SERVER_SAID.format(reply=code(reply))
    return line


def progress_message(record: CheckRecord, steps: Sequence[StepResult]) -> tuple[str, list[Block]]:
    """The parent message while the probe runs."""
    text = messages.CHECKING.format(target=target(record.host, record.port))
    lines = [":hourglass_flowing_sand: " + escape(text)]
    lines += [step_line(step) for step in steps]
    return text, [section("\n".join(lines))]


def finished_parent(record: CheckRecord, report: ProbeReport) -> tuple[str, list[Block]]:
    """The parent message once the probe is done: the verdict in one line."""
    verdict = messages.VERDICTS[report.outcome]
    text = messages.CHECKING_DONE.format(target=target(record.host, record.port), verdict=verdict)
    return text, [section(escape(text)), context("Details in the thread.")]


def steps_message(report: ProbeReport) -> tuple[str, list[Block]]:
    """Thread reply: every stage with its timing, detail and server reply."""
    lines = [step_line(step) for step in report.steps]
    blocks = [section(messages.STEPS_TITLE)]
    blocks += [section(chunk) for chunk in _chunks(lines, SECTION_MAX)]
    return messages.STEPS_TITLE.strip("*"), blocks[:MESSAGE_BLOCKS_MAX]


def verdict_message(
    record: CheckRecord, report: ProbeReport, advice: Advice
) -> tuple[str, list[Block]]:
    """Thread reply: verdict, diagnosis with article titles, and the three buttons."""
    verdict = messages.VERDICTS[report.outcome]
    parts = [f"*{verdict}*", messages.DIAGNOSIS_TITLE + "\n" + escape(advice.summary)]
    if advice.cause:
        parts.append(messages.LIKELY_CAUSE.format(cause=escape(advice.cause)))
    if advice.next_steps:
        steps = "\n".join(f"{i}. {escape(s)}" for i, s in enumerate(advice.next_steps, 1))
        parts.append(messages.NEXT_STEPS_TITLE + "\n" + steps)
    if advice.articles:
        titles = ", ".join(f"_{escape(a.title)}_" for a in advice.articles)
        parts.append(messages.READ_MORE.format(titles=titles))
    blocks = [section(part) for part in parts]
    blocks.append(actions_block(record.check_id, fixable=report.outcome not in _PASSED))
    return clip(f"{verdict}: {advice.summary}", FALLBACK_TEXT_MAX), blocks


_PASSED: Final = frozenset({Outcome.AUTHENTICATED, Outcome.REACHABLE})


def actions_block(check_id: str, *, fixable: bool) -> Block:
    """Buttons carry the check id only; the owner check happens when clicked."""
    buttons = [
        button(ACTION_AGAIN, messages.BUTTON_AGAIN, check_id),
        button(ACTION_HUMAN, messages.BUTTON_HUMAN, check_id),
    ]
    if fixable:
        buttons.insert(0, button(ACTION_FIX, messages.BUTTON_FIX, check_id, primary=True))
    return {"type": "actions", "block_id": "verdict-actions", "elements": buttons}


def walkthrough_message(title: str, steps: Sequence[str]) -> tuple[str, list[Block]]:
    """Thread reply with an article's steps, numbered."""
    head = messages.WALKTHROUGH_TITLE.format(title=escape(title))
    lines = [f"{i}. {escape(step)}" for i, step in enumerate(steps, 1)]
    blocks = [section(head)] + [section(chunk) for chunk in _chunks(lines, SECTION_MAX)]
    return clip(title, FALLBACK_TEXT_MAX), blocks[:MESSAGE_BLOCKS_MAX]


def answer_message(
    title: str,
    summary: str,
    steps: Sequence[str],
    *,
    unsure: bool,
    more: Iterable[str] = (),
) -> tuple[str, list[Block]]:
    """A knowledge answer: best article's summary and steps, then other titles."""
    blocks: list[Block] = []
    if unsure:
        blocks.append(context(messages.LOW_CONFIDENCE))
    blocks.append(section(f"*{escape(title)}*\n{escape(summary)}"))
    if steps:
        lines = [f"{i}. {escape(step)}" for i, step in enumerate(steps, 1)]
        blocks.append(section(messages.ANSWER_STEPS_TITLE))
        blocks += [section(chunk) for chunk in _chunks(lines, SECTION_MAX)]
    others = [f"_{escape(t)}_" for t in more]
    if others:
        blocks.append(context(messages.ANSWER_MORE.format(titles=", ".join(others))))
    return clip(f"{title}: {summary}", FALLBACK_TEXT_MAX), blocks[:MESSAGE_BLOCKS_MAX]


def escalation_message(record: CheckRecord, summary: str) -> tuple[str, list[Block]]:
    """The secret-free summary posted to the helpdesk channel."""
    outcome = Outcome(record.outcome) if record.outcome in set(Outcome) else None
    text = messages.HELPDESK_SUMMARY.format(
        user=escape(record.user_id),
        target=escape(target(record.host, record.port)),
        security=escape(record.security),
        username=escape(record.username or "(none)"),
        verdict=messages.VERDICTS[outcome] if outcome else escape(record.outcome or "unknown"),
        finding=escape(record.finding or "none"),
        summary=escape(summary or "-"),
    )
    return clip(text, FALLBACK_TEXT_MAX), [section(text)]


def _chunks(lines: Sequence[str], limit: int) -> list[str]:
    """Join lines into texts of at most ``limit`` characters (a line is clipped if alone
    it is too long)."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = clip(line, limit)
        if current and len(current) + 1 + len(line) > limit:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks
