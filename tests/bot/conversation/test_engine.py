"""The conversation engine over the real knowledge base and a real store."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from bot import conversation as conv
from bot.conversation.context import MAX_CANDIDATES, MAX_SEEN, ThreadContext, ThreadStage, learn
from bot.conversation.engine import STATE_FIELD
from bot.conversation.turns import (
    CANDIDATE_PAGE,
    MAX_QUESTION,
    MAX_STEP,
    MAX_SUMMARY,
    Offer,
    Turn,
    TurnKind,
)
from bot.errors import InputError
from bot.store import MemoryStore, RedisStore, Store
from knowledge import CONFIDENCE_FLOOR, KnowledgeBase, get_knowledge, search
from tests.bot.store.support import drop_namespace, redis_client, require_redis

KEY = "D123:1700000000.000100"
GMAIL_535 = (
    "535-5.7.8 Username and Password not accepted. For more information, go to\n"
    "535 5.7.8  https://support.google.com/mail/?p=BadCredentials a1-20020a05 - gsmtp"
)


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    """The shipped knowledge base."""
    return get_knowledge()


@pytest.fixture
def store() -> MemoryStore:
    """A fresh in-memory store."""
    return MemoryStore()


def step_texts(turn: Turn) -> tuple[str, int, int]:
    assert turn.step is not None
    return turn.step.text, turn.step.index, turn.step.total


# -- context carried across turns ----------------------------------------------------


async def test_app_password_then_i_use_gmail_shows_gmail_steps(
    kb: KnowledgeBase, store: Store
) -> None:
    """A generic answer is re-tailored to Gmail's variant once the thread says "I use Gmail"."""
    first = await conv.respond(kb, store, KEY, "how do I create an app password?")
    article = kb.articles["app-passwords"]
    assert first.kind is TurnKind.ANSWER
    assert first.article is not None and first.article.id == "app-passwords"
    assert step_texts(first) == (article.steps[0], 0, len(article.steps))
    assert first.variant is None
    assert first.confidence is not None and first.confidence >= CONFIDENCE_FLOOR
    assert {Offer.FIXED, Offer.STILL_FAILING, Offer.LIVE_CHECK, Offer.HUMAN} <= set(first.offers)

    second = await conv.respond(kb, store, KEY, "I use Gmail")
    gmail = article.variants["gmail"]
    assert second.kind is TurnKind.ANSWER
    assert second.article is not None and second.article.id == "app-passwords"
    assert step_texts(second) == (gmail[0], 0, len(gmail))
    assert second.variant is not None and second.variant.id == "gmail"
    assert second.prefill is not None
    assert (second.prefill.host, second.prefill.port) == ("smtp.gmail.com", 465)
    stored = await conv.load_context(store, KEY)
    assert stored.provider == "gmail" and stored.article == "app-passwords"


async def test_provider_switch_changes_variant_and_prefill(kb: KnowledgeBase, store: Store) -> None:
    """A later message naming another provider (by name or address) switches the variant."""
    await conv.respond(kb, store, KEY, "how do I create an app password?")
    await conv.respond(kb, store, KEY, "I use Gmail")
    yahoo = await conv.respond(kb, store, KEY, "actually we moved to Yahoo")
    assert yahoo.variant is not None and yahoo.variant.id == "yahoo"
    assert step_texts(yahoo)[0] == kb.articles["app-passwords"].variants["yahoo"][0]

    icloud = await conv.respond(
        kb, store, KEY, "my address is <mailto:Ann@iCloud.com|Ann@iCloud.com>"
    )
    assert icloud.variant is not None and icloud.variant.id == "icloud"
    assert icloud.prefill is not None
    assert icloud.prefill.email == "ann@icloud.com"
    assert icloud.prefill.host == kb.providers["icloud"].submission[0].host


async def test_client_variant_used_when_provider_has_none(kb: KnowledgeBase, store: Store) -> None:
    """ "I use Thunderbird" picks the client's variant of an article that has one."""
    first = await conv.respond(kb, store, KEY, "which port should I use for smtp?")
    assert first.article is not None and first.article.id == "ports-and-encryption"
    turn = await conv.respond(kb, store, KEY, "I use Thunderbird")
    assert turn.variant is not None and turn.variant.id == "thunderbird"
    expected = kb.articles["ports-and-encryption"].variants["thunderbird"][0]
    assert step_texts(turn)[0] == expected


