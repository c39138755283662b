"""Real bot processes for the end-to-end tier: ``python -m bot`` in HTTP mode,
configured by environment variables only, with stderr (LOG_LEVEL=DEBUG) kept in a
file per process; and the Redis database these tests own.

The approach is ``bench/ack.py``'s (a free port from binding port 0, poll
``/healthz``), plus waiting for the "listening on" log line, which the server
writes only after its start-up sweep, so a test knows when the sweep is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import redis.asyncio as aioredis

from tests.bot.store.support import REDIS_HOST, REDIS_PORT, require_redis
from tests.e2e.smtp import SmtpServer
from tests.support import slack_signing as signing

ROOT = Path(__file__).resolve().parents[2]
REDIS_DB = 11  # no other test uses this database; these tests flush it before and after
SIGNING_SECRET = "process-e2e-signing-secret"
START_WITHIN = 30.0  # seconds for a bot process to listen (a loaded 2-core machine)
LISTENING = "bot.runtime.server: listening on"  # logged after the start-up sweep
LOCK_FILE = Path(tempfile.gettempdir()) / f"smtpcheck-e2e-redis-db{REDIS_DB}.lock"
LOCK_WITHIN = 180.0  # another run of this module takes well under a minute


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_until(condition: Callable[[], bool], what: str, *, within: float = 20.0) -> None:
    """Poll ``condition`` until true; fail naming ``what`` after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:.0f} s waiting for {what}")
        await asyncio.sleep(0.05)


# -- Redis ------------------------------------------------------------------------------
def redis_db() -> aioredis.Redis:
    """A client on this module's own database (text in, text out)."""
    return aioredis.Redis(
        host=REDIS_HOST,
        port=REDIS_PORT,
        db=REDIS_DB,
        decode_responses=True,
        socket_timeout=5,
        socket_connect_timeout=5,
    )


@asynccontextmanager
async def exclusive(path: Path, *, within: float = LOCK_WITHIN) -> AsyncIterator[None]:
    """Hold an exclusive lock on ``path`` across processes. The checkout is shared:
    two pytest runs of this module at once would flush and sweep each other's data
    (a record one run ages is old enough for the other run's sweep)."""
    with path.open("a") as handle:
        deadline = time.monotonic() + within
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"{path} stayed locked for {within:.0f} s") from None
                await asyncio.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@asynccontextmanager
async def own_redis_db() -> AsyncIterator[aioredis.Redis]:
    """Database ``REDIS_DB``, to this test alone (other runs wait), flushed on entry
    and on exit. Skipped without Redis; under CI=true its absence fails."""
    require_redis()
    async with exclusive(LOCK_FILE):
        client = redis_db()
        await client.flushdb()
        try:
            yield client
        finally:
            await client.flushdb()
            await client.aclose()


# -- bot processes --------------------------------------------------------------------
def bot_environment(*, api_url: str, port: int, smtp: SmtpServer) -> dict[str, str]:
    """The test's settings over the inherited environment, minus any bot settings
    the runner happens to have."""
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "SMTPCHECK_", "REDIS_"))
        and key not in ("PORT", "LOG_LEVEL")
    }
    return {
        **inherited,
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": api_url,
        "PORT": str(port),
        "REDIS_URL": f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}",
        "SMTPCHECK_ALLOW_NETWORKS": "127.0.0.0/8",
        "SMTPCHECK_ALLOWED_PORTS": f"587,{smtp.port}",
        "SMTPCHECK_CA_FILE": str(smtp.ca_file),
        "SMTPCHECK_DNS_SERVERS": "127.0.0.1:9",  # nothing answers: no public DNS, ever
        "LOG_LEVEL": "DEBUG",
    }


@dataclass(slots=True)
class BotProcess:
    """One ``python -m bot`` and a client that talks to it the way Slack does."""

    name: str
    process: asyncio.subprocess.Process
    port: int
    log_path: Path
    session: aiohttp.ClientSession

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def wait_listening(self) -> None:
        """Until ``/healthz`` answers 200 and the start-up sweep is over."""
        deadline = time.monotonic() + START_WITHIN
        while True:
            if self.process.returncode is not None:
                raise AssertionError(
                    f"bot {self.name} exited with {self.process.returncode}:\n{self.log()[-3000:]}"
                )
            if LISTENING in self.log() and await self.health() == 200:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"bot {self.name} not listening after {START_WITHIN:.0f} s")
            await asyncio.sleep(0.05)

    async def health(self) -> int | None:
        """``/healthz`` status, or None when nothing answers."""
        try:
            async with self.session.get(self.base + "/healthz") as response:
                return response.status
        except aiohttp.ClientError:
            return None

    async def post(self, body: str, content_type: str) -> tuple[int, str]:
        headers = signing.signed_headers(body, SIGNING_SECRET, content_type=content_type)
        async with self.session.post(
            self.base + "/slack/events", data=body.encode(), headers=headers
        ) as response:
            return response.status, await response.text()

    async def command(self, text: str = "", **kwargs: Any) -> tuple[int, str]:
        return await self.post(signing.command_body(text, **kwargs), signing.FORM)

    async def submit(
        self, view: dict[str, Any], values: dict[str, Any], **kwargs: Any
    ) -> tuple[int, str]:
        payload = signing.view_submission(view, values, **kwargs)
        return await self.post(signing.interactive_body(payload), signing.FORM)

    def signal(self, signum: signal.Signals) -> None:
        if self.process.returncode is None:
            self.process.send_signal(signum)

    async def exit_code(self, within: float) -> int:
        return await asyncio.wait_for(self.process.wait(), within)


@dataclass(slots=True)
class Fleet:
    """Bot processes started by one test; ``close`` kills whatever still runs."""

    api_url: str
    smtp: SmtpServer
    logs: Path
    session: aiohttp.ClientSession
    bots: list[BotProcess] = field(default_factory=list)

    async def start(self, name: str) -> BotProcess:
        """Spawn a bot (its log in ``<logs>/<name>.log``) and wait until it listens."""
        port = free_port()
        log_path = self.logs / f"{name}.log"
        with log_path.open("wb") as log_file:  # the child keeps its own descriptor
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                cwd=ROOT,
                env=bot_environment(api_url=self.api_url, port=port, smtp=self.smtp),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log_file,
                stderr=log_file,
            )
        bot = BotProcess(name, process, port, log_path, self.session)
        self.bots.append(bot)
        await bot.wait_listening()
        return bot

    async def close(self) -> None:
        for bot in self.bots:
            if bot.process.returncode is None:
                bot.process.kill()
            with contextlib.suppress(ProcessLookupError):
                await bot.process.wait()


@asynccontextmanager
async def fleet(api_url: str, smtp: SmtpServer, logs: Path) -> AsyncIterator[Fleet]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        bots = Fleet(api_url, smtp, logs, session)
        try:
            yield bots
        finally:
            await bots.close()
