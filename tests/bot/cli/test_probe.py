"""``smtpcheck probe``: exit codes, human and JSON output, and where the password may come from."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import knowledge as cli_knowledge
from bot.cli import main
from bot.errors import KnowledgeError
from tests.support.smtp_server import PASSWORD, USER, Certs, make_certs, smtp_server

CANARY = "Canary-cli-91d0c4-Pw"
REPO = Path(__file__).resolve().parents[3]


class ServerThread:
    """An aiosmtpd STARTTLS server on its own loop, so the CLI can run its own asyncio.run."""

    def __init__(self, certs: Certs, **options: object) -> None:
        self.port = 0
        self.commands: list[str] = []
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=asyncio.run, args=(self._serve(certs, options),))

    async def _serve(self, certs: Certs, options: dict[str, object]) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with smtp_server(context=certs.good, **options) as server:  # type: ignore[arg-type]
            self.port = server.port
            self.commands = server.recorder.commands
            self._ready.set()
            await self._stop.wait()

    def __enter__(self) -> ServerThread:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("cli-certs"))


@pytest.fixture
def server(certs: Certs) -> Iterator[ServerThread]:
    with ServerThread(certs) as running:
        yield running


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, server: ServerThread, certs: Certs) -> None:
    monkeypatch.setenv("SMTPCHECK_ALLOW_NETWORKS", "127.0.0.0/8")
    monkeypatch.setenv("SMTPCHECK_ALLOWED_PORTS", f"587,{server.port}")
    monkeypatch.setenv("SMTPCHECK_CA_FILE", str(certs.ca_file))
    monkeypatch.delenv("LOG_LEVEL", raising=False)


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str, *, tty: bool = False) -> None:
    stream = io.StringIO(text)
    stream.isatty = lambda: tty  # type: ignore[method-assign]
    monkeypatch.setattr(sys, "stdin", stream)


def _probe(server: ServerThread, *extra: str) -> list[str]:
    return ["probe", "127.0.0.1", "--port", str(server.port), "--timeout", "10", *extra]


@pytest.mark.usefixtures("env")
def test_authenticated_exit_0_and_human_output(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Right password from --password-stdin: exit 0, a marked line per stage, verdict, diagnosis."""
    _stdin(monkeypatch, PASSWORD + "\n")
    code = main(_probe(server, "--user", USER, "--password-stdin"))
    out = capsys.readouterr().out
    assert code == 0
    assert "✓ resolve" in out and "✓ auth" in out and " ms  " in out
    assert "Verdict: AUTHENTICATED" in out
    assert "Diagnosis:" in out and "TLS: TLSv1" in out
    assert server.commands == ["PLAIN"]


