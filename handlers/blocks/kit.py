"""Block Kit primitives and Slack's limits, shared by every builder in ``handlers.blocks``.

Every piece of text that came from a server, a user or the knowledge base goes
through ``escape`` (mrkdwn control characters) and ``clip`` (Slack's limits), so
a banner cannot ping ``<!channel>``, plant a link, or overflow a block.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

Block = dict[str, Any]


# Slack's limits (REFERENCE.md, "Slack platform facts").
SECTION_MAX: Final = 3000
HEADER_MAX: Final = 150
BUTTON_TEXT_MAX: Final = 75
BUTTON_VALUE_MAX: Final = 2000
MESSAGE_BLOCKS_MAX: Final = 50
MODAL_BLOCKS_MAX: Final = 100
METADATA_MAX: Final = 3000
FALLBACK_TEXT_MAX: Final = 3000
REPLY_SHOWN_MAX: Final = 300  # a server reply is evidence, not an essay

_ESCAPES: Final = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


def escape(text: str) -> str:
    """Make ``text`` inert in mrkdwn: no mentions, no links, no channel pings."""
    return text.translate(_ESCAPES)


def clip(text: str, limit: int) -> str:
    """Shorten ``text`` to ``limit`` characters, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def code(text: str) -> str:
    """Server text shown verbatim as inline code; backticks cannot end the span early."""
    return "`" + escape(clip(text, REPLY_SHOWN_MAX)).replace("`", "'") + "`"


def spanned(text: str, values: Sequence[str]) -> str:
    """``text`` escaped, with every occurrence of the server- or user-controlled
    ``values`` (host names, mechanism names) in a code span, where Slack neither links
    nor formats it. Longest values first, so "PLAIN, LOGIN" wins over "PLAIN"."""
    wanted = sorted({v for v in values if v}, key=len, reverse=True)
    if not wanted:
        return escape(text)
    pattern = re.compile("|".join(re.escape(v) for v in wanted))
    out, last = [], 0
    for match in pattern.finditer(text):
        out += [escape(text[last : match.start()]), code(match.group(0))]
        last = match.end()
    out.append(escape(text[last:]))
    return "".join(out)


def section(text: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, SECTION_MAX)}}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, SECTION_MAX)}]}


def button(action_id: str, label: str, value: str | None = None, *, primary: bool = False) -> Block:
    """A button, label and value clipped to Slack's limits."""
    out: Block = {
        "type": "button",
        "action_id": action_id,
        "text": plain_text(clip(label, BUTTON_TEXT_MAX)),
    }
    if value is not None:
        out["value"] = value[:BUTTON_VALUE_MAX]
    if primary:
        out["style"] = "primary"
    return out


def target(host: str, port: int) -> str:
    """``host:port`` with IPv6 literals bracketed."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def chunks(lines: Sequence[str], limit: int) -> list[str]:
    """Join lines into texts of at most ``limit`` characters (a line is clipped if alone
    it is too long)."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        line = clip(line, limit)
        if current and len(current) + 1 + len(line) > limit:
            chunks.append(current)
            current = line
        else:
            current = f"{current}\n{line}" if current else line
    if current:
        chunks.append(current)
    return chunks


