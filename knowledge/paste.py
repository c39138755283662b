"""Read a paste into replies: bound it, then split it where one reply ends and the next starts.

Pasted text comes in many shapes: a raw multi-line reply (``535-5.7.8 ...`` then
``535 5.7.8 ...``), a bounce quoting the server, a client dialog, a Python
traceback (``(535, b'5.7.8 ...')``), a server log line with no code at all. This is
pure string work; ``knowledge.explain`` matches the replies against the known patterns.
A long paste is read at its beginning and its end (``bounded``): logs and traces end
with the failing reply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

MAX_INPUT: Final = 20_000  # characters read of a paste; a pasted bounce is far smaller
# Of a longer paste, its beginning (what was being done) and its end, where logs and
# traces put the failing reply: the middle is what is left out.
HEAD_READ: Final = 5_000
TAIL_READ: Final = MAX_INPUT - HEAD_READ
MAX_REPLY: Final = 2_000  # one reply's text; SMTP caps lines at 512 octets anyway
MAX_REPLIES_READ: Final = 100  # replies of one paste weighed: the first 20 and the last 80
HEAD_REPLIES: Final = 20

# A reply code starts a reply when nothing word-like sticks to its left and a
# space, a dash or the end of line follows: "535 5.7.8", "535-5.7.8", "'535 ".
REPLY_CODE: Final = re.compile(
    r"(?<![\w.:/@#=+-])(?P<code>[2-5][0-5][0-9])(?P<sep>[ \t]+|-|$)"
    r"(?:(?P<enhanced>[245]\.[0-9]{1,3}\.[0-9]{1,3})(?![0-9.]))?"
)
# A number after a setting's name is the setting, not a reply: "timeout: 300" in a config
# dump, nodemailer's "responseCode: 535" (the reply itself is in its "response" field),
# "timeout = 300", "Timeout 300", "timeout set to 300 seconds". Only a setting written with
# ":" or "=" may be followed by an enhanced code ("Connection timeout 421 4.4.2 ..." is a reply).
_ECHO_KEY: Final = re.compile(
    r"\b(?:responseCode|\w*timeout|port|size|limit|max\w*|retries|interval|delay)"
    r"[\"']?\s*(?P<set>=>|[:=]|\bset to\b|\bof\b)?\s*$",
    re.I,
)
_ENHANCED_ONLY: Final = re.compile(r"^\s*(?P<enhanced>[245]\.[0-9]{1,3}\.[0-9]{1,3})\s")
# smtplib: SMTPAuthenticationError: (535, b'5.7.8 Username ...\n5.7.8  https://...')
_PY_TUPLE: Final = re.compile(
    r"\((?P<code>[2-5][0-9]{2}),\s*b?(?P<q>['\"])(?P<body>.*?)(?P=q)\)", re.S
)
_QUOTE_PREFIX: Final = re.compile(r"^(?:\s*>)+\s?")
# A library quoting the server's reply after "=": nodemailer's "Invalid greeting.
# response=554 ...". A config echo ("port=465", "timeout=300") has no such word before it.
_RESPONSE_EQUALS: Final = re.compile(r"\b(response|reply)=(?=[2-5][0-9]{2}\b)", re.I)
# A log that escaped the reply's line breaks: JSON's "...Learn more at\\n535 5.7.8 ...",
# a browser console's "↵534-5.7.14". Only before a reply code: a path such as C:\\new stays.
_ESCAPED_BREAK: Final = re.compile(r"(?:\\r)?\\n(?=[2-5][0-9]{2}[ -])|↵")
# A mail program quoting a reply without its code: "An error occurred while sending mail.
# The mail server responded: Sender address rejected. ..." (Thunderbird's
# composeMsgs.properties). The server's words become a unit of their own, so they outrank
# the program's wrapper as a server reply does.
_SERVER_WORDS: Final = re.compile(
    r"(The (?:mail )?server responded:)[ \t]*(?![2-5][0-9]{2}[ -])(?=\S)", re.I
)
# cpython Lib/traceback.py: the texts that join the parts of a chained exception
_PY_CHAIN: Final = re.compile(
    r"^\s*(?:During handling of the above exception, another exception occurred"
    r"|The above exception was the direct cause of the following exception):?\s*$",
    re.M,
)


@dataclass(frozen=True, slots=True)
class ReplyText:
    """One reply found in pasted text (``code`` None for codeless text such as a log line)."""

    code: int | None
    enhanced: str | None
    text: str  # the reply's words, continuation lines joined with spaces
    raw: str  # the lines as pasted (quote marks removed), for patterns that span lines

    @property
    def line(self) -> str:
        head = " ".join(part for part in (str(self.code or ""), self.enhanced or "") if part)
        return f"{head} {self.text}".strip()


def _expand_python_tuples(text: str) -> str:
    """``(535, b'5.7.8 a\\n5.7.8 b')`` -> the multi-line reply ``535-5.7.8 a``, ``535 5.7.8 b``."""

    def replace(match: re.Match[str]) -> str:
        body = match["body"].replace("\\r", "").replace("\\n", "\n")
        lines = [line.strip() for line in body.split("\n") if line.strip()]
        code = match["code"]
        out = [f"{code}-{line}" for line in lines[:-1]] + [f"{code} {line}" for line in lines[-1:]]
        return "\n".join(out) + "\n"  # the text before "(535" stays as context

    return _PY_TUPLE.sub(replace, text)


def _echoed(line: str, match: re.Match[str]) -> bool:
    """Whether the number ``match`` found is a setting's value rather than a reply code."""
    echo = _ECHO_KEY.search(line[max(0, match.start() - 40) : match.start()])
    return echo is not None and (echo["set"] is not None or match["enhanced"] is None)


