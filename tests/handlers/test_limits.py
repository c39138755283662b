"""Every view and message the bot can send stays inside Slack's Block Kit limits
(REFERENCE.md): the modal, check progress and results, answers, conversation turns of
every kind over the whole knowledge base, App Home for users and admins, the stats
message, escalations, and error notices."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from bot import conversation, messages
from bot.checks.advice import Advice
from bot.conversation.context import ThreadContext
from bot.conversation.turns import Turn, TurnKind
from bot.helpdesk.feedback import (
    REVIEW_KEPT,
    FeedbackSummary,
    ReviewItem,
    ReviewReason,
    new_answer_token,
)
from bot.helpdesk.model import ThreadOutcomes
from bot.helpdesk.recorder import HelpdeskMetrics
from bot.helpdesk.webhook import FAILURES_KEPT, Failure
from bot.probe.model import Outcome, ProbeReport, Reply, Stage, Status, StepResult
from bot.probe.request import build_request
from bot.store import MemoryStore
from bot.store.base import CheckRecord, CheckState
from handlers.blocks import check, home, kit, modal, turns
from handlers.help_thread import answer
from handlers.shortcuts import explain_message, explanation
from knowledge import KnowledgeBase, get_knowledge
from knowledge.evaluation import EVAL_ROOT
from knowledge.model import ArticleRef
from tests.support.scripted import ScriptedProbe

LIMITS = {"message": 50, "modal": 100, "home": 100}
HUGE = "<!channel> " + "x" * 5000


def check_blocks(where: str, body: list[dict[str, Any]], surface: str = "message") -> None:
    """Slack's limits for one message or view's blocks."""
    assert 0 < len(body) <= LIMITS[surface], where
    block_ids = [b["block_id"] for b in body if "block_id" in b]
    assert len(block_ids) == len(set(block_ids)), f"{where}: duplicate block_id"
    for block in body:
        kind = block["type"]
        if kind == "header":
            assert len(block["text"]["text"]) <= 150, where
        if kind == "section":
            assert len(block["text"]["text"]) <= 3000, where
        if kind == "context":
            assert all(len(e["text"]) <= 3000 for e in block["elements"]), where
        if kind == "context_actions":  # Helpful / Not helpful
            assert 0 < len(block["elements"]) <= 5, where
            for element in block["elements"]:
                sides = [element["positive_button"], element["negative_button"]]
                assert all(0 < len(b["text"]["text"]) <= 75 for b in sides), where
                assert all(0 < len(b["value"]) <= 2000 for b in sides), where
        if kind == "input":
            element = block["element"]
            if "initial_value" in element and "max_length" in element:
                assert len(element["initial_value"]) <= element["max_length"], where
        if kind == "actions":
            elements = block["elements"]
            assert 0 < len(elements) <= 25, where
            ids = [e["action_id"] for e in elements]
            assert len(ids) == len(set(ids)), f"{where}: duplicate action_id in a block"
            buttons = [e for e in elements if e["type"] == "button"]
            for element in buttons:
                assert 0 < len(element["text"]["text"]) <= 75, where
                assert len(element.get("value", "")) <= 2000, where
            for menu in (e for e in elements if e["type"] in ("overflow", "static_select")):
                limit = 5 if menu["type"] == "overflow" else 100
                assert 2 <= len(menu["options"]) <= limit or menu["type"] != "overflow", where
                assert len(menu["options"]) <= limit, where
                for option in menu["options"]:
                    assert 0 < len(option["text"]["text"]) <= 75, where
                    assert len(option["value"]) <= 150, where
    shown = sum(
        e["type"] == "button" for b in body if b["type"] == "actions" for e in b["elements"]
    )
    if surface == "message":
        assert shown <= kit.BUTTONS_SHOWN, f"{where}: {shown} buttons"


def check_message(where: str, rendered: tuple[str, list[dict[str, Any]]]) -> None:
    text, body = rendered
    assert 0 < len(text) <= 3000 + 1, where
    check_blocks(where, body)


def check_view(where: str, view: dict[str, Any]) -> None:
    check_blocks(where, view["blocks"], view["type"])
    for part in ("title", "submit", "close"):
        if part in view:
            assert 0 < len(view[part]["text"]) <= 24, f"{where}: {part}"
    assert len(view.get("private_metadata", "")) <= 3000, where


def every_turn(kb: KnowledgeBase) -> Iterator[tuple[str, Turn]]:
    """Turns of every kind: eval questions and replies, every article opened as a
    candidate and as a common question, walked to the end, resolved twice."""
    now = time.time()
    questions = yaml.safe_load((EVAL_ROOT / "questions.yaml").read_text())
    replies = yaml.safe_load((EVAL_ROOT / "replies.yaml").read_text())
    texts = [q["q"] for q in questions] + [r["text"] for r in replies]
    texts += ["I use Gmail", "I use Thunderbird", "what's for lunch", HUGE]
    for text in texts:
        turn = conversation.reply_to(kb, text, ThreadContext(), now=now)
        yield f"reply {text[:40]!r}", turn
        yield (
            f"retailored {text[:40]!r}",
            conversation.reply_to(kb, "I use Gmail", turn.context, now=now),
        )
        yield f"other {text[:40]!r}", conversation.next_candidates(kb, turn.context)
    for article_id in kb.articles:
        for faq_turn in (True, False):
            turn = conversation.open_article(kb, ThreadContext(), article_id, faq=faq_turn, now=now)
            yield f"open {article_id}", turn
            for _ in range(12):
                turn = conversation.after_failure(kb, turn.context)
                yield f"walk {article_id}", turn
    resolved = conversation.mark_fixed(ThreadContext(), now=now)
    yield "resolved", resolved
    yield "resolved again", conversation.mark_fixed(resolved.context, now=now)


def test_every_turn_kind_fits() -> None:
    """All conversation turns render inside the limits, and every kind was rendered."""
    kb = get_knowledge()
    key = "D" + "9" * 20 + ":1700000000.123456"
    seen: set[TurnKind] = set()
    faq_list = conversation.common_questions(kb, 25)
    for where, turn in every_turn(kb):
        seen.add(turn.kind)
        check_message(where, turns.render_turn(turn, key, faq=faq_list))
        if turn.kind is TurnKind.EXPLANATION:
            pasted = f"{HUGE} 535 5.7.8 {HUGE}"
            check_message(f"triage {where}", turns.triage_message(turn, key, pasted))
    assert seen == set(TurnKind)
    check_message("greeting", turns.greeting(key, faq_list))


def report_for(outcome: Outcome) -> ProbeReport:
    steps = tuple(
        StepResult(
            stage=stage,
            status=Status.FAIL,
            elapsed_ms=12345.6,
            detail=HUGE,
            reply=Reply(code=535, enhanced="5.7.8", text=HUGE),
        )
        for stage in Stage
    )
    return ProbeReport(
        host="mail." + "a" * 60 + ".example.com",
        port=587,
        security=build_request(
            host="mail.example.com", port=587, allowed_ports=frozenset({587})
        ).effective_security,
        username="u" * 300,
        outcome=outcome,
        steps=steps,
    )


def record(**changes: Any) -> CheckRecord:
    values: dict[str, Any] = {
        "check_id": "c" * 16,
        "user_id": "U0ALICE",
        "host": "mail." + "a" * 60 + ".example.com",
        "port": 587,
        "security": "starttls",
        "state": CheckState.DONE,
        "created_at": time.time(),
        "updated_at": time.time(),
        "username": "u" * 300,
        "outcome": "auth_rejected",
        "finding": "auth_rejected",
    }
    values.update(changes)
    return CheckRecord(**values)


def test_modal_and_check_messages_fit() -> None:
    """The modal (longest prefill), refusal notice, progress, verdicts for every outcome,
    walkthroughs, answers and escalations fit."""
    long_prefill = modal.Prefill(
        email="e" * 3000, host="h" * 3000, port=587, username="u" * 3000, note=HUGE
    )
    check_view("modal", modal.probe_modal(long_prefill, origin_channel="C" * 20))
    check_view("notice", modal.notice_modal(messages.REFUSED_STORE))
    advice = Advice(
        summary=HUGE,
        cause=HUGE,
        articles=tuple(ArticleRef(id=f"a{i}", title="t" * 200, summary=HUGE) for i in range(30)),
        next_steps=tuple(HUGE for _ in range(30)),
    )
    for outcome in Outcome:
        report = report_for(outcome)
        check_message(f"progress {outcome}", check.progress_message(record(), report.steps))
        check_message(f"parent {outcome}", check.finished_parent(record(), report))
        check_message(f"steps {outcome}", check.steps_message(report))
        check_message(f"verdict {outcome}", check.verdict_message(record(), report, advice))
    check_message("walkthrough", turns.walkthrough_message(HUGE, [HUGE] * 80))
    check_message(
        "answer",
        turns.answer_message(
            HUGE, HUGE, [HUGE] * 80, unsure=True, article_id="a" * 80, more=[("b" * 80, HUGE)] * 5
        ),
    )
    check_message("escalation", check.escalation_message(record(), HUGE))
    kb = get_knowledge()
    token = new_answer_token()
    for text in ("outlook keeps asking for my password", "what's for lunch", HUGE):
        check_message(f"/smtpcheck {text[:20]}", answer(kb, text, token=token))
    assert (
        len(explanation(kb, HUGE + " 535 5.7.8 Username and Password not accepted " * 40)) <= 3000
    )
    for pasted in (HUGE + " 535 5.7.8 Username and Password not accepted " * 40, HUGE, "hi"):
        text, blocks, _ = explain_message(kb, pasted, token)
        check_message(f"shortcut {pasted[-20:]!r}", (text, blocks))
        assert blocks[-1]["type"] == "context_actions", "the shortcut's answer has thumbs"


def test_scripted_report_renders() -> None:
    """A report as the engine shapes it (scripted) renders inside the limits too."""

    async def noop(step: StepResult) -> None:
        return None

    request = build_request(
        host="mail.example.com",
        port=587,
        username="a",
        password="p",
        allowed_ports=frozenset({587}),
    )
    report = asyncio.run(ScriptedProbe(Outcome.AUTH_REJECTED)(request, noop))
    check_message("scripted steps", check.steps_message(report))


@pytest.fixture
async def numbers() -> tuple[Any, Any]:
    """Stats over 30 busy days with many distinct error replies."""
    store = MemoryStore()
    helpdesk = HelpdeskMetrics(store)
    now = time.time()
    for day in range(30):
        for n in range(3):
            await helpdesk.record_check(
                f"U{day}x{n}",
                outcome="auth_rejected",
                auth_failed=True,
                reply_key=f"reply-{n}-{day}",
                at=now - day * 86400,
            )
    return await helpdesk.summary(7), await helpdesk.summary(30)


async def test_home_and_stats_fit(numbers: tuple[Any, Any]) -> None:
    """App Home (user with many checks, admin with busy numbers), the stats message and
    the FAQ list fit; Slack's error notices fit a section."""
    kb = get_knowledge()
    checks = [record(check_id=f"c{i}", outcome=o.value) for i, o in enumerate(Outcome)]
    checks.append(record(check_id="run", state=CheckState.RUNNING, outcome=None))
    checks.append(record(check_id="int", state=CheckState.INTERRUPTED, outcome="interrupted"))
    questions = conversation.common_questions(kb, 25)
    check_view("home user", home.home_view(questions=questions, checks=checks))
    check_view("home admin", home.home_view(questions=questions, checks=checks, stats=numbers))

    check_message("stats", home.stats_message(*numbers))
    summary = FeedbackSummary(
        helpful=10**6,
        not_helpful=10**6,
        escalations=5,
        threads=ThreadOutcomes(threads=10**6, deflected=10**5, escalated=10**4),
        webhook_failures=tuple(
            Failure(at=1e9 + i, reason=HUGE[:200]) for i in range(FAILURES_KEPT)
        ),
    )
    review = [
        ReviewItem(question=HUGE[:200], reason=ReviewReason.NOT_HELPFUL, at=1e9 + i)
        for i in range(REVIEW_KEPT)
    ]
    check_message("stats + feedback", home.stats_message(*numbers, (summary, review)))
    for page in (1, 3, 99):
        rendered = home.stats_message(*numbers, (summary, review), page=page)
        check_message(f"stats page {page}", rendered)
    check_view(
        "home admin + feedback",
        home.home_view(
            questions=questions, checks=checks, stats=numbers, feedback=(summary, review)
        ),
    )
    check_message("faq", (messages.COMMON_QUESTIONS, turns.faq_blocks(None, questions)))
    for notice in (
        messages.UNEXPECTED,
        messages.STATS_UNAVAILABLE,
        messages.HELPDESK_MISSING,
        messages.THREAD_GONE,
    ):
        check_message("notice", (notice, [kit.section(notice)]))


