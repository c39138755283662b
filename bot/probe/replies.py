"""Server text is data: bound it, strip what a terminal or chat renderer could interpret.

Pure functions, no I/O. Every string that came from the server (reply text,
certificate names, garbage bytes) passes through ``clean_text`` before it is
stored in a report, shown in a transcript or put in a detail.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Final

from bot.probe.model import Reply

MAX_REPLY_TEXT: Final = 512
MAX_LINE: Final = 200  # one transcript line of server text
_ELLIPSIS: Final = "…"
# Control, format (bidi overrides, zero-width), surrogate and private-use characters.
_DROPPED: Final = frozenset({"Cc", "Cf", "Cs", "Co"})
# RFC 3463 enhanced status code at the start of a reply line: class.subject.detail.
_ENHANCED: Final = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})(?=\s|$)")


def clean_text(raw: str, *, max_chars: int = MAX_REPLY_TEXT) -> str:
    """``raw`` without control or format characters, whitespace runs collapsed, at most
    ``max_chars`` long.

    Format characters (Unicode category Cf: bidi overrides, zero-width joiners)
    go too: they can make displayed text read differently from what it is.
    Lone surrogates (undecodable bytes, kept by aiosmtplib's surrogateescape)
    become U+FFFD.
    """
    text = raw[: max_chars * 4]
    if text.isascii() and text.isprintable():  # the common case: no per-character pass
        # Printable ASCII has no whitespace but the space: with no run of spaces and none
        # at either end, collapsing would change nothing.
        if len(text) <= max_chars and "  " not in text and text[:1] != " " != text[-1:]:
            return text
    else:
        text = text.encode("utf-8", "replace").decode("utf-8")
        text = "".join(
            " " if ch.isspace() else ch
            for ch in text
            if ch.isspace() or unicodedata.category(ch) not in _DROPPED
        )
    collapsed = " ".join(text.split())
    if len(collapsed) > max_chars:
        return collapsed[: max_chars - 1] + _ELLIPSIS
    return collapsed


def reply_lines(message: str, *, max_chars: int = MAX_LINE) -> list[str]:
    """The lines of a (multi-line) reply message, each cleaned and bounded."""
    return [
        line  # clean_text's own shortcut, without the call: most reply lines are clean
        if len(line) <= max_chars
        and line.isascii()
        and line.isprintable()
        and "  " not in line
        and line[:1] != " " != line[-1:]
        else clean_text(line, max_chars=max_chars)
        for line in message.split("\n")
    ]


def parse_reply(code: int, message: str, secrets: Sequence[str] = ()) -> Reply:
    """A ``Reply`` from aiosmtplib's ``(code, message)``: enhanced code split off, text bounded.

    The enhanced code is taken from the first line; the same code repeated at
    the start of later lines (``535-5.7.8 ...`` / ``535 5.7.8 ...``) is removed so
    the text reads as one sentence.
    """
    return reply_from_lines(code, reply_lines(scrub(message, secrets)), secrets)


def reply_from_lines(code: int, lines: Sequence[str], secrets: Sequence[str] = ()) -> Reply:
    """``parse_reply`` for a message already split by ``reply_lines`` (the transcript has
    cleaned them: ``session.TappedSMTP.reply`` hands its lines on instead of cleaning twice)."""
    enhanced: str | None = None
    if lines and (match := _ENHANCED.match(lines[0])):
        enhanced = match.group(0)
        lines = [_drop_prefix(line, enhanced) for line in lines]
    joined = lines[0] if len(lines) == 1 else " ".join(line for line in lines if line)
    text = clean_text(joined)
    return Reply(code=code, enhanced=enhanced, text=scrub(text, secrets) if secrets else text)


def _drop_prefix(line: str, enhanced: str) -> str:
    if line == enhanced:
        return ""
    if line.startswith(enhanced + " "):
        return line[len(enhanced) + 1 :].lstrip()
    return line


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of each secret form replaced.

    A hostile server could echo what it was sent (the AUTH blob, the password)
    back in its reply; that reply must not carry it into a report.
    """
    for form in secrets:
        if form and form in text:
            text = text.replace(form, "[removed]")
    return text


def format_reply(reply: Reply) -> str:
    """``535 5.7.8 text`` on one line, for details and human output."""
    enhanced, text = reply.enhanced, reply.text
    if enhanced and text:  # the common case, without a generator
        return f"{reply.code} {enhanced} {text}"
    return " ".join([part for part in (str(reply.code), enhanced, text) if part])


def keywords(names: Iterable[str], limit: int) -> tuple[str, ...]:
    """EHLO keywords or AUTH mechanisms as shown: upper case, cleaned, at most 30
    characters, the first ``limit``. A plain token (ASCII letters and digits) is clean
    already: no ``clean_text`` pass for it."""
    return tuple(
        [
            name.upper()
            if len(name) <= 30 and name.isascii() and name.isalnum()
            else clean_text(name.upper(), max_chars=30)
            for name in names
        ][:limit]
    )