def plain_text(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


# -- at most three buttons a message ---------------------------------------------
BUTTONS_SHOWN: Final = 3  # more buttons than this make a message hard to scan
OVERFLOW_MAX: Final = 5  # Slack's overflow menu holds 2-5 options; a select holds more
OPTION_VALUE_MAX: Final = 150
ACTION_MORE: Final = "more_menu"
MENU_SEPARATOR: Final = "#"  # action id and button value in one option value


def menu_value(action_id: str, value: str) -> str:
    return f"{action_id}{MENU_SEPARATOR}{value}"[:OPTION_VALUE_MAX]


def parse_menu_value(value: str) -> tuple[str, str]:
    """(action id, button value) of a "More" option."""
    action_id, _, rest = value.partition(MENU_SEPARATOR)
    return action_id, rest


def compact_buttons(body: list[Block], *, label: str, keep: int = BUTTONS_SHOWN) -> list[Block]:
    """``body`` with at most ``keep`` buttons; the others become options of one "More"
    menu (an overflow menu, or a select when there are more than five) at the end."""
    total = sum(
        e.get("type") == "button" for b in body if b.get("type") == "actions" for e in b["elements"]
    )
    if total <= keep:
        return body
    keep = keep - 1 if total - keep == 1 else keep  # an overflow needs two options
    shown = 0
    rest: list[Block] = []
    out: list[Block] = []
    for block in body:
        if block.get("type") != "actions":
            out.append(block)
            continue
        kept = []
        for element in block["elements"]:
            if element.get("type") == "button":
                if shown >= keep:
                    rest.append(element)
                    continue
                shown += 1
            kept.append(element)
        if kept:
            out.append({**block, "elements": kept})
    options = [
        {
            "text": plain_text(clip(e["text"]["text"], BUTTON_TEXT_MAX)),
            "value": menu_value(e["action_id"], str(e.get("value", ""))),
        }
        for e in rest[:100]
    ]
    menu: Block = (
        {"type": "overflow", "action_id": ACTION_MORE, "options": options}
        if len(options) <= OVERFLOW_MAX
        else {
            "type": "static_select",
            "action_id": ACTION_MORE,
            "placeholder": plain_text(clip(label, BUTTON_TEXT_MAX)),
            "options": options,
        }
    )
    last = next((b for b in reversed(out) if b.get("type") == "actions"), None)
    if last is not None and len(last["elements"]) < 25:
        last["elements"] = [*last["elements"], menu]
    else:
        out.append({"type": "actions", "block_id": "more", "elements": [menu]})
    return out


# -- Helpful / Not helpful ----------------------------------------------------------
ACTION_FEEDBACK: Final = "answer_feedback"
VOTE_UP: Final = "up"
VOTE_DOWN: Final = "down"


def feedback_value(vote: str, article_id: str | None, token: str | None = None) -> str:
    """``vote[#article[#token]]``: the token (last, never clipped) names the question of
    an answer that has no thread (``bot.helpdesk.feedback.remember_answered``)."""
    tail = f"{MENU_SEPARATOR}{token}" if token else ""
    room = OPTION_VALUE_MAX - len(vote) - len(tail) - len(MENU_SEPARATOR)
    middle = f"{MENU_SEPARATOR}{(article_id or '')[: max(room, 0)]}" if article_id or tail else ""
    return f"{vote}{middle}{tail}"[:OPTION_VALUE_MAX]


def parse_feedback_value(value: str) -> tuple[str, str | None, str | None]:
    """(vote, article id, token) of a feedback button (None where absent)."""
    vote, _, rest = value.partition(MENU_SEPARATOR)
    article, _, token = rest.partition(MENU_SEPARATOR)
    return vote, article or None, token or None


def has_feedback(body: list[Block]) -> bool:
    """Whether a message carries Helpful / Not helpful."""
    return any(b.get("type") == "context_actions" for b in body)


def feedback_block(
    article_id: str | None, *, helpful: str, not_helpful: str, token: str | None = None
) -> Block:
    """Slack's native thumbs (``feedback_buttons`` in a ``context_actions`` block): they
    sit under the answer without counting as one of its buttons. ``token`` names the
    question of an answer outside a thread (kept in the store, never in the button)."""

    def side(vote: str, label: str) -> Block:
        return {
            "text": plain_text(label),
            "value": feedback_value(vote, article_id, token),
            "accessibility_label": label,
        }

    return {
        "type": "context_actions",
        "elements": [
            {
                "type": "feedback_buttons",
                "action_id": ACTION_FEEDBACK,
                "positive_button": side(VOTE_UP, helpful),
                "negative_button": side(VOTE_DOWN, not_helpful),
            }
        ],
    }
