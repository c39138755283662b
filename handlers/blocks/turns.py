"""Conversation turns rendered for Slack (pure: a ``Turn`` in, text and blocks out).

``bot.conversation`` decides what to say as data; this module words it (with
``bot.messages``) and lays it out. Buttons carry only the thread key and, where a
button opens an article, the article id: never text the user typed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Final

from bot import messages
from bot.conversation.turns import Offer, Question, Turn, TurnKind
from bot.redaction import redact_credentials
from handlers.blocks import article, kit
from handlers.blocks.kit import (
    FALLBACK_TEXT_MAX,
    MESSAGE_BLOCKS_MAX,
    SECTION_MAX,
    Block,
    chunks,
    clip,
    context,
    escape,
    section,
)
from knowledge import Match
from knowledge.model import ArticleRef

ACTION_PREFIX: Final = "help_"
OFFER_ACTIONS: Final = {offer: f"{ACTION_PREFIX}{offer.value}" for offer in Offer}
# Several article buttons sit in one block and action ids must be unique there, so
# each gets a numbered id; the listeners match the prefix.
ACTION_CHOOSE: Final = "help_choose"
ACTION_FAQ: Final = "help_faq"
ACTION_FAQ_PAGE: Final = "help_questions_page"  # turns the common questions page
ACTION_EXPLAIN_MORE: Final = "help_explain_more"
TRIAGE_LINE_MAX: Final = 200  # the short reply's one line of what to try
TRIAGE_QUOTE_MAX: Final = 160  # the quoted reply line: enough to recognise it, one line
TRIAGE_LEAD_MAX: Final = 40  # text before the code kept in the quote ("my app says: ")
SEPARATOR: Final = "|"  # thread key and article id in one button value


def button_value(thread_key: str | None, article_id: str | None = None) -> str:
    """``key`` or ``key|article`` (an empty key: no thread yet, e.g. from App Home)."""
    value = thread_key or ""
    if article_id is not None:
        value += SEPARATOR + article_id
    return value[: kit.BUTTON_VALUE_MAX]


def parse_value(value: str) -> tuple[str | None, str | None]:
    """The thread key (None when empty) and article id (None when absent) of a button."""
    key, sep, article = value.partition(SEPARATOR)
    return (key or None), (article if sep and article else None)


def feedback(article_id: str | None, token: str | None = None) -> Block:
    """Helpful / Not helpful; ``token`` for an answer outside a thread."""
    return kit.feedback_block(
        article_id, helpful=messages.HELPFUL, not_helpful=messages.NOT_HELPFUL, token=token
    )


def offers_block(thread_key: str, offers: Sequence[Offer]) -> Block:
    buttons = [
        kit.button(
            OFFER_ACTIONS[offer],
            messages.OFFER_LABELS[offer.value],
            button_value(thread_key),
            primary=offer is Offer.FIXED,
        )
        for offer in offers
    ]
    return {"type": "actions", "block_id": "help-offers", "elements": buttons}


def articles_block(
    thread_key: str | None, articles: Sequence[tuple[str, str]], *, faq: bool, block_id: str
) -> Block:
    """One button per (article id, label); ``faq`` buttons ask the common question."""
    prefix = ACTION_FAQ if faq else ACTION_CHOOSE
    buttons = [
        kit.button(f"{prefix}_{i}", label, button_value(thread_key, article_id))
        for i, (article_id, label) in enumerate(articles[:25])
    ]
    return {"type": "actions", "block_id": block_id, "elements": buttons}


def pages_of(total: int, size: int) -> int:
    """How many pages of ``size`` a list of ``total`` items fills (at least one)."""
    return max(1, -(-total // max(1, size)))


def page_button(action_id: str, thread_key: str | None, page: int, pages: int) -> Block:
    """ "Next questions" (or, on the last page, back to the first): one button that walks
    the pages, so a page never needs more than one of the message's three buttons."""
    target = (page + 1) % pages
    label = messages.FAQ_NEXT if target else messages.FAQ_FIRST
    return kit.button(action_id, label, button_value(thread_key, str(target)))