async def test_follow_up_question_continues_the_thread(kb: KnowledgeBase, store: Store) -> None:
    """A new question in the same thread keeps what the thread learned (provider, start time)."""
    await conv.respond(kb, store, KEY, "how do I create an app password?", now=100.0)
    await conv.respond(kb, store, KEY, "I use Gmail", now=110.0)
    follow = await conv.respond(kb, store, KEY, "how do I reset my email password?", now=120.0)
    assert follow.kind is TurnKind.ANSWER
    assert follow.article is not None and follow.article.id == "reset-password"
    assert follow.variant is not None and follow.variant.id == "gmail"
    assert step_texts(follow)[0] == kb.articles["reset-password"].variants["gmail"][0]
    assert follow.context.started_at == 100.0
    assert follow.context.seen == ("app-passwords", "reset-password")


async def test_setup_only_first_message_is_noted(kb: KnowledgeBase, store: Store) -> None:
    """ "I use Gmail" with nothing asked yet suggests articles with Gmail steps, no answer."""
    turn = await conv.respond(kb, store, KEY, "I use Gmail")
    assert turn.kind is TurnKind.NOTED
    assert turn.article is None and turn.step is None
    assert 0 < len(turn.candidates) <= CANDIDATE_PAGE
    assert all("gmail" in kb.articles[c.id].variants for c in turn.candidates)
    assert turn.context.provider == "gmail"


# -- walking through a fix -------------------------------------------------------------


async def test_still_failing_walks_steps_then_related_then_human(
    kb: KnowledgeBase, store: Store
) -> None:
    """ "Still failing" gives each next step, then related articles, then a human."""
    first = await conv.respond(kb, store, KEY, "which port should I use for smtp?")
    assert first.article is not None
    article = kb.articles[first.article.id]
    for index in range(1, len(article.steps)):
        turn = await conv.still_failing(kb, store, KEY)
        assert turn.kind is TurnKind.NEXT_STEP
        assert step_texts(turn) == (article.steps[index], index, len(article.steps))
    related = await conv.still_failing(kb, store, KEY)
    assert related.kind is TurnKind.RELATED
    expected = [r for r in article.related if r in kb.articles][: conv.RELATED_LIMIT]
    assert [c.id for c in related.candidates] == expected
    assert Offer.STILL_FAILING in related.offers
    human = await conv.still_failing(kb, store, KEY)
    assert human.kind is TurnKind.HUMAN
    assert human.offers[0] is Offer.HUMAN
    assert human.context.steps_done == len(article.steps)
    again = await conv.still_failing(kb, store, KEY)
    assert again.kind is TurnKind.HUMAN


async def test_choosing_a_related_article_starts_its_steps(kb: KnowledgeBase, store: Store) -> None:
    """Picking a related article restarts the walk at its first step."""
    await conv.respond(kb, store, KEY, "which port should I use for smtp?")
    turn = await conv.still_failing(kb, store, KEY)
    while turn.kind is TurnKind.NEXT_STEP:
        turn = await conv.still_failing(kb, store, KEY)
    assert turn.kind is TurnKind.RELATED
    picked = turn.candidates[0].id
    opened = await conv.choose(kb, store, KEY, picked)
    assert opened.kind is TurnKind.ANSWER
    assert opened.article is not None and opened.article.id == picked
    assert step_texts(opened)[1] == 0
    assert opened.context.stage is ThreadStage.STEPS
    following = await conv.still_failing(kb, store, KEY)
    assert following.kind is TurnKind.NEXT_STEP and step_texts(following)[1] == 1


