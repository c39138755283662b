"""Serve until SIGTERM/SIGINT: HTTP (``/slack/events``) or Socket Mode, then drain.

The bot token is checked once at start-up (``auth.test``, bounded): a token Slack
refuses stops the process with one line; an unreachable Slack is said once and the
bot serves anyway. In Socket Mode the connection is made in the background, so a
bot that cannot reach Slack still stops on SIGTERM within seconds; each failed
attempt is one log line (the SDK logs a traceback per retry), and shutdown uses
``close_async`` (``disconnect_async`` lets the SDK reconnect while draining).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from typing import Any, Final

from bot.config import Settings
from bot.runtime.identity import TokenCheck
from bot.runtime.server import BotServer
from bot.runtime.wiring import build_app, make_client, make_session
from bot.store import make_store

log = logging.getLogger(__name__)

EXIT_TOKEN: Final = 2
SOCKET_CLOSE_WITHIN: Final = 3.0
SOCKET_LOGGER: Final = "slack_sdk.socket_mode.smtpcheck"


class OneLine(logging.Filter):
    """Drop the traceback from a record: the SDK's retry loop logs one per attempt."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


def socket_logger() -> logging.Logger:
    logger = logging.getLogger(SOCKET_LOGGER)
    logger.setLevel(max(logging.INFO, logging.getLogger().getEffectiveLevel()))
    if not any(isinstance(f, OneLine) for f in logger.filters):
        logger.addFilter(OneLine())
    return logger


async def serve(settings: Settings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    store = make_store(settings)
    try:
        async with make_session() as session:
            bot = build_app(settings, store=store, client=make_client(settings, session=session))
            socket_mode = settings.slack_app_token is not None
            server = BotServer(bot, port=settings.port, slack_events=not socket_mode)
            await server.start()
            if server.token_check is TokenCheck.INVALID:
                print(
                    "smtpcheck-bot: SLACK_BOT_TOKEN: Slack refused it "
                    f"({bot.identity.problem if bot.identity else 'invalid'}); "
                    "copy the Bot User OAuth Token again",
                    file=sys.stderr,
                )
                await server.stop()
                return EXIT_TOKEN
            socket: Any = None
            connecting: asyncio.Task[None] | None = None
            if settings.slack_app_token is not None:
                from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

                socket = AsyncSocketModeHandler(
                    bot.app,
                    settings.slack_app_token.reveal(),
                    logger=socket_logger(),
                    web_client=bot.client,
                )
                connecting = asyncio.create_task(socket.connect_async())
            await stop.wait()
            if socket is not None:
                await close_socket(socket, connecting)
            await server.stop()
    finally:
        await store.close()
    return 0


async def close_socket(socket: Any, connecting: asyncio.Task[None] | None) -> None:
    """``close_async`` (no reconnect), and the connecting loop stopped, within seconds."""
    try:
        async with asyncio.timeout(SOCKET_CLOSE_WITHIN):
            await socket.close_async()
    except Exception:
        log.warning("Socket Mode did not close cleanly")
    if connecting is not None and not connecting.done():
        connecting.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await connecting
