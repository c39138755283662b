"""``smtpcheck probe`` on a terminal (a pseudo-terminal here): stage lines appear as each
stage finishes, with a spinner for the running one; pipes keep the one-piece report."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.processes import wait_until
from tests.support.slow_tls import slow_greeting_tls_server
from tests.support.smtp_server import Script, fault_server, make_certs, smtp_server

REPO = Path(__file__).resolve().parents[3]
SPINNER = re.compile(rb"\r\x1b\[K  \S+ +\d+\.\d s")
STALLED_AUTH = Script(
    ehlo=b"250-fault.test\r\n250 AUTH PLAIN LOGIN\r\n", answer_auth=False
)  # greets and answers EHLO at once, then never answers AUTH


def _env(port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMTPCHECK_", "LOG_"))}
    env.update(
        PYTHONPATH=str(REPO),
        SMTPCHECK_ALLOW_NETWORKS="127.0.0.0/8",
        SMTPCHECK_ALLOWED_PORTS=str(port),
        TERM="xterm",
        PYTHONIOENCODING="utf-8",
    )
    return env


class Terminal:
    """The master side of a pty the CLI runs in; reads without blocking the event loop."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.master, slave = pty.openpty()
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [sys.executable, "-m", "bot.cli", *args],
            stdin=slave, stdout=slave, stderr=slave, env=env, cwd=REPO, close_fds=True,
        )  # fmt: skip
        os.close(slave)
        self.seen = b""

    async def read_until(self, marker: bytes | re.Pattern[bytes], within: float = 20.0) -> bytes:
        loop = asyncio.get_running_loop()

        def found() -> bool:
            if isinstance(marker, bytes):
                return marker in self.seen
            return marker.search(self.seen) is not None

        async with asyncio.timeout(within):
            while not found():
                chunk = await loop.run_in_executor(None, self._read)
                if not chunk:
                    raise AssertionError(f"terminal closed before {marker!r}: {self.seen!r}")
                self.seen += chunk
        return self.seen

    def _read(self) -> bytes:
        try:
            return os.read(self.master, 4096)
        except OSError:  # EIO once the child has exited and the slave is closed
            return b""

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    async def finish(self) -> int:
        loop = asyncio.get_running_loop()
        while chunk := await loop.run_in_executor(None, self._read):
            self.seen += chunk
        code = await loop.run_in_executor(None, self.process.wait, 20)
        os.close(self.master)
        return code


async def test_stage_lines_appear_while_the_probe_still_runs() -> None:
    """On a tty each finished stage is printed at once; the stalled AUTH shows a spinner
    with elapsed seconds, and the verdict only comes at the end."""
    async with fault_server(STALLED_AUTH) as server:
        args = ["probe", "127.0.0.1", "--port", str(server.port), "--security", "none",
                "--user", "alice", "--timeout", "3"]  # fmt: skip
        terminal = Terminal(args, _env(server.port))
        try:
            await terminal.read_until(b"Password for alice")
            terminal.write(b"not-a-real-password\n")
            seen = await terminal.read_until(b" tls ")
            assert b"resolve" in seen and b"connect" in seen and b"banner" in seen
            assert b"Verdict" not in seen  # AUTH is still unanswered: the probe runs on
            # the spinner: redrawn in place, with the seconds the running stage has taken
            await terminal.read_until(SPINNER)
        finally:
            code = await terminal.finish()
    text = terminal.seen.decode("utf-8", errors="replace")
    assert code == 3
    assert "Verdict: TIMEOUT" in text
    assert text.index(" tls ") < text.index("Verdict")
    assert "not-a-real-password" not in text


async def test_piped_output_is_the_report_in_one_piece() -> None:
    """Not a tty: no spinner, no escape codes; the same report as before."""
    async with fault_server(Script(ehlo=b"250-fault.test\r\n250 AUTH PLAIN\r\n")) as server:
        args = ["probe", "127.0.0.1", "--port", str(server.port), "--security", "none"]
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", *args, env=_env(server.port), cwd=REPO,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await process.communicate()
    assert process.returncode == 0
    assert b"\x1b" not in out and b"\r" not in out
    text = out.decode()
    assert text.startswith("smtpcheck probe 127.0.0.1 port")
    assert "Verdict: REACHABLE" in text


async def test_json_on_a_terminal_is_the_json_document_alone() -> None:
    """--json on a tty: no spinner, no stage lines, no escape codes; one JSON document
    (the pty turns \\n into \\r\\n, nothing else may differ)."""
    async with fault_server(Script(ehlo=b"250-fault.test\r\n250 AUTH PLAIN\r\n")) as server:
        args = ["probe", "127.0.0.1", "--port", str(server.port), "--security", "none", "--json"]
        terminal = Terminal(args, _env(server.port))
        code = await terminal.finish()
    assert code == 0
    assert b"\x1b" not in terminal.seen
    text = terminal.seen.decode("utf-8").replace("\r\n", "\n")
    assert "\r" not in text
    data = json.loads(text)
    assert data["outcome"] == "reachable"
    assert [step["stage"] for step in data["steps"]][-1] == "auth"


