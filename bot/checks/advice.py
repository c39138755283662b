"""From a probe report to plain words: what happened, the likely cause, what to read, what to do.

The wording is knowledge data (``knowledge/data/findings.yaml``), keyed by the
probe's ``Finding`` (and, where no step has a finding, by its ``Outcome``), with
port-specific twins (a timeout on port 25 is almost always the network blocking
it). For a refused or temporarily refused login the server's own reply is run
through ``knowledge.explain_reply`` once, with the provider guessed from the
probed host, so "535 5.7.139 ... SmtpClientAuthentication is disabled" gets the
Microsoft 365 answer rather than "check your password".

Template values (``knowledge.model.TEMPLATE_FIELDS``) are inserted once, never
re-interpreted, so server-supplied text cannot inject formatting.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from bot.probe.model import Finding, Outcome, ProbeReport, Security
from knowledge import KnowledgeBase, Match, explain_reply, provider_for_host
from knowledge.model import ArticleRef, Wording

MAX_STEPS: Final = 4
# Outcomes the check runner records when there is no report (a restart, a crash);
# bot/messages words those, so they have no entry in findings.yaml.
WITHOUT_REPORT: Final = frozenset({Outcome.INTERRUPTED, Outcome.CRASHED, Outcome.WITHHELD})
# Findings whose wording gives way to what the server's own reply means.
_EXPLAINED_BY_REPLY: Final = frozenset({Finding.AUTH_REJECTED, Finding.AUTH_TEMPORARY})
_SUCCESS: Final = frozenset({Outcome.AUTHENTICATED, Outcome.REACHABLE})


@dataclass(frozen=True, slots=True, kw_only=True)
class Advice:
    """What a report means for the user: summary, likely cause, articles to read, next steps."""

    summary: str
    cause: str
    articles: tuple[ArticleRef, ...] = ()
    next_steps: tuple[str, ...] = ()
    reply_id: str | None = None  # the known reply pattern the server's refusal matched

    def as_dict(self) -> dict[str, Any]:
        """The CLI's ``diagnosis`` object: articles as ids."""
        return {
            "summary": self.summary,
            "cause": self.cause,
            "articles": [article.id for article in self.articles],
            "next_steps": list(self.next_steps),
        }


AdviseFn = Callable[[ProbeReport], Advice]


def make_advise(kb: KnowledgeBase) -> AdviseFn:
    """``diagnose`` bound to ``kb``, for the check runner."""

    def advise(report: ProbeReport) -> Advice:
        return diagnose(report, kb)

    return advise


def unworded(kb: KnowledgeBase) -> tuple[str, ...]:
    """Findings and report outcomes ``kb`` has no wording for; empty when it covers them all.

    The check lives here, not in the loader, because knowledge does not import the probe.
    """
    findings = (f"findings.{f.value}" for f in Finding if f.value not in kb.findings)
    outcomes = (
        f"outcomes.{o.value}"
        for o in Outcome
        if o not in WITHOUT_REPORT and o.value not in kb.outcomes
    )
    return (*findings, *outcomes)


def _fields(report: ProbeReport) -> dict[str, str]:
    return {
        "host": report.host,
        "port": str(report.port),
        "security": "SSL/TLS" if report.security is Security.TLS else report.security.value.upper(),
        "mechanism": report.mechanism or report.wanted_mechanism or "AUTH",
        "offered": ", ".join(report.auth_mechanisms) or "none",
    }


def _fill(template: str, fields: Mapping[str, str]) -> str:
    # One pass: a value containing "{host}" stays literal text.
    return template.format_map(fields)


def _wording(report: ProbeReport, kb: KnowledgeBase) -> Wording:
    finding = report.finding
    success = report.outcome in _SUCCESS
    if finding is None or (success and finding is not Finding.PLAINTEXT_AUTH):
        return kb.outcomes[report.outcome]
    warning = kb.findings[finding]
    if success:  # worked, but over plaintext: say both
        summary = f"{kb.outcomes[report.outcome].summary} {warning.summary}"
        return dataclasses.replace(warning, summary=summary)
    return warning.on_port(report.port)


def _reply_match(report: ProbeReport, kb: KnowledgeBase) -> Match | None:
    """What the server's answer to AUTH means, when it refused and the reply is known."""
    reply = report.auth_reply
    if reply is None or report.outcome is Outcome.AUTHENTICATED:
        return None
    provider = provider_for_host(kb, report.host)
    text = " ".join(str(part) for part in (reply.code, reply.enhanced, reply.text) if part)
    matches = explain_reply(kb, text, provider=provider.id if provider else None)
    return matches[0] if matches else None


def diagnose(report: ProbeReport, kb: KnowledgeBase) -> Advice:
    """Plain-words summary, most likely cause, articles and next steps for ``report``."""
    wording = _wording(report, kb)
    fields = _fields(report)
    cause, articles = _fill(wording.cause, fields), wording.articles
    steps = tuple(_fill(step, fields) for step in wording.next_steps)
    match = _reply_match(report, kb)
    if match is not None and report.finding in _EXPLAINED_BY_REPLY:
        cause, articles = match.cause, match.articles
        first = kb.articles.get(match.articles[0])
        if first is not None:
            steps = first.steps_for(match.provider)[:MAX_STEPS]
    return Advice(
        summary=_fill(wording.summary, fields),
        cause=cause,
        articles=tuple(
            ArticleRef.of(kb.articles[i]) for i in dict.fromkeys(articles) if i in kb.articles
        ),
        next_steps=steps,
        reply_id=match.reply_id if match else None,
    )