async def test_not_what_i_meant_pages_through_candidates(kb: KnowledgeBase, store: Store) -> None:
    """ "Not what I meant" shows the next search candidates in order, then offers a human."""
    question = "outlook keeps asking for my password"
    expected = [a.article.id for a in search(kb, question, limit=MAX_CANDIDATES).answers]
    first = await conv.respond(kb, store, KEY, question)
    assert first.article is not None and first.article.id == expected[0]
    assert Offer.NOT_WHAT_I_MEANT in first.offers
    shown: list[str] = []
    turn = await conv.not_what_i_meant(kb, store, KEY)
    while turn.kind is TurnKind.CANDIDATES:
        assert 0 < len(turn.candidates) <= CANDIDATE_PAGE
        shown.extend(c.id for c in turn.candidates)
        turn = await conv.not_what_i_meant(kb, store, KEY)
    assert shown == expected[1:]
    assert turn.kind is TurnKind.HUMAN


async def test_off_topic_is_low_confidence_never_an_answer(kb: KnowledgeBase, store: Store) -> None:
    """Off-topic text gets "not sure", the top candidates and a human, never an article."""
    for number, text in enumerate(("what's for lunch", "can you order pizza for the team?")):
        turn = await conv.respond(kb, store, f"{KEY}{number}", text)
        assert turn.kind is TurnKind.LOW_CONFIDENCE, text
        assert turn.article is None and turn.step is None
        assert Offer.HUMAN in turn.offers and Offer.FIXED not in turn.offers
        assert len(turn.candidates) <= CANDIDATE_PAGE
        assert turn.confidence is not None and turn.confidence < CONFIDENCE_FLOOR


async def test_pasted_error_is_explained(kb: KnowledgeBase, store: Store) -> None:
    """A pasted SMTP reply gives cause, fix (first step) and article, and is remembered."""
    turn = await conv.respond(kb, store, KEY, f"outlook says:\n{GMAIL_535}")
    assert turn.kind is TurnKind.EXPLANATION
    assert turn.matches and turn.matches[0].cause
    match = turn.matches[0]
    assert match.code == 535 and match.enhanced == "5.7.8"
    assert turn.article is not None and turn.article.id == match.articles[0]
    article = kb.articles[turn.article.id]
    assert turn.step is not None
    assert turn.step.text == article.steps_for(turn.context.provider, turn.context.client)[0]
    ctx = turn.context
    assert (ctx.reply_id, ctx.code, ctx.enhanced) == (match.reply_id, 535, "5.7.8")
    assert ctx.provider == "gmail" and ctx.client == "outlook"
    walked = await conv.still_failing(kb, store, KEY)
    assert walked.kind is TurnKind.NEXT_STEP


async def test_fixed_resolves_once_and_a_new_question_reopens(
    kb: KnowledgeBase, store: Store
) -> None:
    """ "That fixed it" resolves (once), timing is kept; a new question starts afresh."""
    await conv.respond(kb, store, KEY, "I use Gmail", now=1000.0)
    await conv.respond(kb, store, KEY, "how do I create an app password?", now=1010.0)
    done = await conv.fixed(kb, store, KEY, now=1090.0)
    assert done.kind is TurnKind.RESOLVED and not done.repeat
    assert done.context.resolved and done.context.time_to_resolution == 90.0
    again = await conv.fixed(kb, store, KEY, now=2000.0)
    assert again.repeat and again.context.resolved_at == 1090.0
    reopened = await conv.respond(kb, store, KEY, "which port should I use?", now=3000.0)
    assert not reopened.context.resolved
    assert reopened.context.provider == "gmail"
    assert reopened.context.started_at == 3000.0
    assert reopened.context.seen == ("ports-and-encryption",)


# -- FAQ -------------------------------------------------------------------------------


def test_common_questions_follow_the_content(kb: KnowledgeBase) -> None:
    """The FAQ lists the most linked-to articles, each with a question that fits a button."""
    questions = conv.common_questions(kb, n=8)
    assert len(questions) == 8
    ids = [article_id for article_id, _ in questions]
    assert len(set(ids)) == 8 and all(i in kb.articles for i in ids)
    central: Counter[str] = Counter(r for a in kb.articles.values() for r in a.related)
    central.update(p.articles[0] for p in kb.replies if p.articles)
    assert central[ids[0]] == max(central.values())
    assert [central[i] for i in ids] == sorted((central[i] for i in ids), reverse=True)
    for article_id, text in questions:
        assert 0 < len(text) <= MAX_QUESTION
        assert text.endswith("?")
        assert text == kb.faq[article_id].question  # written as data, not generated
    assert conv.common_questions(kb, n=0) == []
    assert len(conv.common_questions(kb, n=10_000)) == conv.FAQ_LIMIT


