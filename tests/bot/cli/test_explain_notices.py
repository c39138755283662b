"""smtpcheck explain: a cut paste is reported, and 'nothing found' fits what was pasted."""

from __future__ import annotations

import io
import json

import pytest

from bot.cli.knowledge import read_paste
from knowledge.paste import MAX_INPUT
from tests.bot.cli.test_knowledge import _main

GMAIL_REPLY = "535-5.7.8 Username and Password not accepted.\n535 5.7.8 BadCredentials - gsmtp"


def test_cut_paste_is_reported(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A paste longer than explain reads says so, in text and in JSON, and still explains."""
    long = GMAIL_REPLY + "\n" + "log line\n" * (MAX_INPUT // 9 + 10)
    monkeypatch.setattr("sys.stdin", io.StringIO(long))
    assert _main(["explain", "-"]) == 0
    out = capsys.readouterr().out
    assert "only its beginning and its end were read, the first 5,000 and last 15,000" in out
    assert "535" in out
    monkeypatch.setattr("sys.stdin", io.StringIO(long))
    assert _main(["explain", "-", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["truncated"] is True


def test_a_log_piped_in_is_read_to_its_end(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Megabytes of log on stdin: the failing reply at its end is explained, and what is
    kept while reading stays bounded."""
    log = "".join(f"2026-12-03 10:00:{n % 60:02d} DEBUG SMTP: line {n}\n" for n in range(60_000))
    kept = read_paste(io.StringIO(log + GMAIL_REPLY))
    assert len(kept) <= 2 * MAX_INPUT + 1 and kept.endswith(GMAIL_REPLY)
    monkeypatch.setattr("sys.stdin", io.StringIO(log + GMAIL_REPLY))
    assert _main(["explain", "-"]) == 0
    out = capsys.readouterr().out
    assert "beginning and its end were read" in out and "535" in out
    assert read_paste(io.StringIO(GMAIL_REPLY)) == GMAIL_REPLY


def test_short_paste_has_no_cut_notice(capsys: pytest.CaptureFixture[str]) -> None:
    """A normal paste carries no notice; JSON says truncated false."""
    assert _main(["explain", GMAIL_REPLY]) == 0
    assert "were read" not in capsys.readouterr().out
    assert _main(["explain", GMAIL_REPLY, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["truncated"] is False


def test_nothing_found_does_not_ask_for_a_code_already_given(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An unknown coded reply is told apart from prose: no 'include the code' advice."""
    assert _main(["explain", "452 4.3.1 Insufficient system storage"]) == 1
    coded = capsys.readouterr().out
    assert "reply code" in coded and "including the code" not in coded
    assert _main(["explain", "the printer is out of paper"]) == 1
    assert "including the code" in capsys.readouterr().out
