"""App Home: start a check, popular questions, the user's recent checks; and for
``SMTPCHECK_ADMINS`` only, the helpdesk dashboard (five numbers over 7 and 30 days
with trend sparklines). ``home_view`` is pure; ``publish_home`` gathers its inputs.
"""

from __future__ import annotations

import logging
from datetime import UTC
from typing import Any, Final

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot import conversation
from bot.errors import StoreUnavailable
from bot.helpdesk.feedback import Feedback, FeedbackSummary, ReviewItem
from bot.helpdesk.model import HelpdeskStats
from bot.runtime.deps import Deps, deps_of
from bot.store.base import CheckRecord
from handlers.blocks import modal
from handlers.blocks.home import ACTION_START, home_view
from handlers.timezones import reader_zone

log = logging.getLogger(__name__)

RECENT_CHECKS: Final = 5
HOME_QUESTIONS: Final = 8


async def helpdesk_stats(deps: Deps) -> tuple[HelpdeskStats, HelpdeskStats]:
    """The numbers over 7 and 30 days, on one "today" so both windows end together."""
    today = deps.helpdesk.today()
    week = await deps.helpdesk.summary(7, today=today)
    month = await deps.helpdesk.summary(30, today=today)
    return week, month


async def helpdesk_feedback(
    deps: Deps, week: HelpdeskStats
) -> tuple[FeedbackSummary, list[ReviewItem]]:
    """The week's votes and rates, and the questions to review (newest first)."""
    feedback = Feedback(deps.store)
    summary = await feedback.summary(7, questions=week.questions, resolutions=week.resolutions)
    return summary, await feedback.to_review()


async def handle_publish_home(
    event: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    if event.get("tab") != "home":
        return
    deps = deps_of(context)
    user = str(event["user"])
    checks: list[CheckRecord] = []
    stats = None
    feedback = None
    try:
        checks = await deps.store.list_checks(user, RECENT_CHECKS)
        if user in deps.settings.admins:
            stats = await helpdesk_stats(deps)
            feedback = await helpdesk_feedback(deps, stats[0])
    except StoreUnavailable:
        log.warning("store unreachable: App Home without checks and numbers")
    questions = conversation.common_questions(deps.kb, HOME_QUESTIONS)
    zone = await reader_zone(client, user) if checks or feedback else None
    view = home_view(
        questions=questions, checks=checks, stats=stats, zone=zone or UTC, feedback=feedback
    )
    await client.views_publish(user_id=user, view=view)


async def handle_start_check(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
    """The Home button opens the (empty) probe modal; results go to the DM as usual."""
    await ack()
    view = modal.probe_modal(modal.Prefill(), origin_channel=None)
    await client.views_open(trigger_id=body["trigger_id"], view=view)


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(handle_publish_home)
    app.action(ACTION_START)(handle_start_check)
