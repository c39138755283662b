"""General explain rules, each for a family of pastes rather than one wording: how a log is
ranked (success replies and config echoes are context, not evidence) and reply wordings
that many servers and clients share. The pastes are written for these tests."""

from __future__ import annotations

import pytest

from knowledge import KnowledgeBase, get_knowledge
from knowledge.explain import explain_text, split_replies


@pytest.fixture(scope="module")
def real_kb() -> KnowledgeBase:
    return get_knowledge()


def _first(kb: KnowledgeBase, text: str) -> tuple[str, str]:
    """(reply id, first article) of the best match."""
    match = explain_text(kb, text).matches[0]
    return match.reply_id, match.articles[0]


# --- ranking inside a log -------------------------------------------------------------------


def test_a_setting_echo_is_not_a_reply_code() -> None:
    """ "timeout: 300" in a config dump is a setting; the error line after it stands alone."""
    text = (
        "mailer config:\n  host: mail.example.net\n  timeout: 300\n"
        "Error: connect ECONNREFUSED 203.0.113.8:587"
    )
    assert all(reply.code != 300 for reply in split_replies(text))


def test_a_refused_connection_after_a_timeout_setting_is_not_a_timeout(
    real_kb: KnowledgeBase,
) -> None:
    text = (
        "mailer config:\n  host: mail.example.net\n  timeout: 300\n"
        "Error: connect ECONNREFUSED 203.0.113.8:587"
    )
    match = explain_text(real_kb, text).matches[0]
    assert match.reply_id == "connection-refused"
    assert match.code is None


def test_nodemailer_response_code_field_repeats_the_reply() -> None:
    """nodemailer prints the reply in ``response`` and its code again in ``responseCode``."""
    text = (
        "{ [Error: Invalid login: 535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6]\n"
        "  code: 'EAUTH',\n  response: '535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6',\n"
        "  responseCode: 535,\n  command: 'AUTH PLAIN' }"
    )
    coded = [reply for reply in split_replies(text) if reply.code == 535]
    assert coded and all(reply.enhanced == "5.7.8" for reply in coded)


def test_an_ehlo_listing_is_context_not_the_failure(real_kb: KnowledgeBase) -> None:
    """A 250 EHLO reply advertising STARTTLS says nothing went wrong with TLS; the codeless
    failure line after it is what the paste is about, and it is not swallowed by the 250."""
    text = (
        "Connecting to mail.example.net:587\n"
        "220 mail.example.net ESMTP\n"
        "250-mail.example.net\n250-PIPELINING\n250-STARTTLS\n250 SMTPUTF8\n"
        "mailer: giving up, the login was refused"
    )
    replies = split_replies(text)
    assert replies[-1].code is None and "login was refused" in replies[-1].text
    assert _first(real_kb, text)[0] == "family-login"
