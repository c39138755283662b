"""App Home: start a check, popular questions, the user's recent checks; and for
``SMTPCHECK_ADMINS`` only, the helpdesk dashboard (five numbers over 7 and 30 days
with trend sparklines). ``home_view`` is pure; ``publish_home`` gathers its inputs.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC
from typing import Any, Final

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot import messages
from bot.errors import StoreUnavailable
from bot.helpdesk.feedback import Feedback, FeedbackSummary, ReviewItem
from bot.helpdesk.model import HelpdeskStats
from bot.runtime.deps import Deps, deps_of
from bot.runtime.private import trusted_response_url
from bot.store.base import CheckRecord
from handlers.blocks import kit, modal
from handlers.blocks.home import (
    ACTION_REVIEW_PAGE,
    ACTION_START,
    home_pages,
    home_view,
    stats_message,
)
from handlers.help_thread import faq_page as faq_pages_of
from handlers.timezones import reader_zone

log = logging.getLogger(__name__)

RECENT_CHECKS: Final = 5
STATS_BUDGET: Final = 2.0  # seconds; /smtpcheck stats answers in the ack (3 s window)
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
    summary = await feedback.summary(7, threads=week.threads)
    return summary, await feedback.to_review()


async def handle_publish_home(
    event: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    if event.get("tab") == "home":
        await publish_home(client, deps_of(context), str(event["user"]))


async def publish_home(
    client: AsyncWebClient, deps: Deps, user: str, page: int = 0, faq_page: int = 0
) -> None:
    """Render and publish ``user``'s Home tab (``page`` of the admins' review list,
    ``faq_page`` of the common questions)."""
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
    questions, faq_page, faq_pages = faq_pages_of(deps.kb, faq_page, HOME_QUESTIONS)
    zone = await reader_zone(client, user) if checks or feedback else None
    view = home_view(
        questions=questions,
        checks=checks,
        stats=stats,
        zone=zone or UTC,
        feedback=feedback,
        page=page,
        faq_page=faq_page,
        faq_pages=faq_pages,
    )
    await client.views_publish(user_id=user, view=view)


async def handle_start_check(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    """The Home button opens the (empty) probe modal; results go to the DM as usual."""
    await ack()
    sign_in = deps_of(context).sign_in_choices(None)
    view = modal.probe_modal(modal.Prefill(), origin_channel=None, sign_in=sign_in)
    await client.views_open(trigger_id=body["trigger_id"], view=view)


async def admin_stats(
    deps: Deps, user: str, client: AsyncWebClient, *, page: int = 0
) -> tuple[str, list[kit.Block]]:
    """Admins get the helpdesk numbers and the feedback loop (ephemeral, like every
    command answer), times in their own zone."""
    if user not in deps.settings.admins:
        return messages.STATS_DENIED, [kit.section(messages.STATS_DENIED)]
    try:
        # The figures go out in the ack, so a slow store must not cost the 3 s window.
        async with asyncio.timeout(STATS_BUDGET):
            week, month = await helpdesk_stats(deps)
            feedback = await helpdesk_feedback(deps, week)
            zone = await reader_zone(client, user)
    except (StoreUnavailable, TimeoutError):
        return messages.STATS_UNAVAILABLE, [kit.section(messages.STATS_UNAVAILABLE)]
    return stats_message(week, month, feedback, zone, page)


async def handle_review_page(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: dict[str, Any]
) -> None:
    """Older / newer questions to review: the Home tab republished, or the stats message
    replaced, at that page. Admins only."""
    await ack()
    deps, user = deps_of(context), str(body["user"]["id"])
    value = str(body["actions"][0].get("value", ""))
    # Home's buttons carry "<faq page>:<review page>", the stats message's the page alone.
    faq_page, page = (
        home_pages(value) if ":" in value else (0, int(value) if value.isdigit() else -1)
    )
    if user not in deps.settings.admins or page < 0:
        return
    if (body.get("container") or {}).get("type") == "view":
        await publish_home(client, deps, user, page, faq_page)
        return
    hook = trusted_response_url(body.get("response_url"), deps.settings.slack_api_url)
    if hook is None:  # the stats answer can only be edited through its own hook
        return
    text, blocks = await admin_stats(deps, user, client, page=page)
    respond = AsyncRespond(response_url=hook)
    await respond(text=text, blocks=blocks, replace_original=True, response_type="ephemeral")


def register(app: AsyncApp) -> None:
    app.event("app_home_opened")(handle_publish_home)
    app.action(ACTION_START)(handle_start_check)
    app.action(re.compile(rf"^{ACTION_REVIEW_PAGE}_(older|newer)$"))(handle_review_page)
