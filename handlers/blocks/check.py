"""A live check in Slack: progress, the finished parent, stage details, verdict, escalation."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from bot import messages
from bot.checks.advice import Advice
from bot.oauth.errors import SignInFailed
from bot.oauth.service import SignInPrompt
from bot.probe.model import Outcome, ProbeReport, Status, StepResult
from bot.store.base import CheckRecord
from handlers.blocks.article import ACTION_OPEN
from handlers.blocks.kit import (
    ACTION_MORE,
    BUTTON_TEXT_MAX,
    FALLBACK_TEXT_MAX,
    MESSAGE_BLOCKS_MAX,
    REPLY_SHOWN_MAX,
    SECTION_MAX,
    Block,
    button,
    chunks,
    clip,
    code,
    context,
    escape,
    menu_value,
    plain_text,
    section,
    spanned,
    target,
)

ACTION_FIX: Final = "check_fix"


ACTION_AGAIN: Final = "check_again"


ACTION_HUMAN: Final = "check_human"


# -- a check in the DM thread -------------------------------------------------------
def step_line(step: StepResult) -> str:
    name = messages.STAGE_NAMES.get(step.stage, step.stage.value)
    line = f"{messages.STATUS_MARKS[step.status]} *{name}* ({step.elapsed_ms:.0f} ms)"
    if step.detail:
        # Details quote the server (banner, EHLO extensions, certificate names).
        line += " - " + code(clip(step.detail, REPLY_SHOWN_MAX))
    if step.reply is not None:
        reply = " ".join(
            str(p) for p in (step.reply.code, step.reply.enhanced, step.reply.text) if p
        )
        line += "\n      " + messages.SERVER_SAID.format(reply=code(reply))
    return line


def progress_message(record: CheckRecord, steps: Sequence[StepResult]) -> tuple[str, list[Block]]:
    """The parent message while the probe runs."""
    text = messages.CHECKING.format(target=code(target(record.host, record.port)))
    lines = [":hourglass_flowing_sand: " + text]
    lines += [step_line(step) for step in steps]
    return text, [section("\n".join(lines))]


def finished_parent(record: CheckRecord, report: ProbeReport) -> tuple[str, list[Block]]:
    """The parent message once the probe is done: the verdict in one line."""
    return closed_parent(record, report.outcome)


def closed_parent(record: CheckRecord, outcome: Outcome) -> tuple[str, list[Block]]:
    """The parent message once the check is over, with or without a report (interrupted,
    withheld, failed on our side): how it ended in one line, never "Checking ..."."""
    verdict = messages.VERDICTS[outcome]
    text = messages.CHECKING_DONE.format(
        target=code(target(record.host, record.port)), verdict=verdict
    )
    return text, [section(text), context("Details in the thread.")]


def steps_message(report: ProbeReport) -> tuple[str, list[Block]]:
    """Thread reply: every stage with its timing, detail and server reply."""
    lines = [step_line(step) for step in report.steps]
    blocks = [section(messages.STEPS_TITLE)]
    blocks += [section(chunk) for chunk in chunks(lines, SECTION_MAX)]
    return steps_fallback(report), blocks[:MESSAGE_BLOCKS_MAX]


def steps_fallback(report: ProbeReport) -> str:
    """What a notification or screen reader says for the stage details: how many
    stages ran and where it went wrong, in words (no server text)."""
    failed = next((s for s in report.steps if s.status is Status.FAIL), None)
    if failed is None:
        return messages.STEPS_TEXT_OK.format(count=len(report.steps))
    name = messages.STAGE_NAMES.get(failed.stage, failed.stage.value)
    return messages.STEPS_TEXT_FAILED.format(count=len(report.steps), stage=name)


def verdict_message(
    record: CheckRecord, report: ProbeReport, advice: Advice
) -> tuple[str, list[Block]]:
    """Thread reply: verdict, diagnosis with article titles, and the three buttons."""
    verdict = messages.VERDICTS[report.outcome]
    quoted = server_values(report)
    summary = spanned(advice.summary, quoted)
    parts = [f"*{verdict}*", messages.DIAGNOSIS_TITLE + "\n" + summary]
    if advice.cause:
        parts.append(messages.LIKELY_CAUSE.format(cause=spanned(advice.cause, quoted)))
    if advice.next_steps:
        steps = "\n".join(f"{i}. {spanned(s, quoted)}" for i, s in enumerate(advice.next_steps, 1))
        parts.append(messages.NEXT_STEPS_TITLE + "\n" + steps)
    blocks = [section(part) for part in parts]
    if advice.articles:
        blocks.append(read_more_block(advice))
    blocks.append(actions_block(record.check_id, fixable=report.outcome not in _PASSED))
    return clip(f"{verdict}: {summary}", FALLBACK_TEXT_MAX), blocks


def read_more_block(advice: Advice) -> Block:
    """ "Read more": the diagnosis's articles in a menu that opens the chosen one (the
    message keeps its three buttons for what to do next)."""
    options = [
        {
            "text": plain_text(clip(a.title, BUTTON_TEXT_MAX)),
            "value": menu_value(ACTION_OPEN, a.id),
        }
        for a in advice.articles[:100]
    ]
    menu = {
        "type": "static_select",
        "action_id": ACTION_MORE,
        "placeholder": plain_text(messages.READ_MORE_MENU),
        "options": options,
    }
    return {"type": "actions", "block_id": "verdict-read", "elements": [menu]}


def server_values(report: ProbeReport) -> tuple[str, ...]:
    """What in a report's wording came from the server or the typed settings."""
    return (
        target(report.host, report.port),
        report.host,
        ", ".join(report.auth_mechanisms),
        *report.auth_mechanisms,
        (report.mechanism or "").upper(),
    )


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


def escalation_message(record: CheckRecord, summary: str) -> tuple[str, list[Block]]:
    """The secret-free summary posted to the helpdesk channel."""
    outcome = Outcome(record.outcome) if record.outcome in set(Outcome) else None
    text = messages.HELPDESK_SUMMARY.format(
        user=escape(record.user_id),
        target=code(target(record.host, record.port)),
        security=escape(record.security),
        username=code(record.username) if record.username else "(none)",
        verdict=messages.VERDICTS[outcome] if outcome else code(record.outcome or "unknown"),
        finding=code(record.finding) if record.finding else "none",
        # The stored diagnosis quotes the server (mechanism names) with nothing to tell
        # which words are its: all of it is shown as quoted text.
        summary=code(summary) if summary else "-",
    )
    return clip(text, FALLBACK_TEXT_MAX), [section(text)]


def sign_in_prompt(prompt: SignInPrompt) -> str:
    """The private message with the sign-in link (and the device code)."""
    minutes = max(1, round(prompt.expires_in / 60))
    if prompt.user_code is not None:
        return messages.SIGN_IN_DEVICE.format(
            link=escape(prompt.link), code=escape(prompt.user_code), minutes=minutes
        )
    return messages.SIGN_IN_LINK.format(url=escape(prompt.link), minutes=minutes)


def sign_in_failed(failure: SignInFailed, titles: list[str]) -> str:
    """Why the sign-in produced no token, and what to read."""
    reason = messages.SIGN_IN_REASONS[failure.problem]
    if failure.error is not None and failure.error.code:
        reason += f" (AADSTS{failure.error.code})"
    text = messages.SIGN_IN_FAILED.format(reason=reason)
    if titles:
        text += "\n" + messages.SIGN_IN_READ_MORE.format(titles=", ".join(map(escape, titles)))
    return text
