"""The conversation engine: questions, pasted errors and buttons in a help thread.

Every entry point loads the thread's ``ThreadContext`` from the store, decides the
next ``Turn`` with pure functions over the knowledge base, stores the new context
and returns the turn (which carries it). No Slack here: the Slack side renders turns
and routes button clicks to ``still_failing``, ``not_what_i_meant``, ``fixed`` and
``choose``.

How a thread goes:
- a question is searched; a sure answer shows the best article's summary and its first
  step, in the variant for the provider or client the thread knows; an unsure one
  lists candidates and offers a human (never a made-up answer);
- a pasted SMTP error is explained (cause, fix, article) before any search;
- "I use Gmail" in a thread that already has an answer re-tailors that answer;
- "Still failing" walks the steps, then offers related articles, then a human.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Final

from bot.conversation.context import (
    MAX_CANDIDATES,
    MAX_TEXT,
    ThreadContext,
    ThreadStage,
    apply,
    observe,
)
from bot.conversation.faq import _faq, faq_question
from bot.conversation.turns import (
    CANDIDATE_PAGE,
    MAX_MATCHES,
    MAX_STEP,
    KnownSettings,
    Offer,
    Question,
    Step,
    Turn,
    TurnKind,
    Variant,
)
from bot.errors import InputError
from bot.store.base import Documents
from knowledge import CONFIDENCE_FLOOR, Article, KnowledgeBase, Match, search
from knowledge.model import ArticleRef, FixedBy, one_line

STATE_FIELD: Final = "conversation"  # the key of our document in the thread's store state
RELATED_LIMIT: Final = 3
MAX_KEY: Final = 256

_ANSWER_OFFERS: Final = (Offer.FIXED, Offer.STILL_FAILING, Offer.LIVE_CHECK, Offer.HUMAN)


def help_thread_key(channel: str, thread_ts: str) -> str:
    """The store key of one Slack thread."""
    return f"{channel}:{thread_ts}"


# -- store ---------------------------------------------------------------------------


_KEY: Final = re.compile(rf"[^\x00-\x20\x7f]{{1,{MAX_KEY}}}")  # what store keys accept


def _checked(key: str) -> str:
    # Refused here, as input, rather than as the store's ValueError deep in a handler.
    if not _KEY.fullmatch(key):
        raise InputError(
            field="thread", reason=f"thread key must be 1-{MAX_KEY} visible characters"
        )
    return key


async def load_context(store: Documents, key: str) -> ThreadContext:
    """The thread's context (empty when the thread is new or expired)."""
    state = await store.get_thread(_checked(key))
    return ThreadContext.from_dict(state.get(STATE_FIELD))


async def _save(store: Documents, key: str, turn: Turn) -> Turn:
    await store.update_thread(key, {STATE_FIELD: turn.context.to_dict()})
    return turn


# -- building turns ------------------------------------------------------------------


def _variant_key(article: Article, context: ThreadContext) -> str | None:
    # The provider decides first: its steps name the exact pages and servers.
    for key in (context.provider, context.client):
        if key is not None and key in article.variants:
            return key
    return None


def _variant(kb: KnowledgeBase, key: str | None) -> Variant | None:
    if key is None:
        return None
    owner = kb.provider(key) or kb.clients.get(key)
    return Variant(id=key, name=owner.name if owner else key)


def prefill_for(kb: KnowledgeBase, context: ThreadContext) -> KnownSettings | None:
    """What the live-check modal can be filled with from what the thread knows."""
    provider = kb.provider(context.provider)  # curated or ISPDB
    submission = provider.submission[0] if provider and provider.submission else None
    if submission is not None and "%" in submission.host:
        submission = None  # an ISPDB host template (mail.%EMAILDOMAIN%): no one host to fill
    if submission is None and context.email is None:
        return None
    return KnownSettings(
        host=submission.host if submission else None,
        port=submission.port if submission else None,
        security=submission.security if submission else None,
        email=context.email,
    )


def _refs(kb: KnowledgeBase, ids: Sequence[str]) -> tuple[ArticleRef, ...]:
    return tuple(ArticleRef.of(kb.articles[i]) for i in ids if i in kb.articles)


def _more_candidates(kb: KnowledgeBase, context: ThreadContext) -> tuple[str, ...]:
    return tuple(
        i for i in context.candidates[context.shown :] if i in kb.articles and i != context.article
    )


def _offers(kb: KnowledgeBase, context: ThreadContext) -> tuple[Offer, ...]:
    more = (Offer.NOT_WHAT_I_MEANT,) if _more_candidates(kb, context) else ()
    offers = _ANSWER_OFFERS + more
    if not user_can_fix(kb, context.article):
        # Only an admin or the provider can apply this fix: "That fixed it" would ask
        # the person to confirm something they cannot do.
        offers = tuple(o for o in offers if o is not Offer.FIXED)
    return offers


def user_can_fix(kb: KnowledgeBase, article_id: str | None) -> bool:
    """False when the article's fix is for an admin or the provider (``faq.yaml``)."""
    written = kb.faq.get(article_id or "")
    return written is None or written.fixed_by is FixedBy.USER


