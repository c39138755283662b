"""One whole article as a modal: what "Read more", "Also see" and "Show all steps" open."""

from __future__ import annotations

from typing import Any, Final

from bot import messages
from handlers.blocks import kit
from knowledge import Article

ACTION_OPEN: Final = "article_open"
ARTICLE_CALLBACK: Final = "article_view"
MODAL_TITLE_MAX: Final = 24


def open_button(article_id: str, label: str) -> kit.Block:
    """A button that opens ``article_id`` in a modal (anyone may read an article)."""
    return kit.button(ACTION_OPEN, label, article_id)


def article_modal(article: Article, *, steps: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Title, summary, every step (``steps``: a variant's), and what to read next."""
    shown = steps if steps is not None else article.steps
    lines = [f"{i}. {kit.escape(step)}" for i, step in enumerate(shown, 1)]
    body: list[kit.Block] = [
        {"type": "header", "text": kit.plain_text(kit.clip(article.title, kit.HEADER_MAX))},
        kit.section(kit.escape(article.summary)),
    ]
    if lines:
        body.append(kit.section(messages.ANSWER_STEPS_TITLE))
        body += [kit.section(chunk) for chunk in kit.chunks(lines, kit.SECTION_MAX)]
    return {
        "type": "modal",
        "callback_id": ARTICLE_CALLBACK,
        "title": kit.plain_text(messages.ARTICLE_TITLE[:MODAL_TITLE_MAX]),
        "close": kit.plain_text(messages.ARTICLE_CLOSE),
        "blocks": body[: kit.MODAL_BLOCKS_MAX],
    }
