"""Credential redaction of pasted text: every shape is hidden, ordinary text is kept."""

from __future__ import annotations

import base64

import pytest

from bot.redaction import MASK, redact_credentials

CANARY = "Canary-Pw-93731"


def plain(user: str, password: str) -> str:
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


@pytest.mark.parametrize(
    "text",
    [
        f"C: AUTH PLAIN {plain('alice@example.com', CANARY)}\nS: 535 5.7.8 failed",
        f"the log shows {plain('alice', CANARY)} then 535",
        f"AUTH LOGIN\n334 VXNlcm5hbWU6\nYWxpY2U=\n334 UGFzc3dvcmQ6\n"
        f"{base64.b64encode(CANARY.encode()).decode()}\n535 5.7.8",
        f"smtp_password={CANARY} and it fails",
        f"pass: {CANARY}",
        f'"password": "{CANARY}"',
        f"my password is {CANARY} and outlook says 535",
        f"PWD = '{CANARY}'",
    ],
)
def test_every_credential_shape_is_hidden(text: str) -> None:
    """The canary never survives, and the result says something was hidden."""
    result = redact_credentials(text)
    assert result.hidden
    assert CANARY not in result.text
    assert base64.b64encode(CANARY.encode()).decode() not in result.text
    assert MASK in result.text


def test_ordinary_errors_are_untouched() -> None:
    """A real SMTP error (with a base64-looking Gmail id) is not redacted."""
    text = (
        "535-5.7.8 Username and Password not accepted. Learn more at "
        "https://support.google.com/mail/?p=BadCredentials x1-20020a17090 - gsmtp\n"
        "334 VXNlcm5hbWU6"
    )
    result = redact_credentials(text)
    assert (result.text, result.hidden) == (text, False)


def test_auth_mechanism_stays_visible() -> None:
    """The mechanism is evidence; only its argument is hidden."""
    assert redact_credentials("AUTH PLAIN abcdefgh").text == f"AUTH PLAIN {MASK}"


def test_plain_words_after_password_is_are_kept() -> None:
    """ "Your password is incorrect" is an error message, not a password."""
    assert not redact_credentials("Outlook says your password is incorrect").hidden
