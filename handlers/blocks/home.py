"""The App Home tab and the helpdesk figures (pure: records and stats in, blocks out)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any, Final

from bot import messages
from bot.helpdesk.feedback import FeedbackSummary, ReviewItem
from bot.helpdesk.model import HelpdeskStats
from bot.helpdesk.text import format_count, render_stats_text
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


def dashboard_blocks(
    stats: tuple[HelpdeskStats, HelpdeskStats],
    feedback: tuple[FeedbackSummary, Sequence[ReviewItem]] | None = None,
    zone: tzinfo = UTC,
    page: int = 0,
) -> list[kit.Block]:
    """The admins' dashboard: the same figures as ``/smtpcheck stats``."""
    return [
        {"type": "divider"},
        {
            "type": "header",
            "text": {"type": "plain_text", "text": messages.HOME_DASHBOARD[: kit.HEADER_MAX]},
        },
        kit.context(messages.HOME_DASHBOARD_NOTE),
        *stats_message(*stats, feedback, zone, page)[1],
    ]


def stats_message(
    week: HelpdeskStats,
    month: HelpdeskStats,
    feedback: tuple[FeedbackSummary, Sequence[ReviewItem]] | None = None,
    zone: tzinfo = UTC,
    page: int = 0,
) -> tuple[str, list[kit.Block]]:
    """``/smtpcheck stats``: the dashboard's figures as a message, with the feedback
    loop's rates and questions to review when given."""
    text = render_stats_text(week, month)
    parts = [kit.section(part) for part in text.split("\n\n") if part.strip()]
    if feedback is not None:
        parts += feedback_blocks(*feedback, zone=zone, page=page)
    return kit.clip(text, kit.FALLBACK_TEXT_MAX), parts[: kit.MESSAGE_BLOCKS_MAX]


REVIEW_SHOWN: Final = 10  # one screen; the rest wait until these are dealt with


ACTION_REVIEW_PAGE: Final = "review_page"


def feedback_blocks(
    summary: FeedbackSummary, items: Sequence[ReviewItem], *, zone: tzinfo = UTC, page: int = 0
) -> list[kit.Block]:
    """Votes and escalations (the rates sit with the five numbers), and one page of the
    questions to review (newest first) with buttons to the older and newer pages."""
    pages = max(1, -(-len(items) // REVIEW_SHOWN))
    page = min(max(page, 0), pages - 1)
    start = page * REVIEW_SHOWN
    figures = messages.FEEDBACK_LINE.format(
        helpful=format_count(summary.helpful),
        not_helpful=format_count(summary.not_helpful),
        escalations=format_count(summary.escalations),
    )
    lines = [
        messages.REVIEW_LINE.format(
            when=datetime.fromtimestamp(item.at, tz=zone).strftime("%m-%d %H:%M"),
            reason=messages.REVIEW_REASONS[item.reason.value],
            question=kit.code(item.question),
        )
        for item in items[start : start + REVIEW_SHOWN]
    ] or [messages.REVIEW_NONE]
    if pages > 1:
        lines.append(messages.REVIEW_PAGE.format(page=page + 1, pages=pages, total=len(items)))
    if summary.webhook_failures:
        lines.append(messages.WEBHOOK_FAILED_TITLE)
        lines += [
            messages.WEBHOOK_FAILED_LINE.format(
                when=datetime.fromtimestamp(f.at, tz=zone).strftime("%m-%d %H:%M"),
                reason=kit.escape(f.reason),
            )
            for f in summary.webhook_failures
        ]
    review = "\n".join([messages.REVIEW_TITLE, *lines])
    out = [kit.section(figures), *(kit.section(c) for c in kit.chunks(review.split("\n"), 2900))]
    turns_of_page = [
        kit.button(f"{ACTION_REVIEW_PAGE}_{label}", text, str(target))
        for label, text, target in (
            ("newer", messages.REVIEW_NEWER, page - 1),
            ("older", messages.REVIEW_OLDER, page + 1),
        )
        if 0 <= target < pages
    ]
    if turns_of_page:
        out.append({"type": "actions", "block_id": "review-pages", "elements": turns_of_page})
    return out


def home_pages(value: str) -> tuple[int, int]:
    """(FAQ page, review page) of a Home paging button's value ``"<faq>:<review>"``."""
    faq, _, review = value.partition(":")
    return (int(faq) if faq.isdigit() else 0), (int(review) if review.isdigit() else 0)


def home_view(
    *,
    questions: Sequence[tuple[str, str]],
    checks: Sequence[CheckRecord],
    stats: tuple[HelpdeskStats, HelpdeskStats] | None = None,
    zone: tzinfo = UTC,
    feedback: tuple[FeedbackSummary, Sequence[ReviewItem]] | None = None,
    page: int = 0,
    faq_page: int = 0,
    faq_pages: int = 1,
) -> dict[str, Any]:
    """The Home tab, times in the reader's ``zone``; ``questions`` is page ``faq_page``
    of ``faq_pages`` of the common questions; ``stats`` (admins only) adds the
    dashboard at review page ``page``. Paging buttons carry both pages, so turning one
    list keeps the other where it was."""
    button = kit.button(ACTION_START, messages.HOME_START, primary=True)
    lines = [check_line(record, zone) for record in checks] or [messages.HOME_NO_CHECKS]
    title = messages.HOME_QUESTIONS
    if faq_pages > 1:
        title += " " + messages.FAQ_PAGE_OF.format(page=faq_page + 1, pages=faq_pages)
    body: list[kit.Block] = [
        kit.section(messages.HOME_INTRO),
        {"type": "actions", "block_id": "home-actions", "elements": [button]},
        kit.section(title),
        turns.articles_block(None, questions, faq=True, block_id="home-faq"),
    ]
    if faq_pages > 1:
        nav = turns.page_button(turns.ACTION_FAQ_PAGE, None, faq_page, faq_pages)
        faq_target = turns.parse_value(nav["value"])[1]
        nav["value"] = turns.button_value(None, f"{faq_target}:{page}")
        body.append({"type": "actions", "block_id": "home-faq-pages", "elements": [nav]})
    body.append(kit.section(messages.HOME_CHECKS + "\n" + "\n".join(lines)))
    if stats is not None:
        dashboard = dashboard_blocks(stats, feedback, zone, page)
        for block in dashboard:  # the review list's pages keep the FAQ's page
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                if str(element.get("action_id", "")).startswith(ACTION_REVIEW_PAGE):
                    element["value"] = f"{faq_page}:{element['value']}"
        body += dashboard
    return {"type": "home", "blocks": body[: kit.MODAL_BLOCKS_MAX]}


ACTION_START: Final = "home_start_check"