def faq_blocks(
    thread_key: str | None,
    questions: Sequence[tuple[str, str]],
    *,
    page: int = 0,
    pages: int = 1,
) -> list[Block]:
    """One page of the "Common questions": the first questions as buttons, the rest of
    the page in a menu, and "Next questions" when there are more pages."""
    title = messages.COMMON_QUESTIONS
    nav = []
    if pages > 1:
        title += " " + messages.FAQ_PAGE_OF.format(page=page + 1, pages=pages)
        nav = [page_button(ACTION_FAQ_PAGE, thread_key, page, pages)]
    body = [
        kit.section(title),
        articles_block(thread_key, questions, faq=True, block_id="help-faq"),
    ]
    keep = kit.BUTTONS_SHOWN - len(nav)
    body = kit.compact_buttons(body, label=messages.MORE_QUESTIONS, keep=keep)
    if nav:
        body.append({"type": "actions", "block_id": "help-faq-pages", "elements": nav})
    return body


def greeting(
    thread_key: str | None,
    questions: Sequence[tuple[str, str]],
    *,
    pages: int = 1,
) -> tuple[str, list[Block]]:
    """The greeting and the first page of the common questions (the pages walk on in
    place, as ``faq_blocks``)."""
    return messages.GREETING, [
        kit.section(messages.GREETING),
        *faq_blocks(thread_key, questions, pages=pages)[1:],
    ]


def _code(match: Match) -> str:
    return " ".join(str(p) for p in (match.code, match.enhanced) if p) or "?"


def _matches(matches: Sequence[Match]) -> list[Block]:
    return [
        kit.section(
            messages.TURN_ERROR.format(code=_code(m), cause=kit.escape(m.cause))
            + ("\n" + kit.code(m.excerpt) if m.excerpt else "")
        )
        for m in matches
    ]


def _article(turn: Turn, *, with_summary: bool) -> list[Block]:
    out: list[Block] = []
    if turn.article is not None:
        head = f"*{kit.escape(turn.article.title)}*"
        if with_summary:
            head += "\n" + kit.escape(turn.article.summary)
        out.append(kit.section(head))
    if turn.variant is not None:
        out.append(kit.context(messages.TURN_VARIANT.format(name=kit.escape(turn.variant.name))))
    if turn.step is not None:
        out.append(
            kit.section(
                messages.TURN_STEP.format(
                    number=turn.step.number,
                    total=turn.step.total,
                    text=kit.escape(turn.step.text),
                )
            )
        )
    return out


def _refs(refs: Sequence[ArticleRef]) -> list[tuple[str, str]]:
    return [(ref.id, ref.title) for ref in refs]


def _next_question(thread_key: str, question: Question | None) -> list[Block]:
    if question is None:
        return []
    return [
        kit.context(messages.TURN_NEXT_QUESTION),
        articles_block(
            thread_key, [(question.article_id, question.text)], faq=True, block_id="help-next"
        ),
    ]