async def test_verdict_is_printed_before_the_unanswered_quit_ends() -> None:
    """The verdict is on the terminal while QUIT is still unanswered; the process then
    ends by the QUIT limit (2 s), not by the server."""
    script = Script(ehlo=b"250-fault.test\r\n250 AUTH PLAIN\r\n", answer_quit=False)
    async with fault_server(script) as server:
        args = ["probe", "127.0.0.1", "--port", str(server.port), "--security", "none"]
        terminal = Terminal(args, _env(server.port))
        await terminal.read_until(b"Read more")  # the last line of the report
        assert terminal.process.poll() is None  # still saying goodbye
        started = time.monotonic()
        code = await terminal.finish()
        waited = time.monotonic() - started
        assert server.quits == 1
    assert code == 0
    assert waited < 5.0


async def test_implicit_tls_shows_its_tls_line_before_the_greeting(tmp_path: Path) -> None:
    """With implicit TLS the ``tls`` line appears when the handshake ends, while the
    greeting is still awaited (it used to wait and come with the ``banner`` line)."""
    certs = make_certs(tmp_path)
    async with slow_greeting_tls_server(certs.good, delay=3.0) as port:
        args = ["probe", "127.0.0.1", "--port", str(port), "--security", "tls",
                "--ca-file", str(certs.ca_file), "--timeout", "8"]  # fmt: skip
        terminal = Terminal(args, _env(port))
        try:
            seen = await terminal.read_until(b" tls ")
            assert b"slow.test" not in seen  # the greeting has not come yet
            await terminal.read_until(b"slow.test")
        finally:
            await terminal.finish()
    text = terminal.seen.decode("utf-8", errors="replace")
    assert text.index(" tls ") < text.index("220 slow.test") < text.index("Verdict")


async def test_auto_says_which_mode_it_tries_first_and_which_it_found(tmp_path: Path) -> None:
    """With ``auto`` the header is printed before the mode is known: it names the mode
    tried first, not as if it were settled; the switch and the final mode follow."""
    certs = make_certs(tmp_path)
    async with smtp_server(tls="implicit", context=certs.good) as server:
        args = ["probe", "127.0.0.1", "--port", str(server.port),
                "--ca-file", str(certs.ca_file), "--timeout", "8"]  # fmt: skip
        terminal = Terminal(args, _env(server.port))
        code = await terminal.finish()
    text = terminal.seen.decode("utf-8", errors="replace")
    first = text.splitlines()[0]
    assert first == f"smtpcheck probe 127.0.0.1 port {server.port} (auto, trying starttls first)"
    assert "using implicit TLS (security auto)" in text  # the switch, in the banner line
    assert text.index(" tls ") < text.index("Verdict: REACHABLE")
    assert code == 0


async def _ctrl_c(terminal: Terminal) -> bytes:
    """One SIGINT: the run ends within seconds, exit 130, one line and no traceback."""
    terminal.process.send_signal(signal.SIGINT)
    code = await asyncio.get_running_loop().run_in_executor(None, terminal.process.wait, 5)
    await terminal.finish()
    assert code == 130
    assert b"smtpcheck: interrupted" in terminal.seen
    assert b"Traceback" not in terminal.seen
    return terminal.seen.replace(b"\r\n", b" ")


async def test_one_ctrl_c_at_the_password_prompt_ends_the_run() -> None:
    """The prompt blocks the event loop, where asyncio.run's own SIGINT handler cannot act:
    the first Ctrl-C used to go unnoticed. Now it ends the run at once, one line, exit 130;
    and after the password, Ctrl-C during the probe still does the same."""
    async with fault_server(STALLED_AUTH) as server:
        args = ["probe", "127.0.0.1", "--port", str(server.port), "--security", "none",
                "--user", "alice"]  # fmt: skip
        terminal = Terminal(args, _env(server.port))
        await terminal.read_until(b"Password for alice")
        assert b"failed attempt" not in await _ctrl_c(terminal)  # no login was sent

        terminal = Terminal(args, _env(server.port))
        await terminal.read_until(b"Password for alice")
        terminal.write(b"not-a-real-password\n")
        await terminal.read_until(SPINNER)  # AUTH is out and unanswered
        await wait_until(lambda: server.auth_commands >= 1, "the AUTH to arrive", within=10)
        # the login went out before the Ctrl-C: it may have cost an attempt; the user is told
        assert b"may count it as a failed attempt" in await _ctrl_c(terminal)


async def test_ctrl_c_with_json_after_the_login_is_a_json_document() -> None:
    """A script that asked for --json and interrupts the run still gets a document, which
    says whether the login had gone out."""
    async with fault_server(STALLED_AUTH) as server:
        args = ["probe", "127.0.0.1", "--port", str(server.port), "--security", "none",
                "--user", "alice", "--password-stdin", "--json"]  # fmt: skip
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", *args, env=_env(server.port), cwd=REPO,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert process.stdin is not None
        process.stdin.write(b"not-a-real-password\n")
        process.stdin.close()
        await wait_until(lambda: server.auth_commands >= 1, "the AUTH to arrive", within=15)
        process.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(process.communicate(), 10)
    assert process.returncode == 130
    assert json.loads(out) == {"outcome": "interrupted", "auth_sent": True}
    assert b"failed attempt" in err and b"Traceback" not in err
