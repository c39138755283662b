"""Explain pasted SMTP error text: split it into replies, match each against the
known reply patterns, and say what each one means.

Pasted text comes in many shapes: a raw multi-line reply (``535-5.7.8 ...`` then
``535 5.7.8 ...``), a bounce quoting the server, a client dialog, a Python
traceback (``(535, b'5.7.8 ...')``), a server log line with no code at all.
Splitting is pure string work; matching is a scan over our own patterns.
Nothing is guessed: text no pattern matches gives no match.

A paste is usually a log: connection lines, config echoes, the client's wrapper
message, then the server's reply. Matches come back best first (see ``_best_first``):
the reply that names the cause, not the first line that happens to match.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from knowledge.model import Explanation, KnowledgeBase, Match, PatternRole, ReplyPattern

MAX_INPUT: Final = 20_000  # characters read of a paste; a pasted bounce is far smaller
# Of a longer paste, its beginning (what was being done) and its end, where logs and
# traces put the failing reply: the middle is what is left out.
HEAD_READ: Final = 5_000
TAIL_READ: Final = MAX_INPUT - HEAD_READ
MAX_REPLY: Final = 2_000  # one reply's text; SMTP caps lines at 512 octets anyway
MAX_REPLIES: Final = 20  # matches returned
MAX_REPLIES_READ: Final = 100  # replies of one paste weighed: the first 20 and the last 80
HEAD_REPLIES: Final = 20

# A reply code starts a reply when nothing word-like sticks to its left and a
# space, a dash or the end of line follows: "535 5.7.8", "535-5.7.8", "'535 ".
_CODE: Final = re.compile(
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
# An RFC 3463 status code standing alone ("The server response was: 5.0.0 unknown"): a code
# the "nothing found" answer must not ask for. After a word it is a version ("nodemailer 4.1.2").
_STATUS_ALONE: Final = re.compile(
    r"(?:^|[:(\[]\s*|\bwas\s+)[45]\.[0-9]{1,3}\.[0-9]{1,3}(?=\s|$|[)\],;])", re.M
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
# What a server offers or a library is willing to try is not evidence of what was used:
# an EHLO reply advertising XOAUTH2 (every Gmail and Microsoft 365 debug transcript),
# JavaMail's debug list of mechanisms, Symfony's list of the authenticators it tried.
_OFFERED_ONLY: Final = re.compile(
    r"^.*\b250[- ]AUTH\b.*$|^.*Found extension \W?AUTH\b.*$|^.*SASL mechanisms allowed.*$"
    r"|^.*Attempt to authenticate using mechanisms.*$|^.*mechanism \S+ not supported by server.*$"
    r"|authenticators: (?:\\?\"[\w-]+\\?\",? ?)+",
    re.I | re.M,
)
# Symfony Mailer tries every authenticator in turn (CRAM-MD5, LOGIN, PLAIN, then XOAUTH2)
# with the same secret: after a password one failed, its XOAUTH2 try is that password
# sent as a token, not evidence that the app uses OAuth.
_SYMFONY_XOAUTH2_FALLBACK: Final = re.compile(
    r'(Authenticator \\?"(?:CRAM-MD5|LOGIN|PLAIN)\\?" returned[\s\S]*?)'
    r'Authenticator \\?"XOAUTH2\\?" returned'
)
# A recipient's address says where the mail was going, not whose server refused it: "TO:
# ['x@gmail.com']", Postfix's "to=<x@hotmail.com>", "RCPT TO:<...>", a DSN's
# "Final-Recipient: rfc822; ...". Such an address is no evidence of the sending provider.
_RECIPIENT: Final = re.compile(
    r"\b(?:rcpt to|to|cc|bcc|recipients?|final-recipient|original-recipient)\b"
    r"(?P<gap>\W{0,12}?(?:rfc822;\s*)?)[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
    re.I,
)


def _without_recipients(text: str) -> str:
    if "@" not in text:
        return text
    return _RECIPIENT.sub(lambda found: found[0][: found.start("gap") - found.start()] + " ", text)


_HTML_ENTITY: Final = re.compile(r"&(?:gt|lt|quot|amp|apos|#[0-9]{2,4}|#x[0-9a-f]{2,4});", re.I)
# A stack trace's line numbers are not reply codes: 'File "smtplib.py", line 530',
# "index.js:535:19", "(SMTP.php:501)". Patterns see them with a letter glued on.
_LINE_NUMBER: Final = re.compile(
    r"(?P<pre>\.(?:js|mjs|cjs|ts|py|java|kt|php|rb|go|cs|pl)\)?:|\bline )"
    r"(?P<num>[2-5][0-9]{2})(?![\w.])"
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
        found = [match for match in _CODE.finditer(line) if not _echoed(line, match)]
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


def _hinted_providers(kb: KnowledgeBase, text: str) -> tuple[str, ...]:
    lowered = text.lower()
    return tuple(
        provider.id
        for provider in kb.providers.values()
        if any(hint in lowered for hint in provider.hints)
    )


def _matches(pattern: ReplyPattern, code: int | None, texts: tuple[str, ...]) -> bool:
    # The regex is the judge (the data lets one wording stand for several codes), but a
    # reply of another class (2xx success vs 5xx failure) is never the same reply.
    if code is not None and pattern.code is not None and code // 100 != pattern.code // 100:
        return False
    return any(pattern.pattern.search(text) for text in texts)


_ROLE_RANK: Final = {
    PatternRole.REPLY: 3,
    PatternRole.FALLBACK: 2,
    PatternRole.WRAPPER: 1,
    PatternRole.FAMILY: 0,
}


def _outranks(pattern: ReplyPattern, best: ReplyPattern, hinted: tuple[str, ...]) -> bool:
    """Whether ``pattern``, listed after ``best`` in the data, explains the reply better.

    replies.yaml lists patterns from most to least specific (provider wording, then
    server software, then enhanced codes, then bare codes, then catch-alls), so among
    patterns that match, the earlier one is the more specific explanation. Two
    exceptions: a hinted provider's own wording wins, and a code-class fallback ("some
    554 5.7.1") gives way to a reply wording listed after it that names the cause ("554
    5.7.1 Sender address rejected: Access denied"). A client's wrapper message never
    displaces a fallback: "Invalid login" says no more than the code does.
    (Roles rank matches across replies, in ``_best_first``; inside one reply this does.)
    """
    mine, theirs = _provider_hinted(pattern, hinted), _provider_hinted(best, hinted)
    if mine != theirs:
        return mine
    return best.role is PatternRole.FALLBACK and pattern.role is PatternRole.REPLY


def _provider_hinted(pattern: ReplyPattern, hinted: tuple[str, ...]) -> bool:
    # A fallback's provider comes from evidence elsewhere in the paste, so the hint that
    # lifts a provider's own wording must not lift it over a reply's more specific pattern.
    return (
        pattern.provider is not None
        and pattern.provider in hinted
        and pattern.role is not PatternRole.FALLBACK
    )


def match_reply(
    kb: KnowledgeBase,
    reply: ReplyText,
    hinted: tuple[str, ...] = (),
    paste: str = "",
    *,
    broad: bool = False,
    evidence: dict[str, bool] | None = None,
) -> Match | None:
    """The most specific known pattern for one reply, or None.

    ``paste`` is the whole pasted text: a pattern with ``evidence`` (a provider's host
    name, address or support link) only counts when the paste shows that evidence.
    ``broad`` lets ``family`` patterns (a subject without a known wording) count.
    ``evidence`` caches, per pattern id, whether the paste shows that pattern's evidence.
    """
    # No union-of-all-patterns prefilter: with wording families one always matches, and
    # one alternation of ~170 bounded patterns scans slower than the patterns one by one.
    line, raw = reply.line, reply.raw
    if reply.code is None and (":" in raw or "line " in raw):
        line, raw = (
            _LINE_NUMBER.sub(r"\g<pre>n\g<num>", line),
            _LINE_NUMBER.sub(r"\g<pre>n\g<num>", raw),
        )
    texts = (raw,) if line == raw else (raw, line)  # one search when alike
    # A success or intermediate reply ("220 2.0.0 Ready to start TLS", "250-AUTH PLAIN
    # LOGIN") names a subject but no failure: a family may only answer for the log lines
    # without a code that a still-open reply swallowed ("250-AUTH ..." then the error).
    family_texts = texts
    if reply.code is not None and reply.code < 400:
        family_texts = ("\n".join(x for x in raw.split("\n") if not _CODE.search(x)),)
    best: ReplyPattern | None = None
    cache = evidence if evidence is not None else {}
    for pattern in kb.replies:
        if pattern.role is PatternRole.FAMILY and not broad:
            continue
        if best is not None:
            # A later pattern wins only with a provider hint or a named cause the best
            # lacks: stop when nothing can, or skip the search of any pattern that cannot.
            if best.role is not PatternRole.FALLBACK and (
                not hinted or _provider_hinted(best, hinted)
            ):
                break
            if not _outranks(pattern, best, hinted):
                continue
        # evidence first: one search per paste (cached), and most pastes lack a given
        # provider's host, so its wording is never searched reply by reply
        if pattern.evidence is not None:
            if pattern.id not in cache:
                cache[pattern.id] = pattern.evidence.search(paste or reply.raw) is not None
            if not cache[pattern.id]:
                continue
        family = pattern.role is PatternRole.FAMILY
        if not _matches(pattern, reply.code, family_texts if family else texts):
            continue
        best = pattern
    if best is None:
        return None
    pattern = best
    provider = pattern.provider
    if provider is None and len(hinted) == 1:
        provider = hinted[0]
    return Match(
        reply_id=pattern.id,
        code=reply.code if reply.code is not None else pattern.code,
        enhanced=reply.enhanced or pattern.enhanced,
        provider=provider,
        cause=pattern.cause,
        articles=pattern.articles,
        excerpt=reply.line[:300],
        role=pattern.role,
    )


_LOGIN_REFUSED: Final = frozenset({534, 535, 538})  # the server refused the AUTH itself
_NOT_LOGGED_IN: Final = "enable-smtp-auth-in-client"  # the article for "you did not log in"


def _best_first(found: Iterable[tuple[int, Match]]) -> tuple[Match, ...]:
    """Most telling match first: a named cause beats a code-class fallback, which beats a
    client's wrapper message; then a failure reply with a code (4xx, 5xx) beats a codeless
    log line, which beats a success or intermediate reply (2xx, 3xx: an EHLO listing that
    advertises STARTTLS is context, not the failure); then the later reply (the failure at
    the end of a log) beats the context before it. Before all that, "you did not log in"
    after a refused login is a consequence of the refusal and ranks below it."""
    best: dict[str, tuple[tuple[int, int, int, int], Match]] = {}
    found = tuple(found)
    # A client that goes on after its login was refused gets "530 Authentication required"
    # or "relay denied" for MAIL FROM: the refused login is the cause, the rest follows.
    refused = any(match.code in _LOGIN_REFUSED for _, match in found)
    for position, match in found:
        coded = 1 if match.code is None else 2 if match.code >= 400 else 0
        follows = refused and match.articles[:1] == (_NOT_LOGGED_IN,)
        key = (int(not follows), _ROLE_RANK[match.role], coded, position)
        if match.reply_id not in best or key > best[match.reply_id][0]:
            best[match.reply_id] = (key, match)
    ranked = sorted(best.values(), key=lambda item: item[0], reverse=True)
    return tuple(match for _, match in ranked)


def _root_cause_last(text: str) -> str:
    """Python prints a chained traceback root cause first ("During handling of the above
    exception, another exception occurred"), unlike Java's "Caused by:" and .NET's
    " ---> ", which print it last. Later replies win ties, so put Python's parts in the
    order the others use: the exception that started it all at the end."""
    if "above exception" not in text:
        return text
    parts = _PY_CHAIN.split(text)
    return "\n\n".join(reversed(parts)) if len(parts) > 1 else text


def explain_text(
    kb: KnowledgeBase, text: str, *, provider: str | None = None, broad: bool = True
) -> Explanation:
    """Every known reply in ``text``, best first, and whether the text was cut to the bound.

    For text someone handed over as an error (``smtpcheck explain``, the Explain
    shortcut). ``provider`` (an id, e.g. from the probed host) counts as a hint on top
    of the hint substrings found in the text itself. ``broad`` (the default here) also
    lets wording families answer ("some certificate problem"); scanning prose for a
    pasted reply, as search and triage do through ``explain_reply``, leaves them out.
    """
    truncated = len(text) > MAX_INPUT
    text = bounded(text)
    if "&" in text and _HTML_ENTITY.search(text):
        text = html.unescape(text)  # a log copied from a web page: "CLIENT -&gt; SERVER"
    sender_side = _without_recipients(text)  # what may name the provider (hints, evidence)
    hinted = _hinted_providers(kb, sender_side)
    if provider is not None and provider in kb.providers and provider not in hinted:
        hinted = (provider, *hinted)
    replies = split_replies(_root_cause_last(text))
    evidence: dict[str, bool] = {}  # one search of the paste per evidence pattern
    # what the paste shows was used, not merely offered (the substring test skips the scan)
    shown = sender_side
    if "AUTH" in shown or "uthenticat" in shown:
        shown = _SYMFONY_XOAUTH2_FALLBACK.sub(r"\1 ", _OFFERED_ONLY.sub(" ", shown))
    found = (
        (position, match)
        for position, reply in enumerate(replies)
        if (match := match_reply(kb, reply, hinted, shown, broad=broad, evidence=evidence))
        is not None
    )
    return Explanation(
        matches=_best_first(found)[:MAX_REPLIES],
        truncated=truncated or len(replies) >= MAX_REPLIES_READ,
        has_code=any(reply.code is not None and reply.code >= 400 for reply in replies)
        or _STATUS_ALONE.search(text) is not None,
    )


def bounded(text: str) -> str:
    """``text`` when it is at most ``MAX_INPUT`` long, else its first ``HEAD_READ`` and
    last ``TAIL_READ`` characters, each cut back to whole lines, the middle left out."""
    if len(text) <= MAX_INPUT:
        return text
    head, tail = text[:HEAD_READ], text[-TAIL_READ:]
    head = head[: head.rfind("\n") + 1] or head  # a first line longer than the head stays cut
    if "\n" in tail:
        tail = tail[tail.index("\n") + 1 :]
    return f"{head}\n{tail}"


def explain_reply(
    kb: KnowledgeBase, text: str, *, provider: str | None = None
) -> tuple[Match, ...]:
    """Every known reply in ``text``, best first; empty when none is known.

    Wording families are left out: this is also how prose (a question, a chat message)
    is scanned for pasted replies, and "password" in a sentence is not an error.
    """
    return explain_text(kb, text, provider=provider, broad=False).matches
