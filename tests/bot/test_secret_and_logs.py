"""Secret never shows itself; the log redaction cannot be bypassed by any logger."""

from __future__ import annotations

import io
import logging
import pickle
import sys

import pytest

from bot.logs import install_redaction, redact, setup_logging
from bot.secret import Secret

CANARY = "Canary-Pa55word-7f3e"


def test_secret_hides_its_value_everywhere() -> None:
    """repr, str, f-strings and %-formatting all show a mask, never the value."""
    secret = Secret(CANARY)
    for text in (repr(secret), str(secret), f"{secret}", format(secret), f"{[secret]}"):
        assert CANARY not in text
    assert secret.reveal() == CANARY


def test_secret_refuses_pickling() -> None:
    """A Secret cannot be serialised by pickle (so it cannot slip into a cache)."""
    with pytest.raises(TypeError):
        pickle.dumps(Secret(CANARY))


def test_redact_removes_live_secret_and_its_base64() -> None:
    """Both the raw value and its base64 wire form of a live secret are masked."""
    secret = Secret(CANARY)
    import base64

    encoded = base64.b64encode(CANARY.encode()).decode()
    text = redact(f"payload {CANARY} and {encoded}")
    assert CANARY not in text
    assert encoded not in text
    del secret


@pytest.mark.parametrize("before", [b"", b"\0", b"\0al\0", b"\0alice\0", b"xyz"])
@pytest.mark.parametrize("after", [b"", b"!", b"\0z", b"tail"])
def test_redact_removes_the_secret_encoded_anywhere_in_a_blob(before: bytes, after: bytes) -> None:
    """Inside an AUTH PLAIN blob (or any echo of one) the secret's base64 depends on where
    it starts; every alignment is masked, and so is its hex."""
    import base64

    secret = Secret(CANARY)
    blob = before + CANARY.encode() + after
    encoded = base64.b64encode(blob).decode()
    text = redact(f"535 {encoded} {blob.hex()} {blob.hex().upper()}")
    assert text.count("[redacted]") == 3
    for shown in (encoded, blob.hex(), blob.hex().upper()):
        assert shown not in text
    # what is left of the base64 is the few characters it shares with the bytes around
    residue = text.split()[1].split("[redacted]")
    assert sum(map(len, residue)) <= 4 + len(before + after) * 4 // 3
    del secret


def test_a_short_secret_is_not_masked_in_unrelated_text() -> None:
    """A short password's transformed forms are too short to tell from other text."""
    secret = Secret("abc")
    assert list(secret.forms()) == ["abc", "YWJj"]
    assert redact("user abd logged in") == "user abd logged in"
    del secret


@pytest.mark.parametrize(
    "line",
    [
        "token xoxb-1234-5678-abcdef",
        "app token xapp-1-A111-222-abc",
        "AUTH PLAIN AHVzZXIAcGFzcw==",
        'password="hunter2"',
        "redis://:hunter2@cache:6379/0",
    ],
)
def test_redact_masks_secret_shaped_text(line: str) -> None:
    """Slack tokens, AUTH exchanges, password fields and URL passwords are masked."""
    masked = redact(line)
    assert "[redacted]" in masked
    for secret_part in ("1234-5678-abcdef", "A111-222", "AHVzZXIAcGFzcw", "hunter2"):
        assert secret_part not in masked


def test_third_party_logger_cannot_bypass_redaction(caplog: pytest.LogCaptureFixture) -> None:
    """A library logger at DEBUG, args and exception text included, never emits a live secret."""
    install_redaction()
    secret = Secret(CANARY)
    caplog.set_level(logging.DEBUG)
    library = logging.getLogger("slack_bolt.some.module")
    library.debug("raw payload: %s", {"password": {"value": CANARY}})
    try:
        raise RuntimeError(f"failed with {CANARY}")
    except RuntimeError:
        library.exception("boom")
    assert CANARY not in caplog.text
    for record in caplog.records:
        assert CANARY not in record.getMessage()
        assert CANARY not in (record.exc_text or "")
    del secret


def _view_state(password: str) -> dict[str, object]:
    return {
        "values": {
            "password": {"value": {"type": "plain_text_input", "value": password}},
            "host": {"value": {"type": "plain_text_input", "value": "smtp.example.com"}},
        }
    }


@pytest.mark.parametrize("encoding", ["json", "repr", "urlencoded"])
def test_redact_masks_a_raw_view_state_password(encoding: str) -> None:
    """A modal's password in a raw payload (JSON, Python repr, URL-encoded body) is
    masked even before it is wrapped in a Secret, quotes inside it included; the
    other fields stay readable."""
    import json
    from urllib.parse import urlencode

    state = _view_state('Can"ary-\\-9f2')
    text = {
        "json": json.dumps(state),
        "repr": repr(state),
        "urlencoded": urlencode({"payload": json.dumps({"view": {"state": state}})}),
    }[encoding]
    masked = redact(text)
    assert "ary-" not in masked and "9f2" not in masked
    assert "smtp.example.com" in masked


def test_logging_follows_stderr_after_it_is_replaced_and_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A CLI run in-process under a captured stderr must not leave the root logger
    writing to that capture once it is closed (it printed "--- Logging error ---")."""
    first, second = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    monkeypatch.setattr(logging, "raiseExceptions", True)
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    try:
        setup_logging("WARNING")
        logging.getLogger("smtpcheck.test").warning("to the first")
        first.close()
        monkeypatch.setattr(sys, "stderr", second)
        logging.getLogger("smtpcheck.test").warning("to the second")
    finally:
        root.handlers[:] = saved[1]
        root.setLevel(saved[0])
    assert "to the second" in second.getvalue()
    assert "Logging error" not in second.getvalue()
