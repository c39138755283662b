"""App Home: start a check, popular questions, the user's recent checks; and for
``SMTPCHECK_ADMINS`` only, the helpdesk dashboard (five numbers over 7 and 30 days
with trend sparklines). ``home_view`` is pure; ``publish_home`` gathers its inputs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import conversation, messages
from bot.errors import StoreUnavailable
from bot.helpdesk import HelpdeskStats, render_stats_text
from bot.probe.model import Outcome
from bot.store.base import CheckRecord, CheckState
from handlers import blocks, turns
from handlers.deps import Deps, deps_of

log = logging.getLogger(__name__)

ACTION_START: Final = "home_start_check"
RECENT_CHECKS: Final = 5
HOME_QUESTIONS: Final = 8


def check_line(record: CheckRecord) -> str:
    """One recent check: when, where, how it went (no username, no secret)."""
    when = datetime.fromtimestamp(record.created_at, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    if record.state is CheckState.INTERRUPTED:
        verdict = messages.HOME_CHECK_INTERRUPTED
    elif record.outcome in set(Outcome):
        verdict = messages.VERDICTS[Outcome(str(record.outcome))]
    elif record.state is CheckState.DONE:  # finished without a verdict: it crashed
        verdict = messages.HOME_CHECK_FAILED
    else:
        verdict = messages.HOME_CHECK_RUNNING
    target = blocks.escape(blocks.target(record.host, record.port))
    return messages.HOME_CHECK_LINE.format(when=when, target=target, verdict=verdict)


def dashboard_blocks(stats: tuple[HelpdeskStats, HelpdeskStats]) -> list[blocks.Block]:
    """The admins' dashboard: the same figures as ``/smtpcheck stats``."""
    return [
        {"type": "divider"},
        {
            "type": "header",
            "text": {"type": "plain_text", "text": messages.HOME_DASHBOARD[: blocks.HEADER_MAX]},
        },
        blocks.context(messages.HOME_DASHBOARD_NOTE),
        *stats_message(*stats)[1],
    ]


def stats_message(week: HelpdeskStats, month: HelpdeskStats) -> tuple[str, list[blocks.Block]]:
    """``/smtpcheck stats``: the dashboard's figures as a message."""
    text = render_stats_text(week, month)
    parts = [blocks.section(part) for part in text.split("\n\n") if part.strip()]
    return blocks.clip(text, blocks.FALLBACK_TEXT_MAX), parts


def home_view(
    *,
    questions: Sequence[tuple[str, str]],
    checks: Sequence[CheckRecord],
    stats: tuple[HelpdeskStats, HelpdeskStats] | None = None,
) -> dict[str, Any]:
    """The Home tab; ``stats`` (admins only) adds the dashboard."""
    button = blocks.button(ACTION_START, messages.HOME_START, primary=True)
    lines = [check_line(record) for record in checks] or [messages.HOME_NO_CHECKS]
    body: list[blocks.Block] = [
        blocks.section(messages.HOME_INTRO),
        {"type": "actions", "block_id": "home-actions", "elements": [button]},
        blocks.section(messages.HOME_QUESTIONS),
        turns.articles_block(None, questions, faq=True, block_id="home-faq"),
        blocks.section(messages.HOME_CHECKS + "\n" + "\n".join(lines)),
    ]
    if stats is not None:
        body += dashboard_blocks(stats)
    return {"type": "home", "blocks": body[: blocks.MODAL_BLOCKS_MAX]}


async def helpdesk_stats(deps: Deps) -> tuple[HelpdeskStats, HelpdeskStats]:
    """The numbers over 7 and 30 days, on one "today" so both windows end together."""
    today = deps.helpdesk.today()
    week = await deps.helpdesk.summary(7, today=today)
    month = await deps.helpdesk.summary(30, today=today)
    return week, month


async def publish_home(
    event: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    if event.get("tab") != "home":
        return
    deps = deps_of(context)
    user = str(event["user"])
    checks: list[CheckRecord] = []
    stats = None
    try:
        checks = await deps.store.list_checks(user, RECENT_CHECKS)
        if user in deps.settings.admins:
            stats = await helpdesk_stats(deps)
    except StoreUnavailable:
        log.warning("store unreachable: App Home without checks and numbers")
    questions = conversation.common_questions(deps.kb, HOME_QUESTIONS)
    view = home_view(questions=questions, checks=checks, stats=stats)
    await client.views_publish(user_id=user, view=view)


async def start_check(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
    """The Home button opens the (empty) probe modal; results go to the DM as usual."""
    await ack()
    view = blocks.probe_modal(blocks.Prefill(), origin_channel=None)
    await client.views_open(trigger_id=body["trigger_id"], view=view)


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(publish_home)
    app.action(ACTION_START)(start_check)
