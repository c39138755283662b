"""The HTTP server against hostile clients: slow loris (many half-open requests), unsigned
and malformed requests, and health that reflects a dead store or CA bundle."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path

import pytest
import trustme

from bot.runtime.server import BotServer
from bot.store import MemoryStore
from tests.support import slack_signing as signing
from tests.support.harness import running_bot
from tests.support.scripted import ScriptedProbe

HALF_OPEN = 120
CAP = 40


async def half_open(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nX-Slow: ")  # never finished
    await writer.drain()
    return reader, writer


async def closed_by_server(reader: asyncio.StreamReader, within: float) -> bool:
    """Whether the server closed the connection (read() reached EOF) within ``within``."""
    try:
        await asyncio.wait_for(reader.read(), within)
    except (TimeoutError, ConnectionError):
        return False
    return True


async def test_slow_loris_cannot_take_the_bot_down(caplog: pytest.LogCaptureFixture) -> None:
    """120 half-open requests against a cap of 40: while they hang, /healthz and a signed
    command still answer at once (the oldest idle connections make room), the slow ones
    are closed after the header timeout, and each condition is logged once, not once per
    connection."""
    caplog.set_level(logging.WARNING, logger="bot.runtime.guard")
    async with running_bot(MemoryStore(), probe=ScriptedProbe()) as bot:
        server = BotServer(
            bot.bot, host="127.0.0.1", port=0, connection_cap=CAP, header_timeout=3.0
        )
        port = await server.start()
        try:
            clients = [await half_open(port) for _ in range(HALF_OPEN)]
            base = f"http://127.0.0.1:{port}"
            started = time.monotonic()
            async with bot.session.get(base + "/healthz") as health:
                assert health.status == 200
            body = signing.command_body("help")
            headers = signing.signed_headers(body, "test-signing-secret", content_type=signing.FORM)
            async with bot.session.post(base + "/slack/events", data=body, headers=headers) as r:
                assert r.status == 200
            assert time.monotonic() - started < 2.0  # well before any header timeout
            closed = await asyncio.gather(*(closed_by_server(r, 8.0) for r, _ in clients))
            assert all(closed), f"{closed.count(False)} slow connections were left open"
            for _, writer in clients:
                writer.close()
        finally:
            await server.stop()
    lines = [r.getMessage() for r in caplog.records if r.name == "bot.runtime.guard"]
    assert sum("too many open HTTP connections" in line for line in lines) == 1, lines
    assert sum("too slow" in line for line in lines) == 1, lines


async def test_unsigned_and_malformed_requests_get_4xx_not_500(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No signature, a bad one, or a signed body Bolt cannot parse: 401 or 400, never
    500, and no traceback in the log."""
    caplog.set_level(logging.DEBUG)
    async with running_bot(MemoryStore(), probe=ScriptedProbe()) as bot:
        async with bot.session.post(bot.url, data=b"payload=%7B") as response:
            assert response.status == 401
        status, _ = await bot.post("payload=%7B", content_type=signing.FORM, secret="wrong")
        assert status == 401
        for body, kind in (
            ("payload=%7Bnot-json", signing.FORM),
            ("{not json", signing.JSON),
            ("payload=%5B1%2C2%5D", signing.FORM),
        ):
            status, _ = await bot.post(body, content_type=kind)
            assert status in (200, 400, 404), (body, status)
    assert "Traceback" not in caplog.text


async def test_healthz_503_when_the_ca_bundle_breaks(tmp_path: Path) -> None:
    """A CA bundle that stops loading (replaced by junk) turns /healthz to 503."""
    ca_file = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(ca_file))
    async with running_bot(
        MemoryStore(), probe=ScriptedProbe(), settings_changes={"ca_file": ca_file}
    ) as bot:
        url = bot.url.replace("/slack/events", "/healthz")
        async with bot.session.get(url) as health:
            assert health.status == 200 and (await health.json())["ca_file"] == "ok"
        ca_file.write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
        async with bot.session.get(url) as health:
            assert health.status == 503
            assert json.loads(await health.text())["ca_file"] == "unusable"