def _body(turn: Turn, thread_key: str, faq: Sequence[tuple[str, str]]) -> tuple[str, list[Block]]:
    kind = turn.kind
    if kind in (TurnKind.ANSWER, TurnKind.FAQ, TurnKind.EXPLANATION, TurnKind.NEXT_STEP):
        body = _matches(turn.matches) if kind is TurnKind.EXPLANATION else []
        if kind is TurnKind.EXPLANATION and turn.article is None:
            body.append(kit.section(messages.TURN_ERROR_NO_ARTICLE))
        body += _article(turn, with_summary=kind is not TurnKind.NEXT_STEP)
        body += _next_question(thread_key, turn.next_question)
        title = turn.article.title if turn.article else messages.TURN_ERROR_NO_ARTICLE
        step = f" {turn.step.text}" if turn.step else ""
        return f"{title}:{step}", body
    if kind is TurnKind.LOW_CONFIDENCE:
        if turn.candidates:
            return messages.TURN_LOW_CONFIDENCE, [
                kit.section(messages.TURN_LOW_CONFIDENCE),
                articles_block(thread_key, _refs(turn.candidates), faq=False, block_id="help-pick"),
            ]
        return messages.TURN_NOTHING_FOUND, [
            kit.section(messages.TURN_NOTHING_FOUND),
            articles_block(thread_key, faq, faq=True, block_id="help-faq"),
        ]
    if kind in (TurnKind.RELATED, TurnKind.CANDIDATES, TurnKind.NOTED):
        if kind is TurnKind.RELATED:
            title = turn.article.title if turn.article else ""
            text = messages.TURN_RELATED.format(title=kit.escape(title))
        elif kind is TurnKind.CANDIDATES:
            text = messages.TURN_CANDIDATES
        elif turn.variant is not None:
            text = messages.TURN_NOTED.format(name=kit.escape(turn.variant.name))
        else:
            text = messages.TURN_NOTED_PLAIN
        body = [kit.section(text)]
        if turn.candidates:
            body.append(
                articles_block(thread_key, _refs(turn.candidates), faq=False, block_id="help-pick")
            )
        return text, body
    if kind is TurnKind.RESOLVED:
        text = messages.TURN_RESOLVED_AGAIN if turn.repeat else messages.TURN_RESOLVED
        return text, [kit.section(text)]
    return messages.TURN_HUMAN, [kit.section(messages.TURN_HUMAN)]


def render_turn(
    turn: Turn, thread_key: str, *, faq: Sequence[tuple[str, str]] = ()
) -> tuple[str, list[Block]]:
    """Fallback text and blocks for one turn; ``faq`` is shown when nothing matched."""
    text, body = _body(turn, thread_key, faq)
    if turn.offers:
        body.append(offers_block(thread_key, turn.offers))
    if turn.article is not None or turn.kind is TurnKind.LOW_CONFIDENCE:
        body.append(feedback(turn.article.id if turn.article else None))
    body = kit.compact_buttons(body, label=messages.MORE_OPTIONS)
    return kit.clip(text, kit.FALLBACK_TEXT_MAX), body[: kit.MESSAGE_BLOCKS_MAX]


def walkthrough_message(title: str, steps: Sequence[str]) -> tuple[str, list[Block]]:
    """Thread reply with an article's steps, numbered."""
    head = messages.WALKTHROUGH_TITLE.format(title=escape(title))
    lines = [f"{i}. {escape(step)}" for i, step in enumerate(steps, 1)]
    blocks = [section(head)] + [section(chunk) for chunk in chunks(lines, SECTION_MAX)]
    return clip(title, FALLBACK_TEXT_MAX), blocks[:MESSAGE_BLOCKS_MAX]


ANSWER_SHOWN_STEPS: Final = 3  # a first answer fits one screen


