"""The App Home tab and the helpdesk figures (pure: records and stats in, blocks out)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any, Final

from bot import messages
from bot.helpdesk.model import HelpdeskStats
from bot.helpdesk.text import render_stats_text
from bot.probe.model import Outcome
from bot.store.base import CheckRecord, CheckState
from handlers.blocks import kit, turns


def check_line(record: CheckRecord, zone: tzinfo = UTC) -> str:
    """One recent check: when (in the reader's ``zone``), where, how it went (no
    username, no secret)."""
    when = datetime.fromtimestamp(record.created_at, tz=zone).strftime("%Y-%m-%d %H:%M %Z")
    if record.state is CheckState.INTERRUPTED:
        verdict = messages.HOME_CHECK_INTERRUPTED
    elif record.outcome == Outcome.CRASHED:
        verdict = messages.HOME_CHECK_FAILED
    elif record.outcome in set(Outcome):
        verdict = messages.VERDICTS[Outcome(str(record.outcome))]
    elif record.state is CheckState.DONE:  # finished without a verdict: it crashed
        verdict = messages.HOME_CHECK_FAILED
    else:
        verdict = messages.HOME_CHECK_RUNNING
    target = kit.escape(kit.target(record.host, record.port))
    return messages.HOME_CHECK_LINE.format(when=when, target=target, verdict=verdict)


def dashboard_blocks(stats: tuple[HelpdeskStats, HelpdeskStats]) -> list[kit.Block]:
    """The admins' dashboard: the same figures as ``/smtpcheck stats``."""
    return [
        {"type": "divider"},
        {
            "type": "header",
            "text": {"type": "plain_text", "text": messages.HOME_DASHBOARD[: kit.HEADER_MAX]},
        },
        kit.context(messages.HOME_DASHBOARD_NOTE),
        *stats_message(*stats)[1],
    ]


def stats_message(week: HelpdeskStats, month: HelpdeskStats) -> tuple[str, list[kit.Block]]:
    """``/smtpcheck stats``: the dashboard's figures as a message."""
    text = render_stats_text(week, month)
    parts = [kit.section(part) for part in text.split("\n\n") if part.strip()]
    return kit.clip(text, kit.FALLBACK_TEXT_MAX), parts


def home_view(
    *,
    questions: Sequence[tuple[str, str]],
    checks: Sequence[CheckRecord],
    stats: tuple[HelpdeskStats, HelpdeskStats] | None = None,
    zone: tzinfo = UTC,
) -> dict[str, Any]:
    """The Home tab, times in the reader's ``zone``; ``stats`` (admins only) adds the
    dashboard."""
    button = kit.button(ACTION_START, messages.HOME_START, primary=True)
    lines = [check_line(record, zone) for record in checks] or [messages.HOME_NO_CHECKS]
    body: list[kit.Block] = [
        kit.section(messages.HOME_INTRO),
        {"type": "actions", "block_id": "home-actions", "elements": [button]},
        kit.section(messages.HOME_QUESTIONS),
        turns.articles_block(None, questions, faq=True, block_id="home-faq"),
        kit.section(messages.HOME_CHECKS + "\n" + "\n".join(lines)),
    ]
    if stats is not None:
        body += dashboard_blocks(stats)
    return {"type": "home", "blocks": body[: kit.MODAL_BLOCKS_MAX]}


ACTION_START: Final = "home_start_check"