def _present(
    kb: KnowledgeBase,
    context: ThreadContext,
    kind: TurnKind,
    *,
    matches: tuple[Match, ...] = (),
    confidence: float | None = None,
    next_question: Question | None = None,
) -> Turn:
    """The current article at the current step, in the thread's variant."""
    article = kb.articles[context.article or ""]
    key = _variant_key(article, context)
    steps = article.steps_for(key)
    index = min(context.step, len(steps) - 1)
    return Turn(
        kind=kind,
        context=context,
        article=ArticleRef.of(article),
        step=Step(text=one_line(steps[index], MAX_STEP), index=index, total=len(steps)),
        variant=_variant(kb, key),
        matches=matches[:MAX_MATCHES],
        offers=_offers(kb, context),
        prefill=prefill_for(kb, context),
        next_question=next_question,
        confidence=confidence,
    )


def _show(kb: KnowledgeBase, context: ThreadContext, article_id: str) -> ThreadContext:
    return context.showing(article_id, variant=_variant_key(kb.articles[article_id], context))


def _human(kb: KnowledgeBase, context: ThreadContext) -> Turn:
    context = replace(context, stage=ThreadStage.HUMAN)
    current = kb.articles.get(context.article or "")
    return Turn(
        kind=TurnKind.HUMAN,
        context=context,
        article=ArticleRef.of(current) if current else None,
        offers=(Offer.HUMAN, Offer.LIVE_CHECK, Offer.FIXED),
        prefill=prefill_for(kb, context),
    )


def _explanation(kb: KnowledgeBase, context: ThreadContext, matches: tuple[Match, ...]) -> Turn:
    ids = tuple(dict.fromkeys(a for m in matches for a in m.articles if a in kb.articles))
    if not ids:
        return Turn(
            kind=TurnKind.EXPLANATION,
            context=context,
            matches=matches[:MAX_MATCHES],
            offers=(Offer.LIVE_CHECK, Offer.HUMAN),
            prefill=prefill_for(kb, context),
        )
    context = _show(kb, replace(context, candidates=ids[:MAX_CANDIDATES], shown=1), ids[0])
    return _present(kb, context, TurnKind.EXPLANATION, matches=matches)


def _retailor(kb: KnowledgeBase, context: ThreadContext) -> Turn:
    """The thread's answer again after the person said which provider/client they use."""
    article = kb.articles[context.article or ""]
    key = _variant_key(article, context)
    if key != context.variant:  # other steps entirely: start them from the top
        context = context.showing(article.id, variant=key)
    return _present(kb, context, TurnKind.ANSWER)


def _noted(kb: KnowledgeBase, context: ThreadContext) -> Turn:
    """Nothing asked yet: suggest the central articles that have steps for their set-up."""
    ranked = [a for a, _ in _faq(kb)]
    tailored = [
        a for a in ranked if {context.provider, context.client} & set(kb.articles[a].variants)
    ]
    ids = tuple((tailored or ranked)[:MAX_CANDIDATES])
    context = replace(context, candidates=ids, shown=min(len(ids), CANDIDATE_PAGE))
    return Turn(
        kind=TurnKind.NOTED,
        context=context,
        candidates=_refs(kb, ids[:CANDIDATE_PAGE]),
        variant=_variant(kb, context.provider or context.client),
        offers=(Offer.LIVE_CHECK,),
        prefill=prefill_for(kb, context),
    )


def reply_to(kb: KnowledgeBase, text: str, context: ThreadContext, *, now: float) -> Turn:
    """The turn for one message in a thread whose state is ``context`` (pure)."""
    text = text[:MAX_TEXT]
    if context.resolved:
        context = context.reopened()
    seen = observe(kb, text)
    context = apply(context, seen)
    if context.started_at is None:
        context = replace(context, started_at=now)
    if seen.matches:
        return _explanation(kb, context, seen.matches)
    if seen.setup_only:
        if context.article in kb.articles:
            return _retailor(kb, context)
        return _noted(kb, context)
    result = search(kb, text, limit=MAX_CANDIDATES)
    ids = tuple(answer.article.id for answer in result.answers)
    if not ids or result.confidence < CONFIDENCE_FLOOR:
        context = replace(context, candidates=ids, shown=min(len(ids), CANDIDATE_PAGE))
        more = (Offer.NOT_WHAT_I_MEANT,) if len(ids) > CANDIDATE_PAGE else ()
        return Turn(
            kind=TurnKind.LOW_CONFIDENCE,
            context=context,
            candidates=_refs(kb, ids[:CANDIDATE_PAGE]),
            offers=(Offer.HUMAN, *more),
            confidence=result.confidence,
        )
    context = _show(kb, replace(context, candidates=ids, shown=1), ids[0])
    return _present(kb, context, TurnKind.ANSWER, confidence=result.confidence)


