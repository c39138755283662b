"""Settings discovery benchmark: coverage of Thunderbird's ISPDB, and time per lookup.

Coverage: for every domain of the shipped ISPDB snapshot (``knowledge/data/ispdb.json``)
that has at least one encrypted SMTP server, is discovery's FIRST suggestion one of
those encrypted servers (host, port, security)? Measured with the shipped knowledge
base and, in the same run, with a baseline built from the same data minus the
snapshot (the curated table alone, what smtpcheck knew before ISPDB). DNS refuses
everything, so only what ships with the package can answer. Also on a list of
popular consumer domains that ISPDB knows. Plaintext-only domains are counted
apart (they can never match: smtpcheck does not suggest plaintext first).

Speed: whole-process wall time of ``python -m bot.cli discover DOMAIN --json`` with
``SMTPCHECK_DNS_SERVERS`` pointing at a local DNS server that answers REFUSED, for a
mix of ISPDB, curated and unknown domains; and, for comparison in the same run, a
bare interpreter start and a few lookups against a resolver that never answers
(drops every packet). Beside them, the same lookups in-process with the knowledge
already loaded (``refused_lookup``: all targets; ``refused_lookup_dns_only``: the
unknown domain, the only one that asks DNS; ``silent_lookup``): what DNS costs,
apart from start-up.
The last line is JSON.

    python bench/discover.py [--runs N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.resolver import make_resolver  # noqa: E402
from knowledge import KnowledgeBase, discover_settings, load_knowledge  # noqa: E402
from knowledge.loader import DEFAULT_ROOT  # noqa: E402
from tests.support.dns_server import dns_server  # noqa: E402

POPULAR = [
    "t-online.de",
    "att.net",
    "btinternet.com",
    "bigpond.com",
    "inbox.ru",
    "mail.ru",
    "web.de",
    "gmx.de",
    "gmx.net",
    "free.fr",
    "orange.fr",
    "wanadoo.fr",
    "laposte.net",
    "sfr.fr",
    "libero.it",
    "virgilio.it",
    "alice.it",
    "tiscali.it",
    "yandex.ru",
    "rambler.ru",
    "comcast.net",
    "verizon.net",
    "sbcglobal.net",
    "bellsouth.net",
    "cox.net",
    "charter.net",
    "earthlink.net",
    "shaw.ca",
    "rogers.com",
    "sympatico.ca",
    "telus.net",
    "bluewin.ch",
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "live.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "yahoo.co.jp",
    "163.com",
    "126.com",
    "qq.com",
    "naver.com",
    "daum.net",
    "seznam.cz",
    "o2.pl",
    "wp.pl",
    "interia.pl",
    "onet.pl",
    "freenet.de",
    "arcor.de",
    "1und1.de",
    "ionos.de",
    "aruba.it",
    "ziggo.nl",
    "kpnmail.nl",
    "xs4all.nl",
    "telenet.be",
    "skynet.be",
    "blueyonder.co.uk",
    "virginmedia.com",
    "sky.com",
    "talktalk.net",
    "ntlworld.com",
    "optusnet.com.au",
    "iinet.net.au",
    "fastmail.com",
    "zoho.com",
    "protonmail.com",
    "yandex.com",
    "mail.com",
    "uol.com.br",
    "bol.com.br",
    "terra.com.br",
]


def ispdb_servers(path: Path) -> dict[str, list[tuple[str, int, str]]]:
    """Each ISPDB domain -> its servers, as the snapshot lists them."""
    document = json.loads(path.read_text(encoding="utf-8"))
    table: dict[str, list[tuple[str, int, str]]] = {}
    for provider in document["providers"]:
        for domain in provider["domains"]:
            servers = [
                (s["host"].replace("%EMAILDOMAIN%", domain), s["port"], s["security"])
                for s in provider["smtp"]
            ]
            table.setdefault(domain, servers)
    return table


async def coverage(
    kb: KnowledgeBase,
    table: dict[str, list[tuple[str, int, str]]],
    domains: list[str],
    dns_addr: tuple[str, int],
) -> dict[str, Any]:
    resolver = make_resolver([dns_addr], lifetime=1.0)
    hits = total = plaintext_only = 0
    misses: list[str] = []
    for domain in domains:
        encrypted = {s for s in table[domain] if s[2] != "none"}
        if not encrypted:
            plaintext_only += 1
            continue
        total += 1
        found = await discover_settings(kb, domain, resolver=resolver)
        first = found.candidates[0] if found.candidates else None
        if first is not None and (first.host, first.port, first.security) in encrypted:
            hits += 1
        else:
            misses.append(domain)
    return {
        "share": round(hits / total, 4) if total else 0.0,
        "matched": hits,
        "domains": total,
        "plaintext_only": plaintext_only,
        "misses": misses[:12],
    }


def baseline_kb() -> KnowledgeBase:
    """The same knowledge data without the ISPDB snapshot: the curated table alone."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "data"
        shutil.copytree(DEFAULT_ROOT, root)
        (root / "ispdb.json").unlink()
        return load_knowledge(root, index=False)


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


CPU: list[float] = []  # CPU seconds (user + system) of each timed process, same order