async def test_faq_answer_offers_the_natural_next_question(kb: KnowledgeBase, store: Store) -> None:
    """A common question's answer offers a related article's question, never one already seen."""
    first_id = conv.common_questions(kb, n=1)[0][0]
    turn = await conv.choose(kb, store, KEY, first_id, faq=True)
    assert turn.kind is TurnKind.FAQ
    assert turn.article is not None and turn.article.id == first_id
    assert turn.step is not None and turn.step.index == 0
    nxt = turn.next_question
    assert nxt is not None and nxt.article_id in kb.articles[first_id].related
    assert nxt == conv.faq_question(kb, kb.articles[nxt.article_id])
    second = await conv.choose(kb, store, KEY, nxt.article_id, faq=True)
    assert second.next_question is not None
    assert second.next_question.article_id not in {first_id, nxt.article_id}


async def test_unknown_article_is_input_error(kb: KnowledgeBase, store: Store) -> None:
    """A tampered button value naming no article is refused as input, not a crash."""
    with pytest.raises(InputError):
        await conv.choose(kb, store, KEY, "no-such-article")
    with pytest.raises(InputError):
        await conv.choose(kb, store, KEY, "x" * 500, faq=True)


# -- detection -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "provider", "client"),
    [
        ("I use Gmail", "gmail", None),
        ("my address is bob@gmail.com", "gmail", None),
        ("we are on office 365", "microsoft365", None),
        ("o365 keeps failing", "microsoft365", None),
        ("my outlook.com account", "outlook-com", None),
        ("hotmail", "outlook-com", None),
        ("I use Outlook", None, "outlook"),
        ("outlook with my gmail account", "gmail", "outlook"),
        ("I use Thunderbird", None, "thunderbird"),
        ("it fails on my iphone", None, "ios-mail"),
        ("my mail is at zohomail.eu", "zoho-eu", None),
        ("I set smtp.office365.com as server", "microsoft365", None),
        ("we're in Germany", None, None),
        ("mail to me@t-online.de bounces", "t-online.de", None),
        ("securesmtp.t-online.de says 535 authentication failed", "t-online.de", None),
        ("my address is bob@bigpond.com", "bigpond.com", None),
    ],
)
def test_learn_detects_provider_and_client(
    kb: KnowledgeBase, text: str, provider: str | None, client: str | None
) -> None:
    """Providers come from names, aliases, domains and hosts; clients from their aliases."""
    context = learn(kb, text, ThreadContext())
    assert (context.provider, context.client) == (provider, client)


def test_learn_keeps_what_a_message_does_not_say(kb: KnowledgeBase) -> None:
    """A message without a provider keeps the known one; a new one replaces it."""
    known = ThreadContext(provider="gmail", client="thunderbird")
    assert learn(kb, "which port should I use", known) == known
    switched = learn(kb, "we moved to yahoo", known)
    assert (switched.provider, switched.client) == ("yahoo", "thunderbird")


# -- bounds and persistence ------------------------------------------------------------


