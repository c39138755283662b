"""Start-up: whole-process time of `smtpcheck explain|ask|discover` against a baseline,
and `smtpcheck-bot` time to a healthy /healthz and its resident memory.

Baseline, measured in the same run, interleaved with the commands so drift hits
all alike: ``python -c "import asyncio, ssl, aiosmtplib"`` (what any asyncio SMTP
tool pays before doing anything). ``discover`` asks a local DNS server on port 0
(``SMTPCHECK_DNS_SERVERS``), so no query leaves the machine.

    python bench/startup.py [--runs 15] [--cold] [--no-bytecode]

The commands use a knowledge cache (``knowledge.cache``) in a fresh temporary directory,
written by the warm-up run: what every start after the first one costs. ``--cold`` turns
the cache off (``SMTPCHECK_CACHE_DIR=``): what the first start after a change of the data
or the code costs (a little less, as nothing is written).

Bytecode: the baseline's modules come with the ``.pyc`` files pip wrote when installing
them, so the commands get theirs too: written by the warm-up run into a temporary
``PYTHONPYCACHEPREFIX``, whatever ``PYTHONDONTWRITEBYTECODE`` says outside (an installed
smtpcheck has them from pip). ``--no-bytecode`` compiles every smtpcheck module from source
on every start instead (a checkout run with ``PYTHONDONTWRITEBYTECODE=1``: some 40-60 ms).

Prints median and p90 per command and its ratio to the baseline (and the median CPU time
used, user + system, with its ratio: steadier than wall time on a loaded machine), then the bot's
start-up, then one line of JSON. Target: every ratio <= 2.0.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.support.dns_server import dns_server  # noqa: E402 (after the path is set)

BASELINE = [sys.executable, "-c", "import asyncio, ssl, aiosmtplib"]
CLI = [sys.executable, "-m", "bot.cli"]
COMMANDS = {
    "explain": [*CLI, "explain", "535-5.7.8 Username and Password not accepted. BadCredentials"],
    "ask": [*CLI, "ask", "outlook keeps asking for my password"],
    "discover": [*CLI, "discover", "alice@example.test"],
}
ZONE = {("example.test.", "MX"): ["10 mx.example.test."], ("mx.example.test.", "A"): ["192.0.2.1"]}


def _env(dns_address: str, cache_dir: str, pycache: str | None) -> dict[str, str]:
    """The commands' environment; ``pycache``: where bytecode goes (None: none is written)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SMTPCHECK_", "SLACK_"))}
    env.update(PYTHONPATH=str(REPO), SMTPCHECK_DNS_SERVERS=dns_address)
    if pycache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = pycache
    env["SMTPCHECK_CACHE_DIR"] = cache_dir  # "": no cache
    env.pop("LOG_LEVEL", None)
    return env


def _time(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall-clock seconds of one run, and the CPU seconds (user + system) it used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603 (fixed commands)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _bot_start(env: dict[str, str]) -> tuple[float, int]:
    """Seconds until /healthz answers 200, and the process's RSS (KiB) at that point."""
    port = _free_port()
    bot_env = {
        **env,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": "bench-secret",
        "SLACK_API_URL": "http://127.0.0.1:9/api/",  # nothing answers: no Slack, ever
        "PORT": str(port),
    }
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot"], env=bot_env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError("smtpcheck-bot exited during start-up") from None
                time.sleep(0.01)
        elapsed = time.perf_counter() - started
        status = Path(f"/proc/{process.pid}/status").read_text()
        rss = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
        return elapsed, rss
    finally:
        process.terminate()
        process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--cold", action="store_true", help="no knowledge cache")
    parser.add_argument(
        "--no-bytecode", action="store_true", help="compile smtpcheck from source on each start"
    )
    args = parser.parse_args()
    print(json.dumps(measure(args.runs, cold=args.cold, bytecode=not args.no_bytecode)))


def measure(runs: int, *, cold: bool = False, bytecode: bool = True) -> dict[str, float]:
    """Run the measurement and print its lines; return the figures (bench/probe.py too)."""
    with (
        dns_server(ZONE) as dns,
        tempfile.TemporaryDirectory() as cache,
        tempfile.TemporaryDirectory() as pycache,
    ):
        print(
            f"knowledge cache: {'off (cold starts)' if cold else 'warm (written by the warm-up)'}"
            f"; bytecode: {'written by the warm-up' if bytecode else 'none (compiled each start)'}"
        )
        env = _env(dns.address, "" if cold else cache, pycache if bytecode else None)
        for command in (BASELINE, *COMMANDS.values()):
            _time(command, env)  # warm the page cache, the knowledge cache and .pyc files
        samples: dict[str, list[tuple[float, float]]] = {
            "baseline": [],
            **{name: [] for name in COMMANDS},
        }
        for _ in range(runs):
            samples["baseline"].append(_time(BASELINE, env))
            for name, command in COMMANDS.items():
                samples[name].append(_time(command, env))
        bot = [_bot_start(env) for _ in range(3)]
    base = statistics.median(wall for wall, _ in samples["baseline"])
    base_cpu = statistics.median(cpu for _, cpu in samples["baseline"])
    figures: dict[str, float] = {"baseline_s": round(base, 3)}
    for name, runs_of in samples.items():
        values = sorted(wall for wall, _ in runs_of)
        median, p90 = statistics.median(values), values[int(0.9 * (len(values) - 1))]
        cpu = statistics.median(cpu for _, cpu in runs_of)
        print(
            f"{name:<9} median {median * 1000:6.0f} ms  p90 {p90 * 1000:6.0f} ms  "
            f"x{median / base:.2f}   CPU {cpu * 1000:4.0f} ms x{cpu / base_cpu:.2f}"
        )
        if name != "baseline":
            figures[f"{name}_s"] = round(median, 3)
            figures[f"{name}_ratio"] = round(median / base, 2)
            figures[f"{name}_cpu_ratio"] = round(cpu / base_cpu, 2)
    bot_s = statistics.median(t for t, _ in bot)
    bot_rss = statistics.median(r for _, r in bot)
    print(f"smtpcheck-bot: healthy after {bot_s * 1000:.0f} ms, RSS {bot_rss / 1024:.1f} MiB")
    figures.update(bot_start_s=round(bot_s, 3), bot_rss_mib=round(bot_rss / 1024, 1))
    return figures


if __name__ == "__main__":
    main()
