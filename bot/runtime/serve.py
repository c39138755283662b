"""Serve until SIGTERM/SIGINT: HTTP (``/slack/events``) or Socket Mode, then drain."""

from __future__ import annotations

import asyncio
import signal

from bot.config import Settings
from bot.runtime.server import BotServer
from bot.runtime.wiring import build_app, make_client, make_session
from bot.store import make_store


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
