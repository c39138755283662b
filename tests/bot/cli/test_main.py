"""The smtpcheck entry point: its version, configuration errors and a closed output pipe."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main


def test_version_is_the_installed_packages(capsys: pytest.CaptureFixture[str]) -> None:
    """``smtpcheck --version`` prints the version pip installed and exits 0."""
    from importlib.metadata import version

    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"smtpcheck {version('smtpcheck')}\n"


def test_bad_configuration_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A malformed environment variable stops the CLI with one line naming it."""
    monkeypatch.setenv("SMTPCHECK_ALLOWED_PORTS", "five")
    assert main(["ask", "app password"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "SMTPCHECK_ALLOWED_PORTS" in err


@pytest.mark.parametrize("command", [["probe", "127.0.0.1"], ["ask", "app password"]])
def test_bad_ca_file_setting_with_json_is_one_line_exit_2_and_a_json_document(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    command: list[str],
) -> None:
    """SMTPCHECK_CA_FILE not PEM (the setting behind --ca-file): one stderr line, exit 2,
    and with --json a document naming the setting, as a bad --ca-file gets."""
    bad = tmp_path / "key.pem"
    bad.write_text("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n")
    monkeypatch.setenv("SMTPCHECK_CA_FILE", str(bad))
    assert main([*command, "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1
    assert "SMTPCHECK_CA_FILE" in captured.err and "holds no PEM certificate" in captured.err
    data = json.loads(captured.out)
    assert data["outcome"] == "invalid_input"
    assert data["error"]["field"] == "SMTPCHECK_CA_FILE"


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


def _program(*argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``python -m bot.cli ARGV`` (the program, exiting through ``bot.cli.run``)."""
    return subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-m", "bot.cli", *argv],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
    )


@pytest.mark.parametrize(
    "argv",
    [
        ["explain", "535 5.7.8 Error: authentication failed"],  # a match: 0
        ["explain", "nothing that looks like an error"],  # no match: 1
        ["article", "Bad Id"],  # invalid input, a line on stderr: 2
        ["ask", "gmail app password", "--json", "--limit", "20"],  # a long document
    ],
)
def test_the_program_prints_and_exits_as_main_returns(
    argv: list[str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Ending without the interpreter's teardown loses nothing: same stdout, stderr and
    exit code as ``main`` run in this process."""
    expected = main(argv)
    captured = capsys.readouterr()
    ran = _program(*argv, SMTPCHECK_CACHE_DIR=str(tmp_path))
    assert (ran.returncode, ran.stdout, ran.stderr) == (expected, captured.out, captured.err)
    if "--json" in argv:
        assert len(json.loads(ran.stdout)["answers"]) > 3


def test_the_program_skips_the_teardown_but_flushes_the_logs(tmp_path: Path) -> None:
    """Handlers registered for the interpreter's exit do not run (the teardown is what is
    skipped), yet what was logged is written out."""
    script = (
        "import atexit, sys; atexit.register(print, 'TEARDOWN'); "
        "sys.argv = ['smtpcheck', 'explain', '535 5.7.8 Error: authentication failed']; "
        "from bot.cli import run; run()"
    )
    ran = subprocess.run(  # noqa: S603 (our own interpreter, fixed script)
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={**os.environ, "LOG_LEVEL": "DEBUG", "SMTPCHECK_CACHE_DIR": str(tmp_path)},
        timeout=60,
    )
    assert ran.returncode == 0 and "535" in ran.stdout
    assert "TEARDOWN" not in ran.stdout
    assert "DEBUG" in ran.stderr  # the log handler's line reached stderr