def after_failure(kb: KnowledgeBase, context: ThreadContext) -> Turn:
    """ "Still failing": the next step, then related articles, then a human (pure)."""
    context = replace(context, resolved=False, resolved_at=None)
    article = kb.articles.get(context.article or "")
    if article is None or context.stage is not ThreadStage.STEPS:
        return _human(kb, context)
    steps = article.steps_for(_variant_key(article, context))
    context = replace(context, steps_done=context.steps_done + 1)
    if context.step + 1 < len(steps):
        context = replace(context, step=context.step + 1)
        return _present(kb, context, TurnKind.NEXT_STEP)
    related = [r for r in article.related if r in kb.articles and r not in context.seen]
    if not related:
        return _human(kb, context)
    context = replace(context, stage=ThreadStage.RELATED)
    return Turn(
        kind=TurnKind.RELATED,
        context=context,
        article=ArticleRef.of(article),
        candidates=_refs(kb, related[:RELATED_LIMIT]),
        offers=(Offer.STILL_FAILING, Offer.LIVE_CHECK, Offer.HUMAN),
        prefill=prefill_for(kb, context),
    )


def next_candidates(kb: KnowledgeBase, context: ThreadContext) -> Turn:
    """ "Not what I meant": the next page of the last search's candidates (pure)."""
    remaining = _more_candidates(kb, context)
    if not remaining:
        return _human(kb, context)
    page = remaining[:CANDIDATE_PAGE]
    last = context.candidates.index(page[-1])
    context = replace(context, shown=last + 1)
    more = (Offer.NOT_WHAT_I_MEANT,) if _more_candidates(kb, context) else ()
    return Turn(
        kind=TurnKind.CANDIDATES,
        context=context,
        candidates=_refs(kb, page),
        offers=(Offer.HUMAN, *more),
    )


def mark_fixed(context: ThreadContext, *, now: float) -> Turn:
    """ "That fixed it" (pure); ``repeat`` says the thread was already resolved."""
    if context.resolved:
        return Turn(kind=TurnKind.RESOLVED, context=context, repeat=True)
    context = replace(context, resolved=True, resolved_at=now, stage=ThreadStage.STEPS)
    return Turn(kind=TurnKind.RESOLVED, context=context)


def _article(kb: KnowledgeBase, article_id: str) -> Article:
    article = kb.articles.get(article_id)
    if article is None:
        raise InputError(field="article", reason="no such article")
    return article


def open_article(
    kb: KnowledgeBase, context: ThreadContext, article_id: str, *, faq: bool, now: float
) -> Turn:
    """A chosen candidate, related article or common question, from its first step (pure)."""
    article = _article(kb, article_id)
    if context.resolved:
        context = context.reopened()
    if context.started_at is None:
        context = replace(context, started_at=now)
    if not faq:
        return _present(kb, _show(kb, context, article.id), TurnKind.ANSWER)
    # A common question starts a topic of its own: the last search's candidates no longer apply.
    context = _show(kb, replace(context, candidates=(), shown=0), article.id)
    following = next(
        (r for r in article.related if r in kb.articles and r not in context.seen), None
    )
    question = faq_question(kb, kb.articles[following]) if following else None
    return _present(kb, context, TurnKind.FAQ, next_question=question)


# -- entry points (store in, store out) ------------------------------------------------


async def respond(
    kb: KnowledgeBase, store: Documents, thread_key: str, text: str, *, now: float | None = None
) -> Turn:
    """Answer one message (question, pasted error, or "I use Gmail") in a thread."""
    context = await load_context(store, thread_key)
    turn = reply_to(kb, text, context, now=time.time() if now is None else now)
    return await _save(store, thread_key, turn)


async def still_failing(kb: KnowledgeBase, store: Documents, thread_key: str) -> Turn:
    """The next step; after the last, related articles; after those, a human."""
    context = await load_context(store, thread_key)
    return await _save(store, thread_key, after_failure(kb, context))


async def not_what_i_meant(kb: KnowledgeBase, store: Documents, thread_key: str) -> Turn:
    """The next candidates of the thread's last search; a human when none are left."""
    context = await load_context(store, thread_key)
    return await _save(store, thread_key, next_candidates(kb, context))


async def fixed(
    kb: KnowledgeBase, store: Documents, thread_key: str, *, now: float | None = None
) -> Turn:
    """Mark the thread resolved (metrics are the caller's, once: skip when ``repeat``)."""
    del kb  # same signature as the other buttons; resolving needs no content
    context = await load_context(store, thread_key)
    turn = mark_fixed(context, now=time.time() if now is None else now)
    return await _save(store, thread_key, turn)


async def choose(
    kb: KnowledgeBase,
    store: Documents,
    thread_key: str,
    article_id: str,
    *,
    faq: bool = False,
    now: float | None = None,
) -> Turn:
    """Open a candidate or related article the person picked (InputError if unknown);
    with ``faq``, answer it as a common question, offering the natural next question."""
    context = await load_context(store, thread_key)
    turn = open_article(kb, context, article_id, faq=faq, now=time.time() if now is None else now)
    return await _save(store, thread_key, turn)