def timed(args: list[str], env: dict[str, str]) -> float:
    """Wall time of one process; its CPU time goes to ``CPU`` (less hurt by a busy machine)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(args, env=env, check=False, capture_output=True)  # noqa: S603
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return elapsed


def figures(values: list[float]) -> dict[str, float]:
    return {
        "median_s": round(statistics.median(values), 5),
        "p95_s": round(_quantile(values, 0.95), 5),
        "p99_s": round(_quantile(values, 0.99), 5),
    }


TARGETS = ["t-online.de", "alice@gmail.com", "bob@unknown-company.example", "free.fr"]


async def in_process(
    kb: KnowledgeBase, runs: int, dns_addr: tuple[str, int], dead_addr: tuple[str, int]
) -> dict[str, Any]:
    """The lookup alone, knowledge already loaded: DNS's share of a whole-process run.

    Same targets as the processes (ISPDB, curated, unknown, ISPDB), DNS refusing; and the
    unknown domain against a resolver that drops every packet.
    """
    refusing = make_resolver([dns_addr])
    times: list[float] = []
    misses: list[float] = []
    for i in range(runs):
        target = TARGETS[i % len(TARGETS)]
        started = time.perf_counter()
        await discover_settings(kb, target, resolver=refusing)
        elapsed = time.perf_counter() - started
        times.append(elapsed)
        if "unknown" in target:
            misses.append(elapsed)
    silent = make_resolver([dead_addr])
    dropped = []
    for _ in range(3):
        started = time.perf_counter()
        await discover_settings(kb, "unknown-company.example", resolver=silent)
        dropped.append(time.perf_counter() - started)
    return {
        "refused_lookup": figures(times),
        "refused_lookup_dns_only": figures(misses),
        "silent_lookup": figures(dropped),
    }


def speed(runs: int, dns_address: str, dead_address: str, tree: Path = ROOT) -> dict[str, Any]:
    CPU.clear()
    env = {**os.environ, "PYTHONPATH": str(tree), "SMTPCHECK_DNS_SERVERS": dns_address}
    env.pop("LOG_LEVEL", None)
    targets = TARGETS
    command = [sys.executable, "-m", "bot.cli", "discover"]
    refused = [timed([*command, targets[i % len(targets)], "--json"], env) for i in range(runs)]
    refused_cpu = list(CPU)
    startup = [timed([sys.executable, "-c", "pass"], env) for _ in range(max(5, runs // 4))]
    dead_env = {**env, "SMTPCHECK_DNS_SERVERS": dead_address}
    unreachable = [
        timed([*command, "unknown-company.example", "--json"], dead_env) for _ in range(3)
    ]
    return {
        "refused": figures(refused),
        "refused_cpu": figures(refused_cpu),
        "interpreter_start": figures(startup),
        "unreachable_resolver": figures(unreachable),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=40, help="discover processes to time")
    parser.add_argument(
        "--baseline-tree",
        type=Path,
        help="also time the same commands from another checkout (e.g. the code before ISPDB)",
    )
    args = parser.parse_args()
    table = ispdb_servers(DEFAULT_ROOT / "ispdb.json")
    shipped = load_knowledge(index=False)
    before = baseline_kb()
    popular = [d for d in POPULAR if d in table]
    with (
        dns_server({}, refuse_all=True) as refusing,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as dead,
    ):
        dead.bind(("127.0.0.1", 0))
        addr = (refusing.host, refusing.port)
        result: dict[str, Any] = {}
        for name, kb in (("before", before), ("after", shipped)):
            result[name] = {
                "all": asyncio.run(coverage(kb, table, sorted(table), addr)),
                "popular": asyncio.run(coverage(kb, table, popular, addr)),
            }
        dead_address = "{}:{}".format(*dead.getsockname())
        result["speed"] = speed(args.runs, refusing.address, dead_address)
        result["speed"].update(
            asyncio.run(in_process(shipped, args.runs, addr, dead.getsockname()))
        )
        if args.baseline_tree is not None:
            base = speed(args.runs, refusing.address, dead_address, args.baseline_tree)
            result["speed"].update({f"baseline {k}": v for k, v in base.items()})
    for name in ("before", "after"):
        for subset in ("all", "popular"):
            c = result[name][subset]
            print(
                f"coverage {name:6} {subset:7}: {c['share']:.1%} "
                f"({c['matched']}/{c['domains']}; {c['plaintext_only']} plaintext-only apart)"
            )
    print("after, all: misses (first 12):", ", ".join(result["after"]["all"]["misses"]) or "-")
    for name, f in result["speed"].items():
        where = "in-process" if "lookup" in name else "process"
        print(
            f"{name:23} ({where:10}): median {f['median_s'] * 1000:7.1f} ms  "
            f"p95 {f['p95_s'] * 1000:7.1f} ms  p99 {f['p99_s'] * 1000:7.1f} ms"
        )
    summary = {
        "coverage_all": result["after"]["all"]["share"],
        "coverage_all_before": result["before"]["all"]["share"],
        "coverage_popular": result["after"]["popular"]["share"],
        "coverage_popular_before": result["before"]["popular"]["share"],
        "refused_p95_s": result["speed"]["refused"]["p95_s"],
        "refused_median_s": result["speed"]["refused"]["median_s"],
        "refused_cpu_p95_s": result["speed"]["refused_cpu"]["p95_s"],
        "interpreter_median_s": result["speed"]["interpreter_start"]["median_s"],
        "unreachable_median_s": result["speed"]["unreachable_resolver"]["median_s"],
        "refused_lookup_median_s": result["speed"]["refused_lookup"]["median_s"],
        "refused_lookup_p95_s": result["speed"]["refused_lookup"]["p95_s"],
        "silent_lookup_median_s": result["speed"]["silent_lookup"]["median_s"],
        "baseline_refused_median_s": result["speed"].get("baseline refused", {}).get("median_s"),
        "baseline_unreachable_median_s": result["speed"]
        .get("baseline unreachable_resolver", {})
        .get("median_s"),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
