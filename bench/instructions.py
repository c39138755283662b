"""Instructions per probe, counted by callgrind: ``run_probe`` against bare aiosmtplib.

bench/probe.py's throughput rounds at concurrency 50 spread widely on a shared machine
(0.61-1.05 in one run), so a change of a few per cent in what a probe costs cannot be
seen there. Instruction counts hardly move with the machine's load (1-2 % between runs:
how often the event loop wakes depends on timing, and TLS keys are random): each client runs in
a process of its own under ``valgrind --tool=callgrind``, once with ``--runs`` runs and
once with five times as many, and per run = (many - few) / the extra runs, so start-up
and imports cancel out. The aiosmtpd server (STARTTLS + AUTH, as in bench/probe.py) runs
in its own process, not counted.

Clients, one sequential run after another, each waiting for its QUIT: ``smtpcheck`` (the
default probe: security and mechanism auto), ``told`` (``--security starttls
--mechanism plain``, the same protocol steps as the bare client), ``parts`` (the probe's
own parts without its engine: the socket it connects, the first-bytes peek, its TLS
context, ``TappedSMTP`` and the transcript, doing the same dialogue; what is left between
it and ``smtpcheck`` is the engine: stages, timers, steps, report) and ``aiosmtplib``
(the bare client of bench/probe.py).

Callgrind counts user-space instructions only: system calls, cache misses and branch
mispredictions are not in the figure. Python bytecode costs more time per instruction
than the TLS library's arithmetic, so the time ratio is worse than this one; this is the
steady figure to compare changes by, not the throughput target.

    python bench/instructions.py [--runs 5]

Prints one line per client and the ratios, then one line of JSON:
{"smtpcheck_per_run":..,"told_per_run":..,"parts_per_run":..,"aiosmtplib_per_run":..,
 "ratio":.. (aiosmtplib / smtpcheck), "ratio_told":.., "engine_share":.. ((smtpcheck -
 parts) / smtpcheck)}. Skipped, with a note and exit 0,
when valgrind is not installed.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import re
import shutil
import ssl
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Final

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.probe import _bare, served  # noqa: E402 (after the path is set)
from bot.config import Settings  # noqa: E402
from bot.probe import Collaborators, Outcome, build_request, farewell, run_probe  # noqa: E402
from bot.probe.session import TappedSMTP, first_bytes, open_socket  # noqa: E402
from bot.probe.transcript import Transcript  # noqa: E402
from tests.support.smtp_server import PASSWORD, USER  # noqa: E402

CLIENTS: Final = ("smtpcheck", "told", "parts", "aiosmtplib")
MORE: Final = 5  # the long run has this many times the short run's runs
_COLLECTED: Final = re.compile(r"Collected : (\d+)")


def per_run(few: int, many: int, runs: int) -> float:
    """Instructions per run from a count with ``runs`` runs and one with ``MORE`` times as many."""
    extra = runs * (MORE - 1)
    if extra <= 0:
        raise ValueError("runs must be at least 1")
    return (many - few) / extra


def collected(output: str) -> int:
    """The instruction count callgrind reports at exit."""
    found = _COLLECTED.search(output)
    if found is None:
        raise RuntimeError(f"no callgrind total in: {output[-300:]!r}")
    return int(found.group(1))


def client_action(name: str, port: int, ca_file: Path) -> Callable[[], Awaitable[None]]:
    """One run of client ``name`` against the server on ``port``, QUIT's reply included."""
    if name == "aiosmtplib":
        context = ssl.create_default_context(cafile=str(ca_file))
        return lambda: _bare(port, context)
    settings = Settings(
        allow_networks=(ipaddress.ip_network("127.0.0.0/8"),), allowed_ports=frozenset({port})
    )
    request = build_request(
        host="127.0.0.1",
        port=port,
        security="starttls" if name == "told" else "auto",
        mechanism="plain" if name == "told" else "auto",
        username=USER,
        password=PASSWORD,
        allowed_ports=settings.allowed_ports,
    )
    collaborators = Collaborators.from_settings(settings, ca_files=[ca_file])
    if name == "parts":
        return lambda: _parts(port, collaborators.tls_context)

    async def probe() -> None:
        report = await run_probe(request, collaborators=collaborators, deadline=30)
        if report.outcome is not Outcome.AUTHENTICATED:
            raise RuntimeError(f"probe failed: {report.outcome} {report.finding}")
        await farewell.settle(5)  # the QUIT said after the verdict belongs to this run

    return probe


async def _parts(port: int, context: ssl.SSLContext) -> None:
    """The probe's own parts doing the dialogue, without its engine around them."""
    sock = await open_socket(ipaddress.ip_address("127.0.0.1"), port)
    await first_bytes(sock, within=5.0)
    smtp = TappedSMTP.on_socket(sock, "127.0.0.1", context, Transcript([]), use_tls=False)
    try:
        await smtp.greet()
        await smtp.ehlo()
        await smtp.upgrade(server_hostname="127.0.0.1", context=context)
        await smtp.ehlo()
        await smtp.auth_plain(USER, PASSWORD)
        await smtp.quit()
    finally:
        smtp.close()


async def _client_runs(name: str, port: int, ca_file: Path, runs: int) -> None:
    action = client_action(name, port, ca_file)
    for _ in range(runs):
        await action()


def _count(valgrind: str, name: str, port: int, ca_file: Path, runs: int) -> int:
    command = [
        valgrind, "--tool=callgrind", "--callgrind-out-file=/dev/null",
        sys.executable, __file__, "--client", name, "--port", str(port),
        "--ca-file", str(ca_file), "--runs", str(runs),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)  # noqa: S603 (fixed command)
    if done.returncode != 0:
        raise RuntimeError(f"{name} under callgrind exited {done.returncode}: {done.stderr[-500:]}")
    return collected(done.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs in the short count (>= 1)")
    parser.add_argument("--client", choices=CLIENTS, help=argparse.SUPPRESS)  # one process
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--ca-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.client:
        asyncio.run(_client_runs(args.client, args.port, args.ca_file, args.runs))
        return
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        print("instructions per probe: skipped (valgrind not installed: apt-get install valgrind)")
        return
    figures: dict[str, float] = {}
    with served() as (port, ca_file):
        for name in CLIENTS:
            few = _count(valgrind, name, port, ca_file, args.runs)
            many = _count(valgrind, name, port, ca_file, args.runs * MORE)
            figures[f"{name}_per_run"] = round(per_run(few, many, args.runs))
            print(f"{name:<11} {figures[f'{name}_per_run'] / 1e6:6.2f} M instructions per run")
    bare = figures["aiosmtplib_per_run"]
    figures["ratio"] = round(bare / figures["smtpcheck_per_run"], 3)
    figures["ratio_told"] = round(bare / figures["told_per_run"], 3)
    probe = figures["smtpcheck_per_run"]
    figures["engine_share"] = round((probe - figures["parts_per_run"]) / probe, 3)
    print(f"aiosmtplib / smtpcheck: {figures['ratio']:.3f}; / told: {figures['ratio_told']:.3f}")
    print(f"the engine's share of smtpcheck's instructions: {figures['engine_share']:.3f}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
