"""Explain pasted SMTP error text: split it into replies (``knowledge.paste``), match each
against the known reply patterns, and say what each one means.

Matching is a scan over our own patterns, weighing the evidence the whole paste shows
(a provider's host name, what was used rather than merely offered). Nothing is guessed:
text no pattern matches gives no match.

A paste is usually a log: connection lines, config echoes, the client's wrapper
message, then the server's reply. Matches come back best first (see ``_best_first``):
the reply that names the cause, not the first line that happens to match.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Final

from knowledge.model import Explanation, KnowledgeBase, Match, PatternRole, ReplyPattern
from knowledge.paste import (
    MAX_INPUT,
    MAX_REPLIES_READ,
    REPLY_CODE,
    ReplyText,
    bounded,
    root_cause_last,
    split_replies,
)

MAX_REPLIES: Final = 20  # matches returned

# An RFC 3463 status code standing alone ("The server response was: 5.0.0 unknown"): a code
# the "nothing found" answer must not ask for. After a word it is a version ("nodemailer 4.1.2").
_STATUS_ALONE: Final = re.compile(
    r"(?:^|[:(\[]\s*|\bwas\s+)[45]\.[0-9]{1,3}\.[0-9]{1,3}(?=\s|$|[)\],;])", re.M
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
# Symfony Mailer and SwiftMailer try every authenticator in turn (CRAM-MD5, LOGIN, PLAIN,
# then XOAUTH2) with the same secret: after a password one failed, its XOAUTH2 try is that
# password sent as a token, not evidence that the app uses OAuth. Symfony quotes the names,
# SwiftMailer does not.
_SYMFONY_XOAUTH2_FALLBACK: Final = re.compile(
    r'(Authenticator \\?"?(?:CRAM-MD5|LOGIN|PLAIN)\\?"? returned[\s\S]*?)'
    r'Authenticator \\?"?XOAUTH2\\?"? returned'
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
        family_texts = ("\n".join(x for x in raw.split("\n") if not REPLY_CODE.search(x)),)
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
    replies = split_replies(root_cause_last(text))
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


def explain_reply(
    kb: KnowledgeBase, text: str, *, provider: str | None = None
) -> tuple[Match, ...]:
    """Every known reply in ``text``, best first; empty when none is known.

    Wording families are left out: this is also how prose (a question, a chat message)
    is scanned for pasted replies, and "password" in a sentence is not an error.
    """
    return explain_text(kb, text, provider=provider, broad=False).matches
