"""``python -m bot`` / ``smtpcheck-bot``: run the Slack bot.

Socket Mode when ``SLACK_APP_TOKEN`` is set (plus ``/healthz`` and ``/metrics`` on
``$PORT``), otherwise the HTTP server on ``$PORT``. Bad or missing configuration
stops start-up with one line on stderr and exit code 2. SIGTERM/SIGINT: no new
checks, in-flight checks finish within the deadline, then exit.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Mapping

import aiohttp

from bot.app import build_app, configure_logging, make_client
from bot.config import Settings
from bot.errors import ConfigError
from bot.server import BotServer
from bot.store import make_store

EXIT_CONFIG = 2


def missing_credentials(settings: Settings) -> str | None:
    """One sentence naming what is missing for the selected mode, or None."""
    if settings.slack_bot_token is None:
        return "SLACK_BOT_TOKEN: not set (the bot token, xoxb-..., from the app's OAuth page)"
    if settings.slack_app_token is None and settings.slack_signing_secret is None:
        return (
            "SLACK_SIGNING_SECRET: not set (needed in HTTP mode; or set SLACK_APP_TOKEN "
            "for Socket Mode)"
        )
    return None


def main(environ: Mapping[str, str] | None = None) -> int:
    """Validate the configuration, then serve until SIGTERM/SIGINT."""
    try:
        settings = Settings.from_env(os.environ if environ is None else environ)
    except ConfigError as exc:
        print(f"smtpcheck-bot: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    problem = missing_credentials(settings)
    if problem is not None:
        print(f"smtpcheck-bot: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(settings.log_level)
    return asyncio.run(serve(settings))


async def serve(settings: Settings) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    store = make_store(settings)
    try:
        async with aiohttp.ClientSession() as session:
            bot = build_app(settings, store=store, client=make_client(settings, session=session))
            socket_mode = settings.slack_app_token is not None
            server = BotServer(bot, port=settings.port, slack_events=not socket_mode)
            await server.start()
            socket = None
            if settings.slack_app_token is not None:
                from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler

                socket = AsyncSocketModeHandler(
                    bot.app, settings.slack_app_token.reveal(), web_client=bot.client
                )
                # slack_bolt leaves these two unannotated.
                await socket.connect_async()  # type: ignore[no-untyped-call]
            await stop.wait()
            if socket is not None:
                await socket.disconnect_async()  # type: ignore[no-untyped-call]
            await server.stop()
    finally:
        await store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