def test_context_round_trips_and_stays_small() -> None:
    """to_dict/from_dict round-trip; the JSON stays small; junk fields are dropped."""
    full = ThreadContext(
        provider="google-workspace",
        client="outlook-mobile",
        email="a" * 60 + "@" + "b" * 180 + ".com",
        reply_id="m365-smtp-client-auth-disabled",
        code=535,
        enhanced="5.7.139",
        article="enable-smtp-auth-in-client",
        step=4,
        variant="google-workspace",
        stage=ThreadStage.RELATED,
        steps_done=9,
        candidates=tuple(f"article-number-{i:02d}" for i in range(MAX_CANDIDATES)),
        shown=3,
        seen=tuple(f"article-number-{i:02d}" for i in range(MAX_SEEN)),
        resolved=True,
        started_at=1_700_000_000.123,
        resolved_at=1_700_000_090.5,
    )
    data = full.to_dict()
    assert ThreadContext.from_dict(json.loads(json.dumps(data))) == full
    assert len(json.dumps(data)) < 2048
    assert ThreadContext.from_dict(ThreadContext().to_dict()) == ThreadContext()
    junk = {
        "provider": 5,
        "client": "x" * 1000,
        "step": -1,
        "code": True,
        "stage": "nowhere",
        "candidates": ["ok", 3, "y" * 500] + ["more"] * 50,
        "resolved": "yes",
        "started_at": float("nan"),
    }
    parsed = ThreadContext.from_dict(junk)
    assert parsed.provider is None and parsed.client is None and parsed.step == 0
    assert parsed.code is None and parsed.stage is ThreadStage.STEPS and not parsed.resolved
    assert parsed.candidates == ("ok", *["more"] * (MAX_CANDIDATES - 1))
    assert parsed.started_at is None
    assert ThreadContext.from_dict(None) == ThreadContext()


async def test_huge_message_is_bounded(kb: KnowledgeBase, store: Store) -> None:
    """A very long message is cut before work; the turn's texts fit Slack blocks."""
    text = "\n".join([GMAIL_535, *["> a quoted line of a very long bounce"] * 20_000])
    turn = await conv.respond(kb, store, KEY, text)
    assert turn.kind is TurnKind.EXPLANATION and turn.article is not None
    assert len(turn.article.summary) <= MAX_SUMMARY
    assert turn.step is not None and len(turn.step.text) <= MAX_STEP
    state = await store.get_thread(KEY)
    assert len(json.dumps(state)) < 2048


async def test_thread_state_shares_the_store_and_keeps_no_message_text(
    kb: KnowledgeBase, store: Store
) -> None:
    """Our document lives under one field (others' fields survive) and holds no typed text."""
    canary = "Canary-Pw-7f3a9c"
    await store.update_thread(KEY, {"probe_check": "c1"})
    await conv.respond(kb, store, KEY, f"my smtp password {canary} is not accepted on gmail")
    state = await store.get_thread(KEY)
    assert state["probe_check"] == "c1"
    assert set(state) == {"probe_check", STATE_FIELD}
    assert canary.lower() not in json.dumps(state).lower()


async def test_bad_thread_key_is_input_error(kb: KnowledgeBase, store: Store) -> None:
    """An empty or oversized thread key is refused before it reaches the store."""
    with pytest.raises(InputError):
        await conv.respond(kb, store, "", "hello")
    with pytest.raises(InputError):
        await conv.still_failing(kb, store, "k" * 1000)
    with pytest.raises(InputError):
        await conv.fixed(kb, store, "C1 1700000000.1")


@pytest.fixture
async def redis_namespace() -> AsyncIterator[str]:
    """A unique Redis namespace, dropped afterwards (skips without Redis unless CI=true)."""
    require_redis()
    namespace = f"test-conv-{uuid.uuid4().hex}"
    yield namespace
    await drop_namespace(namespace)


async def test_context_survives_a_restart_on_redis(kb: KnowledgeBase, redis_namespace: str) -> None:
    """New store objects over the same Redis continue the thread where it was."""
    first = RedisStore(redis_client(), namespace=redis_namespace)
    try:
        await conv.respond(kb, first, KEY, "how do I create an app password?")
        await conv.respond(kb, first, KEY, "I use Gmail")
        await conv.still_failing(kb, first, KEY)
    finally:
        await first.close()

    second = RedisStore(redis_client(), namespace=redis_namespace)
    try:
        turn = await conv.still_failing(kb, second, KEY)
        gmail = kb.articles["app-passwords"].variants["gmail"]
        assert turn.kind is TurnKind.NEXT_STEP
        assert step_texts(turn) == (gmail[2], 2, len(gmail))
        follow = await conv.respond(kb, second, KEY, "how do I reset my email password?")
        assert follow.variant is not None and follow.variant.id == "gmail"
    finally:
        await second.close()
