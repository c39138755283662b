"""A TCP proxy on 127.0.0.1, port 0, that delays every chunk by ``delay`` seconds each way.

It emulates a network path with a round-trip time of ``2 * delay`` for counting round
trips: a client whose dialogue needs N round trips through it takes about
``N * 2 * delay`` (plus local processing). Chunks keep their order and are
delayed from the moment they arrive, so a burst is not serialised (latency, not
bandwidth). Runs its own event loop in a thread, so the client's loop measures
only itself.

Connection set-up itself is not delayed (the kernel accepts at once): the first
thing the client waits for is the server's greeting, half a round trip away.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from typing import Final

_CHUNK: Final = 65536


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, data = await queue.get()
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                with contextlib.suppress(OSError):
                    writer.write_eof()
                return
            writer.write(data)
            with contextlib.suppress(OSError):
                await writer.drain()

    sender = asyncio.create_task(deliver())
    try:
        while True:
            try:
                data = await reader.read(_CHUNK)
            except OSError:
                data = b""
            queue.put_nowait((loop.time() + delay, data))
            if not data:
                break
        await sender
    finally:
        sender.cancel()


async def _serve(upstream: tuple[str, int], delay: float, ready: asyncio.Future[int]) -> None:
    async def session(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_connection(*upstream)
        except OSError:
            client_w.close()
            return
        try:
            await asyncio.gather(
                _pump(client_r, server_w, delay),
                _pump(server_r, client_w, delay),
                return_exceptions=True,
            )
        except asyncio.CancelledError:
            pass  # the proxy is stopping: end quietly (asyncio would log it otherwise)
        finally:
            for writer in (client_w, server_w):
                writer.close()

    server = await asyncio.start_server(session, "127.0.0.1", 0)
    ready.set_result(server.sockets[0].getsockname()[1])
    async with server:
        await asyncio.Event().wait()  # until the loop is stopped


@contextlib.contextmanager
def delay_proxy(upstream: tuple[str, int], delay: float = 0.025) -> Iterator[int]:
    """Run the proxy in a thread; yield its port."""
    loop = asyncio.new_event_loop()
    ready: asyncio.Future[int] = loop.create_future()
    task = loop.create_task(_serve(upstream, delay, ready))
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    port = asyncio.run_coroutine_threadsafe(_wait(ready), loop).result(10)
    try:
        yield port
    finally:
        asyncio.run_coroutine_threadsafe(_stop(task), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


async def _stop(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    current = asyncio.current_task()
    others = [t for t in asyncio.all_tasks() if t is not current]
    for other in others:
        other.cancel()
    await asyncio.gather(*others, return_exceptions=True)


async def _wait(ready: asyncio.Future[int]) -> int:
    return await ready
