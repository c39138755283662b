"""explain_reply: pasted text -> known replies, several when several, none invented."""

from __future__ import annotations

import dataclasses
import re
import time

from knowledge import KnowledgeBase, ReplyPattern, explain_reply
from knowledge.paste import MAX_INPUT, bounded, split_replies

GMAIL_MULTILINE = (
    "535-5.7.8 Username and Password not accepted. For more information, go to\n"
    "535 5.7.8  https://support.google.com/mail/?p=BadCredentials a1sm1 - gsmtp"
)


def _ids(kb: KnowledgeBase, text: str) -> list[str]:
    return [match.reply_id for match in explain_reply(kb, text)]


def test_multiline_reply_is_one_match(kb: KnowledgeBase) -> None:
    """Continuation lines (535-... then 535 ...) join into one reply and one match."""
    matches = explain_reply(kb, GMAIL_MULTILINE)
    assert [m.reply_id for m in matches] == ["gmail-bad-credentials"]
    match = matches[0]
    assert (match.code, match.enhanced, match.provider) == (535, "5.7.8", "gmail")
    assert match.articles == ("app-passwords", "check-credentials")
    assert match.cause
    assert len(split_replies(GMAIL_MULTILINE)) == 1


def test_several_replies_give_several_matches_latest_first(kb: KnowledgeBase) -> None:
    """Two distinct replies of equal standing give two matches; the later (failing) one first."""
    text = "454 4.7.0 Too many login attempts, please try again later\n" + GMAIL_MULTILINE
    assert _ids(kb, text) == ["gmail-bad-credentials", "too-many-login-attempts"]


def test_repeated_reply_is_reported_once(kb: KnowledgeBase) -> None:
    """The same reply pasted twice is one match."""
    assert _ids(kb, GMAIL_MULTILINE + "\n\n" + GMAIL_MULTILINE) == ["gmail-bad-credentials"]


def test_log_line_without_code(kb: KnowledgeBase) -> None:
    """A Postfix log line carries no reply code and is still recognised."""
    line = (
        "Mar  4 10:15:02 mail postfix/smtpd[123]: warning: unknown[198.51.100.23]: "
        "SASL LOGIN authentication failed: UGFzc3dvcmQ6"
    )
    matches = explain_reply(kb, line)
    assert [m.reply_id for m in matches] == ["postfix-sasl-log-failed"]
    assert matches[0].code is None


def test_client_dialog_quoting_the_server(kb: KnowledgeBase) -> None:
    """A client dialog that quotes the reply mid-sentence is recognised by the quoted reply."""
    text = (
        "Sending of the message failed.\nAn error occurred while sending mail. "
        "The mail server responded: 530 5.7.0 Must issue a STARTTLS command first."
    )
    assert _ids(kb, text) == ["starttls-first"]


def test_python_traceback_tuple(kb: KnowledgeBase) -> None:
    """smtplib's (535, b'5.7.8 ...\\n5.7.8 ...') form is unpacked into one reply."""
    text = (
        "smtplib.SMTPAuthenticationError: (535, b'5.7.8 Username and Password not accepted."
        " For more information, go to\\n5.7.8  https://support.google.com/mail/?p=BadCredentials"
        " - gsmtp')"
    )
    assert _ids(kb, text) == ["gmail-bad-credentials"]


def test_provider_hint_picks_provider_and_keyword_hint(kb: KnowledgeBase) -> None:
    """A hint substring (gsmtp) names the provider of a generic match; so does provider=."""
    generic = "535 5.7.8 Error: authentication failed"
    assert explain_reply(kb, generic)[0].provider is None
    assert explain_reply(kb, generic + " - gsmtp")[0].provider == "gmail"
    assert explain_reply(kb, generic, provider="microsoft365")[0].provider == "microsoft365"


def test_provider_specific_pattern_beats_generic(kb: KnowledgeBase) -> None:
    """With several patterns matching, the provider's own wording wins over the code alone."""
    assert _ids(kb, "535 5.7.8 BadCredentials") == ["gmail-bad-credentials"]
    assert _ids(kb, "535 5.7.8 nope") == ["generic-535-5-7-8"]
    assert _ids(kb, "535 nope") == ["generic-535"]


def test_nothing_matches_gives_nothing(kb: KnowledgeBase) -> None:
    """Unknown text, success replies and prose give no match: nothing is invented."""
    assert explain_reply(kb, "hello, what's the weather like today?") == ()
    assert explain_reply(kb, "250 2.0.0 OK queued as 12345") == ()
    assert explain_reply(kb, "") == ()
    assert explain_reply(kb, "Expected 235 but the server said fine") == ()


def test_success_code_never_matches_failure_pattern(kb: KnowledgeBase) -> None:
    """A 2xx reply is never explained by a 5xx pattern, even when the wording matches."""
    loose = ReplyPattern(
        id="loose",
        code=535,
        enhanced=None,
        pattern=re.compile("authentication", re.IGNORECASE),
        provider=None,
        cause="c",
        articles=("check-credentials",),
    )
    loose_kb = dataclasses.replace(kb, replies=(loose,))
    assert explain_reply(loose_kb, "235 2.7.0 Authentication successful") == ()
    assert _ids(loose_kb, "535 5.7.8 Authentication failed") == ["loose"]


def test_long_input_is_bounded_and_fast(kb: KnowledgeBase) -> None:
    """Megabytes of pasted text are cut to their beginning and end (where a log puts the
    failing reply) and still answered quickly; only the middle goes unread."""
    noise = ("x" * 5000 + "\n") * 400
    started = time.perf_counter()
    assert explain_reply(kb, noise + GMAIL_MULTILINE)[0].code == 535  # the end is read
    assert time.perf_counter() - started < 2.0
    assert explain_reply(kb, GMAIL_MULTILINE + "\n" + "y" * (MAX_INPUT * 3))[0].code == 535
    middle = ("x" * 500 + "\n") * 20 + GMAIL_MULTILINE + "\n" + noise
    assert explain_reply(kb, middle) == ()  # past the beginning, before the end


def test_bounded_keeps_whole_lines_of_the_beginning_and_the_end() -> None:
    text = "".join(f"line {number:06d}\n" for number in range(10_000))  # 120,000 characters
    kept = bounded(text)
    assert kept.startswith("line 000000\n") and kept.endswith("line 009999\n")
    assert len(kept) <= MAX_INPUT and bounded(kept) == kept
    once = bounded("z" * (3 * MAX_INPUT))  # no line break to cut back to
    assert len(once) == MAX_INPUT and bounded(once) == once
    assert all(line.startswith("line ") and len(line) == 11 for line in kept.split("\n") if line)
    assert bounded("short") == "short"


def test_a_log_of_many_replies_still_weighs_the_last(kb: KnowledgeBase) -> None:
    """Past the number of replies weighed, the first few and the last ones are kept."""
    log = "".join(f"250 2.1.5 Ok queued as {number}\n\n" for number in range(300))
    assert explain_reply(kb, log + GMAIL_MULTILINE)[0].code == 535


def test_quoted_bounce_lines(kb: KnowledgeBase) -> None:
    """E-mail quote marks ('> ') in front of reply lines are ignored."""
    quoted = "\n".join("> " + line for line in GMAIL_MULTILINE.splitlines())
    assert _ids(kb, quoted) == ["gmail-bad-credentials"]
