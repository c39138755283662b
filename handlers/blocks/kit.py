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
