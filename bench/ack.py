"""How fast does the bot acknowledge /smtpcheck and open the modal?

Three processes, so that the figures are about the bot and not about the bench:
the real bot (``python -m bot``, HTTP mode) whose memory and CPU are measured alone,
the fake Slack Web API (this script with ``--serve-fake-slack``) which records when
each ``views.open`` arrives, and this process, the load generator, which sends N
signed ``/smtpcheck`` commands at concurrency C. With everything in one event loop
the load generator's clock also counted the time it spent serving the fake Slack,
which inflated the ack figures. The two bench processes use uvloop when it is
installed and stay on one CPU (less CPU taken from the bot on a small machine);
the bot runs as it would in production.

Prints ack latency p50/p99, the delay from sending the command until ``views.open``
reaches the fake API, the bot's peak RSS and the CPU each process spent per
request. The last line is JSON.

Targets at C=50: ack p99 <= 100 ms, views.open p99 <= 300 ms, RSS <= 150 MB.

    python bench/ack.py -n 1000 -c 50
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import socket
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support import slack_signing as signing  # noqa: E402 (needs the path above)
from tests.support.fake_slack import FakeSlack  # noqa: E402

SECRET = "bench-signing-secret"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
OPEN_WITHIN = 60.0  # seconds the fake Slack waits for the last views.open
T = TypeVar("T")


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


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process."""
    # The command name (field 2) may hold spaces; the fields after ")" are fixed.
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def run_loop(main: Callable[[], Coroutine[Any, Any, T]]) -> tuple[T, str]:
    """Run ``main`` on uvloop when installed, else on asyncio's loop; say which."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main()), "asyncio"
    return uvloop.run(main()), "uvloop"


def keep_bench_aside(*pids: int) -> None:
    """With two or more CPUs, keep the bench processes on the last one, so they
    never preempt the bot where it runs (the bot itself is left to the scheduler)."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) >= 2:
        for pid in pids:
            os.sched_setaffinity(pid, {cpus[-1]})


def quiet_collector() -> None:
    """Bench processes only: no cyclic collection during the run (it is short and
    bounded), so a collector pause in the bench is never counted as the bot's."""
    gc.collect()
    gc.freeze()
    gc.disable()


async def serve_fake_slack() -> None:
    """Child mode: print the API URL, then on ``wait N`` print when each of N
    ``views.open`` calls arrived (trigger_id -> perf_counter, which is
    CLOCK_MONOTONIC and so comparable across processes on one machine)."""
    slack = await FakeSlack().start()
    loop = asyncio.get_running_loop()
    quiet_collector()
    print(json.dumps({"api_url": slack.api_url, "cpu_s": cpu_seconds(os.getpid())}), flush=True)
    try:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        count = int(line.split()[1])
        with contextlib.suppress(AssertionError):  # report what came; the parent checks
            await slack.wait_for("views.open", count, within=OPEN_WITHIN)
        arrivals = {str(call.params.get("trigger_id")): call.at for call in slack.of("views.open")}
        cpu = cpu_seconds(os.getpid())
        print(json.dumps({"arrivals": arrivals, "cpu_s": cpu}), flush=True)
    finally:
        await slack.stop()


async def read_json(stream: asyncio.StreamReader) -> dict[str, Any]:
    line = await stream.readline()
    if not line:
        raise SystemExit("fake Slack exited early")
    value: dict[str, Any] = json.loads(line)
    return value


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


