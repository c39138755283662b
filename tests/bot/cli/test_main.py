"""The smtpcheck entry point: configuration errors and a closed output pipe."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.cli import main


def test_bad_configuration_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A malformed environment variable stops the CLI with one line naming it."""
    monkeypatch.setenv("SMTPCHECK_ALLOWED_PORTS", "five")
    assert main(["ask", "app password"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "SMTPCHECK_ALLOWED_PORTS" in err


def test_closed_stdout_ends_quietly() -> None:
    """A reader that goes away (`| head`) ends the CLI without a traceback."""
    child = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "ask", "gmail app password", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # before the child has written anything
    stderr = child.stderr.read().decode()
    assert child.wait(timeout=60) == 141
    assert "Traceback" not in stderr
