"""How fast does the bot acknowledge /smtpcheck and open the modal?

Starts a fake Slack Web API (in this process) and the real bot (``python -m bot``,
HTTP mode, in a subprocess so its memory is measured alone), then sends N signed
``/smtpcheck`` commands at concurrency C. Prints ack latency p50/p99, the delay
from sending the command until ``views.open`` reaches the fake API, and the bot's
peak RSS. The last line is JSON.

Targets at C=50: ack p99 <= 100 ms, views.open p99 <= 300 ms, RSS <= 150 MB.

    python bench/ack.py -n 1000 -c 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import slack_signing as signing  # noqa: E402 (needs the path above)
from tests.support.fake_slack import FakeSlack  # noqa: E402

SECRET = "bench-signing-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def wait_healthy(
    session: aiohttp.ClientSession, base: str, bot: asyncio.subprocess.Process
) -> None:
    for _ in range(200):
        if bot.returncode is not None:
            raise SystemExit(f"bot exited with {bot.returncode}")
        try:
            async with session.get(base + "/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.05)
    raise SystemExit("bot did not become healthy")


async def run(total: int, concurrency: int) -> dict[str, float]:
    slack = await FakeSlack().start()
    port = free_port()
    env = {
        **os.environ,
        "SLACK_BOT_TOKEN": "xoxb-bench-token",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }
    env.pop("SLACK_APP_TOKEN", None)
    env.pop("REDIS_URL", None)
    bot = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    sent: dict[str, float] = {}
    acks: list[float] = []
    try:
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            await wait_healthy(session, base, bot)
            queue: asyncio.Queue[int] = asyncio.Queue()
            for i in range(total):
                queue.put_nowait(i)

            async def worker() -> None:
                while not queue.empty():
                    i = queue.get_nowait()
                    trigger = f"bench-{i}"
                    body = signing.command_body("", trigger_id=trigger, user_id=f"U{i:06d}")
                    headers = signing.signed_headers(body, SECRET, content_type=signing.FORM)
                    start = time.perf_counter()
                    sent[trigger] = start
                    async with session.post(
                        base + "/slack/events", data=body, headers=headers
                    ) as r:
                        await r.read()
                        if r.status != 200:
                            raise SystemExit(f"command {i} answered {r.status}")
                    acks.append((time.perf_counter() - start) * 1000)

            await asyncio.gather(*(worker() for _ in range(concurrency)))
            await slack.wait_for("views.open", total, within=60.0)
        rss = peak_rss_mb(bot.pid)
    finally:
        bot.terminate()
        await asyncio.wait_for(bot.wait(), 30)
        await slack.stop()
    opens = [
        (call.at - sent[call.params["trigger_id"]]) * 1000
        for call in slack.of("views.open")
        if call.params.get("trigger_id") in sent
    ]
    return {
        "ack_p50_ms": statistics.median(acks),
        "ack_p99_ms": percentile(acks, 0.99),
        "views_open_p50_ms": statistics.median(opens),
        "views_open_p99_ms": percentile(opens, 0.99),
        "rss_mb": rss,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--requests", type=int, default=1000)
    parser.add_argument("-c", "--concurrency", type=int, default=50)
    args = parser.parse_args()
    figures = asyncio.run(run(args.requests, args.concurrency))
    print(f"requests={args.requests} concurrency={args.concurrency}")
    print(f"ack        p50 {figures['ack_p50_ms']:7.1f} ms   p99 {figures['ack_p99_ms']:7.1f} ms")
    print(
        f"views.open p50 {figures['views_open_p50_ms']:7.1f} ms   "
        f"p99 {figures['views_open_p99_ms']:7.1f} ms"
    )
    print(f"peak RSS   {figures['rss_mb']:.1f} MB")
    keys = ("ack_p99_ms", "views_open_p99_ms", "rss_mb")
    print(json.dumps({key: round(figures[key], 1) for key in keys}))


if __name__ == "__main__":
    main()
