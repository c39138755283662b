"""What a probe report means for the user: the diagnosis with article titles resolved."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.probe.model import Outcome, ProbeReport
from knowledge import KnowledgeBase, explain_reply


@dataclass(frozen=True, slots=True, kw_only=True)
class ArticleRef:
    id: str
    title: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Advice:
    """What a report means for the user: the diagnosis with article titles resolved."""

    summary: str
    cause: str
    articles: tuple[ArticleRef, ...] = ()
    next_steps: tuple[str, ...] = ()
    reply_id: str | None = None  # the known reply pattern the server's refusal matched


AdviseFn = Callable[[ProbeReport], Advice]


def make_advise(kb: KnowledgeBase) -> AdviseFn:
    """``bot.diagnosis.diagnose`` with article ids resolved to titles."""
    from bot.checks.diagnosis import diagnose

    def advise(report: ProbeReport) -> Advice:
        diagnosis = diagnose(report, kb)
        reply = report.auth_reply
        matches = (
            explain_reply(
                kb, " ".join(str(p) for p in (reply.code, reply.enhanced, reply.text) if p)
            )
            if reply is not None and report.outcome is not Outcome.AUTHENTICATED
            else ()
        )
        articles = tuple(
            ArticleRef(id=i, title=kb.articles[i].title)
            for i in diagnosis.articles
            if i in kb.articles
        )
        return Advice(
            summary=diagnosis.summary,
            cause=diagnosis.cause,
            articles=articles,
            next_steps=tuple(diagnosis.next_steps),
            reply_id=matches[0].reply_id if matches else None,
        )

    return advise