class _Splitter:
    """Accumulates lines into replies; a reply ends where a different one starts."""

    def __init__(self) -> None:
        self.replies: list[ReplyText] = []
        self._reset()

    def _reset(self) -> None:
        self.words: list[str] = []
        self.raw: list[str] = []
        self.code: int | None = None
        self.enhanced: str | None = None
        self.open = False  # the last coded line ended with "-": more lines follow
        self.wrapped = 0  # codeless lines appended to the current reply

    def flush(self) -> None:
        text = " ".join(word for word in self.words if word)[:MAX_REPLY].strip()
        if text or self.code is not None:
            raw = "\n".join(self.raw)[:MAX_REPLY]
            self.replies.append(ReplyText(self.code, self.enhanced, text, raw))
        self._reset()

    def coded(self, piece: str, match: re.Match[str], prefix: str, rest: str) -> None:
        code, enhanced = int(match["code"]), match["enhanced"]
        same = (
            self.code == code
            and self.open
            and (enhanced is None or self.enhanced is None or enhanced == self.enhanced)
        )
        if not same:
            self.flush()
            self.code, self.enhanced = code, enhanced
        if prefix:  # "Remote server returned '550 ...": the prefix is context
            self.words.append(prefix)
        self.open = match["sep"] == "-"
        self.enhanced = self.enhanced or enhanced
        self.words.append(rest)
        self.raw.append(piece)

    def line(self, line: str) -> None:
        found = [match for match in REPLY_CODE.finditer(line) if not _echoed(line, match)]
        if self.code is not None and self.code < 400 and not self.open and not found:
            # "250 OK", "235 2.7.0 Accepted", "334 UGFzc3dvcmQ6": a finished success or
            # intermediate reply wraps nothing; the next log line stands on its own
            self.flush()
        if found:
            if self.code is None:
                self.flush()  # codeless text before a reply is a unit of its own
            for index, match in enumerate(found):
                end = found[index + 1].start() if index + 1 < len(found) else len(line)
                begin = 0 if index == 0 else match.start()
                prefix = line[begin : match.start()].strip()
                self.coded(line[begin:end].strip(), match, prefix, line[match.end() : end].strip())
            return
        only = _ENHANCED_ONLY.match(line)
        if self.code is not None and only is not None and only["enhanced"] == self.enhanced:
            self.words.append(line[only.end() :].strip())  # smtplib drops the code on line 2
        elif self.code is not None and self.wrapped < 3:
            self.words.append(line)  # a reply wrapped by the mail client or the bounce
            self.wrapped += 1
        elif self.code is None and len(self.raw) < 8:
            self.words.append(line)  # codeless text: a dialog or stack trace is one unit
        else:
            self.flush()
            self.words.append(line)
        self.raw.append(line)


def split_replies(text: str) -> tuple[ReplyText, ...]:
    """Cut pasted text into replies; continuation lines of one reply are joined."""
    text = _expand_python_tuples(bounded(text).replace("\r\n", "\n").replace("\r", "\n"))
    text = _RESPONSE_EQUALS.sub(r"\1= ", text)
    text = _ESCAPED_BREAK.sub("\n", text)
    text = _SERVER_WORDS.sub("\\1\n\n", text)
    splitter = _Splitter()
    for raw_line in text.split("\n"):
        line = _QUOTE_PREFIX.sub("", raw_line).strip()
        if not line:
            splitter.flush()
        else:
            splitter.line(line)
    splitter.flush()
    replies = splitter.replies
    if len(replies) > MAX_REPLIES_READ:  # the first few for context, the failing ones last
        replies = replies[:HEAD_REPLIES] + replies[HEAD_REPLIES - MAX_REPLIES_READ :]
    return tuple(replies)


def root_cause_last(text: str) -> str:
    """Python prints a chained traceback root cause first ("During handling of the above
    exception, another exception occurred"), unlike Java's "Caused by:" and .NET's
    " ---> ", which print it last. Later replies win ties, so put Python's parts in the
    order the others use: the exception that started it all at the end."""
    if "above exception" not in text:
        return text
    parts = _PY_CHAIN.split(text)
    return "\n\n".join(reversed(parts)) if len(parts) > 1 else text


def bounded(text: str) -> str:
    """``text`` when it is at most ``MAX_INPUT`` long, else its first ``HEAD_READ`` and
    last ``TAIL_READ`` characters (less one, for the line break between them), each cut
    back to whole lines, the middle left out: at most ``MAX_INPUT``, so bounding twice
    changes nothing."""
    if len(text) <= MAX_INPUT:
        return text
    head, tail = text[:HEAD_READ], text[1 - TAIL_READ :]
    head = head[: head.rfind("\n") + 1] or head  # a first line longer than the head stays cut
    if "\n" in tail:
        tail = tail[tail.index("\n") + 1 :]
    return f"{head}\n{tail}"