def answer_message(
    title: str,
    summary: str,
    steps: Sequence[str],
    *,
    unsure: bool,
    article_id: str,
    more: Iterable[tuple[str, str]] = (),
    token: str | None = None,
) -> tuple[str, list[Block]]:
    """A knowledge answer: the best article's summary and first three steps, "Show all
    steps" and "Also see" as buttons that open the articles; ``token`` names its
    question for a "Not helpful" vote (an ephemeral answer has no thread)."""
    blocks: list[Block] = []
    if unsure:
        blocks.append(context(messages.UNSURE_ANSWER))
    blocks.append(section(f"*{escape(title)}*\n{escape(summary)}"))
    shown = steps[:ANSWER_SHOWN_STEPS]
    if shown:
        lines = [f"{i}. {escape(step)}" for i, step in enumerate(shown, 1)]
        blocks.append(section(messages.ANSWER_STEPS_TITLE))
        blocks += [section(chunk) for chunk in chunks(lines, SECTION_MAX)]
    # "Show all steps" goes with the steps, above "Also see:", which heads only the others.
    rows: list[tuple[str, list[Block]]] = []
    if len(steps) > len(shown):
        label = messages.SHOW_ALL_STEPS.format(total=len(steps))
        rows.append(("answer-steps", [article.open_button(article_id, label)]))
    others = list(more)
    if others:
        rows.append(("answer-articles", [article.open_button(i, t) for i, t in others]))
    opened = 0
    for block_id, buttons in rows:
        if block_id == "answer-articles":
            blocks.append(context(messages.ANSWER_MORE))
        # Every button opens an article: one action id each, numbered across the message.
        for button in buttons:
            button["action_id"] = f"{article.ACTION_OPEN}_{opened}"
            opened += 1
        blocks.append({"type": "actions", "block_id": block_id, "elements": buttons})
    blocks = kit.compact_buttons(blocks, label=messages.MORE_OPTIONS)
    blocks.append(feedback(article_id, token))
    return clip(f"{title}: {summary}", FALLBACK_TEXT_MAX), blocks[:MESSAGE_BLOCKS_MAX]


def reply_line(pasted: str, match: Match) -> str:
    """The line of ``pasted`` the error was recognised in, as the person pasted it (the
    match's excerpt is normalised: code first, continuation dashes dropped). A line
    that is long before the code starts at the code."""
    lines = [" ".join(line.split()) for line in pasted.splitlines() if line.strip()]
    for needle in (match.enhanced, str(match.code) if match.code else None):
        if not needle:
            continue
        found = re.compile(rf"(?<![\d.]){re.escape(needle)}(?![\d])")
        for line in lines:
            hit = found.search(line)
            if hit is not None:
                start = max(0, hit.start() - len(str(match.code or "")) - 1)
                return line if start <= TRIAGE_LEAD_MAX else "…" + line[start:].lstrip()
    return " ".join(match.excerpt.split())


def triage_quote(pasted: str, match: Match) -> str:
    """The error as Slack should show it: the reply line, credentials redacted, clipped
    to one short line, in a code span (no links, no mentions)."""
    line = redact_credentials(reply_line(pasted, match)).text
    return kit.code(kit.clip(line, TRIAGE_QUOTE_MAX)) if line else kit.code(_code(match))


def triage_message(turn: Turn, thread_key: str, pasted: str = "") -> tuple[str, list[Block]]:
    """The unsolicited reply in a triage channel: the error quoted (its line in the
    already redacted ``pasted`` text) and its cause, the
    first thing to try in one more line, and "Explain more" (the whole answer, on
    request); "That fixed it" only when the poster can apply the fix themselves."""
    match = turn.matches[0] if turn.matches else None
    cause = kit.clip(match.cause, kit.REPLY_SHOWN_MAX) if match else ""
    code = _code(match) if match else "?"
    quote = triage_quote(pasted, match) if match else kit.code(code)
    body: list[Block] = [
        kit.section(messages.TRIAGE_HEAD.format(quote=quote, cause=kit.escape(cause)))
    ]
    if turn.step is not None:
        step = kit.clip(turn.step.text, TRIAGE_LINE_MAX)
        body.append(kit.context(messages.TRIAGE_TRY.format(step=kit.escape(step))))
    article = turn.article.id if turn.article else None
    buttons = [
        kit.button(ACTION_EXPLAIN_MORE, messages.EXPLAIN_MORE, button_value(thread_key, article))
    ]
    if Offer.FIXED in turn.offers:  # left out by the engine when an admin must fix it
        buttons.append(
            kit.button(
                OFFER_ACTIONS[Offer.FIXED], messages.OFFER_LABELS["fixed"], button_value(thread_key)
            )
        )
    body.append({"type": "actions", "block_id": "help-triage", "elements": buttons})
    body.append(feedback(article))
    text = messages.TRIAGE_TEXT.format(code=kit.escape(code), cause=kit.escape(cause))
    return kit.clip(text, FALLBACK_TEXT_MAX), body