@pytest.mark.usefixtures("env")
def test_rejected_exit_1_and_canary_absent_everywhere(
    server: ServerThread,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Wrong password: exit 1, one AUTH; the canary is in neither stdout, stderr nor logs."""
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    _stdin(monkeypatch, CANARY + "\r\n")
    code = main(_probe(server, "--user", USER, "--password-stdin", "--json"))
    captured = capsys.readouterr()
    assert code == 1
    assert server.commands == ["PLAIN"]
    for text in (captured.out, captured.err, caplog.text):
        assert CANARY not in text
    data = json.loads(captured.out)
    assert data["outcome"] == "auth_rejected"
    assert data["diagnosis"]["summary"] and isinstance(data["diagnosis"]["articles"], list)
    assert {"stage", "status", "elapsed_ms", "detail", "reply"} <= set(data["steps"][0])
    auth = next(step for step in data["steps"] if step["stage"] == "auth")
    assert auth["reply"]["code"] == 535


@pytest.mark.usefixtures("env")
def test_reachable_without_user_json_shape(
    server: ServerThread, capsys: pytest.CaptureFixture[str]
) -> None:
    """No --user: exit 0 (reachable, AUTH offered) and the documented JSON keys."""
    code = main(_probe(server, "--json"))
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["outcome"] == "reachable"
    assert set(data["auth_mechanisms"]) == {"PLAIN", "LOGIN", "CRAM-MD5"}
    assert {"outcome", "steps", "diagnosis", "tls", "transcript"} <= set(data)
    assert {"summary", "articles"} <= set(data["diagnosis"])


@pytest.mark.usefixtures("env")
def test_user_without_tty_or_password_stdin_is_exit_2(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--user with no terminal and no --password-stdin: one clear line, exit 2, nothing sent."""
    _stdin(monkeypatch, "", tty=False)
    code = main(_probe(server, "--user", USER))
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "--password-stdin" in err
    assert server.commands == []


@pytest.mark.usefixtures("env")
def test_prompt_is_used_on_a_tty(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """On a terminal the password comes from getpass (no echo), never from an argument."""
    _stdin(monkeypatch, "", tty=True)
    asked: list[str] = []

    def fake_getpass(prompt: str) -> str:
        asked.append(prompt)
        return PASSWORD

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    code = main(_probe(server, "--user", USER))
    assert code == 0
    assert asked == [f"Password for {USER}: "]


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["probe", "smtp.example.com", "--port", "0x24b"], "port"),
        (["probe", "smtp..example.com"], "host"),
        (["probe", "smtp.example.com", "--security", "ssl"], "security"),
        (["probe", "smtp.example.com", "--mechanism", "ntlm"], "mechanism"),
        (["probe", "smtp.example.com", "--timeout", "-1"], "timeout"),
        (["probe", "smtp.example.com", "--timeout", "abc"], "timeout"),
        (["probe", "smtp.example.com", "--timeout", "nan"], "timeout"),
        (["probe", "smtp.example.com", "--timeout", "301"], "timeout"),
        (["probe", "smtp.example.com", "--password-stdin"], "--user"),
        (["probe", "smtp.example.com", "--ca-file", "/nonexistent.pem"], "ca-file"),
        (["probe", "smtp.example.com", "--ca-file", "/no\nsuch.pem"], "ca-file"),  # one line
        (["probe", "smtp.example.com", "--oauth", "yahoo", "--user", "a@example.com"], "oauth"),
        (["probe", "smtp.example.com", "--oauth", "", "--user", "a@example.com"], "oauth"),
    ],
)
@pytest.mark.usefixtures("env")
def test_invalid_input_is_one_line_exit_2(
    args: list[str], field: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each bad input gives exit 2 and a single stderr line naming the field."""
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert field in err


@pytest.mark.usefixtures("env")
def test_unknown_oauth_provider_with_json_is_a_json_document(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--oauth is validated like --security: one line naming the field and, with --json, the
    invalid_input document (argparse's choices printed its usage and no JSON)."""
    code = main(["probe", "smtp.example.com", "--oauth", "yahoo", "--user", "a@b.test", "--json"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.strip().splitlines() == [
        "smtpcheck probe: invalid oauth: 'yahoo' is not a choice; use microsoft or google"
    ]
    assert json.loads(captured.out)["error"]["field"] == "oauth"


@pytest.mark.usefixtures("env")
def test_empty_password_on_stdin_is_exit_2(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--password-stdin with an empty first line: one line naming the password, nothing sent."""
    _stdin(monkeypatch, "\n")
    code = main(_probe(server, "--user", USER, "--password-stdin"))
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "invalid password" in err
    assert server.commands == []


@pytest.mark.usefixtures("env")
def test_broken_knowledge_is_one_line_exit_3_and_no_probe(
    server: ServerThread, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Knowledge data that fails to load: exit 3, one stderr line, the server never contacted."""

    def broken(**_: object) -> None:
        raise KnowledgeError(source="replies.yaml", entry="smtp-535", reason="bad pattern")

    monkeypatch.setattr(cli_knowledge, "get_knowledge", broken)
    code = main(_probe(server))
    err = capsys.readouterr().err
    assert code == 3
    assert len(err.strip().splitlines()) == 1 and "knowledge data is invalid" in err
    assert server.commands == []


def test_policy_refusal_is_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Loopback without SMTPCHECK_ALLOW_NETWORKS is refused by policy: exit 2."""
    monkeypatch.delenv("SMTPCHECK_ALLOW_NETWORKS", raising=False)
    monkeypatch.delenv("SMTPCHECK_CA_FILE", raising=False)
    code = main(["probe", "127.0.0.1", "--json"])
    assert code == 2
    assert json.loads(capsys.readouterr().out)["outcome"] == "policy_refused"


def test_real_entry_point_in_a_subprocess(server: ServerThread, certs: Certs) -> None:
    """``python -m bot.cli probe`` end to end: exit 1 for a wrong password, canary not printed."""
    environ = {
        **os.environ,
        "SMTPCHECK_ALLOW_NETWORKS": "127.0.0.0/8",
        "SMTPCHECK_ALLOWED_PORTS": str(server.port),
        "SMTPCHECK_CA_FILE": str(certs.ca_file),
        "PYTHONPATH": str(REPO),
    }
    result = subprocess.run(  # noqa: S603 (our own interpreter and module, fixed arguments)
        [sys.executable, "-m", "bot.cli", *_probe(server, "--user", USER, "--password-stdin")],
        input=CANARY + "\n",
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
        check=False,
        cwd=REPO,
    )
    assert result.returncode == 1, result.stderr
    assert "Verdict: REJECTED" in result.stdout
    assert CANARY not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "is empty"),
        (b"\x00\x01binary junk", "holds no PEM certificate"),
        (b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", "not a valid PEM"),
    ],
)
@pytest.mark.parametrize("as_json", [False, True])
@pytest.mark.usefixtures("env")
def test_bad_ca_file_is_one_line_exit_2(
    server: ServerThread,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: bytes,
    problem: str,
    as_json: bool,
) -> None:
    """--ca-file empty, not PEM or broken PEM: one stderr line, exit 2, JSON when asked,
    and the server is never contacted."""
    bad = tmp_path / "bad.pem"
    bad.write_bytes(content)
    code = main(_probe(server, "--ca-file", str(bad), *(["--json"] if as_json else [])))
    captured = capsys.readouterr()
    assert code == 2
    assert len(captured.err.strip().splitlines()) == 1
    assert "invalid ca-file" in captured.err and problem in captured.err
    assert "Traceback" not in captured.err
    if as_json:
        data = json.loads(captured.out)
        assert data["outcome"] == "invalid_input"
        assert data["error"]["field"] == "ca-file"
    else:
        assert captured.out == ""
    assert server.commands == []


@pytest.mark.usefixtures("env")
def test_unreadable_ca_file_is_one_line_exit_2(
    server: ServerThread, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A CA file that cannot be read (a directory here, or no permission) is exit 2."""
    code = main(_probe(server, "--ca-file", str(tmp_path), "--json"))
    captured = capsys.readouterr()
    assert code == 2
    assert json.loads(captured.out)["error"]["field"] == "ca-file"
    assert len(captured.err.strip().splitlines()) == 1


def test_policy_refusal_names_the_setting_that_would_allow_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI tells the operator which SMTPCHECK_ALLOW_NETWORKS value would allow the target."""
    monkeypatch.delenv("SMTPCHECK_ALLOW_NETWORKS", raising=False)
    monkeypatch.delenv("SMTPCHECK_CA_FILE", raising=False)
    code = main(["probe", "127.0.0.1", "--json"])
    captured = capsys.readouterr()
    assert code == 2
    assert json.loads(captured.out)["refused_addresses"] == ["127.0.0.1"]
    assert "SMTPCHECK_ALLOW_NETWORKS=127.0.0.1/32" in captured.err


def test_refused_port_names_the_setting_that_would_allow_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A port outside SMTPCHECK_ALLOWED_PORTS: exit 2, and the value that would allow it."""
    monkeypatch.setenv("SMTPCHECK_ALLOWED_PORTS", "587")
    code = main(["probe", "127.0.0.1", "--port", "2526", "--json"])
    captured = capsys.readouterr()
    assert code == 2
    assert "SMTPCHECK_ALLOWED_PORTS=587,2526" in captured.err
    assert json.loads(captured.out)["error"]["field"] == "port"