def tenfold(kb: KnowledgeBase) -> KnowledgeBase:
    """The knowledge base ten times over: every article nine more times under new ids
    (related links kept inside each copy), each with its FAQ entry."""
    import dataclasses
    from types import MappingProxyType

    articles = dict(kb.articles)
    faq = dict(kb.faq)
    for n in range(1, 10):
        for article in kb.articles.values():
            copy_id = f"{article.id}-copy{n}"
            related = tuple(f"{r}-copy{n}" for r in article.related)
            articles[copy_id] = dataclasses.replace(
                article, id=copy_id, title=f"{article.title} ({n})", related=related
            )
            faq[copy_id] = kb.faq[article.id]
    return dataclasses.replace(kb, articles=MappingProxyType(articles), faq=MappingProxyType(faq))


async def test_lists_fit_with_a_knowledge_base_ten_times_today(numbers: tuple[Any, Any]) -> None:
    """With ten times the articles, every page of the common questions (the
    `/smtpcheck faq` message, the greeting, App Home for users and for admins with the
    dashboard at every review page), the stats message at every review page, every turn
    and the answers of the eval questions stay inside Slack's limits; paging reaches
    every question exactly once and nothing is cut off the end of a message or view."""
    from handlers.help_thread import FAQ_PAGE, faq_page
    from handlers.home import HOME_QUESTIONS

    kb = tenfold(get_knowledge())
    assert len(kb.articles) == 10 * len(get_knowledge().articles)
    key = "D" + "9" * 20 + ":1700000000.123456"
    summary = FeedbackSummary(
        helpful=10**6,
        not_helpful=10**6,
        escalations=10**6,
        threads=ThreadOutcomes(threads=10**6, deflected=10**5, escalated=10**4),
        webhook_failures=tuple(
            Failure(at=1e9 + i, reason=HUGE[:200]) for i in range(FAILURES_KEPT)
        ),
    )
    review = [
        ReviewItem(question=("&<" * 100)[:200], reason=ReviewReason.NOT_HELPFUL, at=1e9 + i)
        for i in range(REVIEW_KEPT)
    ]
    review_pages = turns.pages_of(len(review), home.REVIEW_SHOWN)
    for size, where in ((FAQ_PAGE, "faq"), (HOME_QUESTIONS, "home")):
        seen: list[str] = []
        questions, _, pages = faq_page(kb, 0, size)
        assert pages == turns.pages_of(len(kb.articles), size) > 1
        for page in range(pages):
            questions, at, _ = faq_page(kb, page, size)
            assert at == page and 0 < len(questions) <= size
            seen += [article_id for article_id, _ in questions]
            if where == "faq":
                rendered = turns.faq_blocks(key, questions, page=page, pages=pages)
                check_message(f"faq x10 page {page}", (messages.COMMON_QUESTIONS, rendered))
                assert rendered[-1]["block_id"] == "help-faq-pages"
                if page == 0:
                    check_message("greeting x10", turns.greeting(key, questions, pages=pages))
                continue
            many = [record(check_id=f"c{i}", outcome="authenticated") for i in range(5)]
            view = home.home_view(questions=questions, checks=many, faq_page=page, faq_pages=pages)
            check_view(f"home x10 page {page}", view)
            for review_page in range(review_pages):
                admin = home.home_view(
                    questions=questions,
                    checks=many,
                    stats=numbers,
                    feedback=(summary, review),
                    page=review_page,
                    faq_page=page,
                    faq_pages=pages,
                )
                check_view(f"home admin x10 page {page}/{review_page}", admin)
                assert admin["blocks"][-1]["block_id"] == "review-pages"  # nothing cut off
        assert sorted(seen) == sorted(kb.articles)
    for review_page in range(review_pages):
        rendered = home.stats_message(*numbers, (summary, review), page=review_page)
        check_message(f"stats page {review_page}", rendered)
        assert rendered[1][-1]["block_id"] == "review-pages"
    questions = conversation.common_questions(kb, 10_000)
    assert len(questions) <= conversation.FAQ_LIMIT
    for where, turn in every_turn(kb):
        check_message(f"x10 {where}", turns.render_turn(turn, key, faq=questions))
    for text in ("outlook keeps asking for my password", "535 5.7.8 gsmtp", HUGE):
        check_message(f"x10 answer {text[:20]}", answer(kb, text))


def test_article_modals_fit() -> None:
    """Every article (and a huge one) opened in a modal stays inside a modal's limits."""
    import dataclasses

    from handlers.blocks.article import article_modal

    kb = get_knowledge()
    for article in kb.articles.values():
        check_view(f"article {article.id}", article_modal(article))
    first = next(iter(kb.articles.values()))
    huge = dataclasses.replace(first, title=HUGE, summary=HUGE, steps=(HUGE,) * 200)
    view = article_modal(huge)
    check_view("article huge", view)
    assert len(view["title"]["text"]) <= 24