async def stopping(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
    await asyncio.wait_for(process.wait(), 30)


async def run(total: int, concurrency: int) -> dict[str, float]:
    fake = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--serve-fake-slack",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        limit=1 << 24,  # the arrivals line grows with -n
    )
    assert fake.stdin is not None and fake.stdout is not None
    cleanup: list[Callable[[], Awaitable[None]]] = [lambda: stopping(fake)]
    try:
        started = await read_json(fake.stdout)
        api_url = str(started["api_url"])
        port = free_port()
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": "xoxb-bench-token",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": api_url,
            "PORT": str(port),
            "LOG_LEVEL": "WARNING",
        }
        env.pop("SLACK_APP_TOKEN", None)
        env.pop("REDIS_URL", None)
        bot = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", cwd=ROOT, env=env)
        cleanup.insert(0, lambda: stopping(bot))
        keep_bench_aside(fake.pid, os.getpid())
        base = f"http://127.0.0.1:{port}"
        # Signed up front (valid for 300 s, far longer than a run) so the clock
        # measures the bot, not the bench building requests.
        requests = []
        for i in range(total):
            trigger = f"bench-{i}"
            body = signing.command_body("", trigger_id=trigger, user_id=f"U{i:06d}")
            headers = signing.signed_headers(body, SECRET, content_type=signing.FORM)
            requests.append((trigger, body.encode(), headers))
        sent: dict[str, float] = {}
        acks: list[float] = []
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            await wait_healthy(session, base, bot)
            quiet_collector()
            bot_cpu_before = cpu_seconds(bot.pid)
            own_cpu_before = time.process_time()
            pending = iter(requests)

            async def worker() -> None:
                for trigger, body, headers in pending:
                    start = time.perf_counter()
                    sent[trigger] = start
                    async with session.post(
                        base + "/slack/events", data=body, headers=headers
                    ) as r:
                        await r.read()
                        if r.status != 200:
                            raise SystemExit(f"command {trigger} answered {r.status}")
                    acks.append((time.perf_counter() - start) * 1000)

            await asyncio.gather(*(worker() for _ in range(concurrency)))
            own_cpu = time.process_time() - own_cpu_before
            fake.stdin.write(f"wait {total}\n".encode())
            await fake.stdin.drain()
            report = await read_json(fake.stdout)
        bot_cpu = cpu_seconds(bot.pid) - bot_cpu_before
        rss = peak_rss_mb(bot.pid)
    finally:
        for step in cleanup:
            await step()
    arrivals: dict[str, float] = report["arrivals"]
    opens = [(at - sent[trigger]) * 1000 for trigger, at in arrivals.items() if trigger in sent]
    if len(opens) < total:
        raise SystemExit(f"only {len(opens)} of {total} views.open calls reached the fake Slack")
    return {
        "ack_p50_ms": statistics.median(acks),
        "ack_p99_ms": percentile(acks, 0.99),
        "views_open_p50_ms": statistics.median(opens),
        "views_open_p99_ms": percentile(opens, 0.99),
        "rss_mb": rss,
        "bot_cpu_ms": bot_cpu * 1000 / total,
        "fake_cpu_ms": (float(report["cpu_s"]) - float(started["cpu_s"])) * 1000 / total,
        "load_cpu_ms": own_cpu * 1000 / total,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("-n", "--requests", type=int, default=1000)
    parser.add_argument("-c", "--concurrency", type=int, default=50)
    parser.add_argument("--serve-fake-slack", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_fake_slack:
        run_loop(serve_fake_slack)
        return
    figures, loop = run_loop(lambda: run(args.requests, args.concurrency))
    print(f"requests={args.requests} concurrency={args.concurrency} bench loop={loop}")
    print(f"ack        p50 {figures['ack_p50_ms']:7.1f} ms   p99 {figures['ack_p99_ms']:7.1f} ms")
    print(
        f"views.open p50 {figures['views_open_p50_ms']:7.1f} ms   "
        f"p99 {figures['views_open_p99_ms']:7.1f} ms"
    )
    print(f"peak RSS   {figures['rss_mb']:.1f} MB")
    print(
        f"CPU per request: bot {figures['bot_cpu_ms']:.2f} ms, "
        f"fake Slack {figures['fake_cpu_ms']:.2f} ms, load {figures['load_cpu_ms']:.2f} ms"
    )
    keys = ("ack_p99_ms", "views_open_p99_ms", "rss_mb")
    print(json.dumps({key: round(figures[key], 1) for key in keys}))


if __name__ == "__main__":
    main()
