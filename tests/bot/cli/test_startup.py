"""Start-up cost: the knowledge commands import only what they use, and a warm knowledge
cache spares them the YAML parsing."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.dns_server import dns_server

REPO = Path(__file__).resolve().parents[3]
HEAVY = ("aiosmtplib", "slack_bolt", "slack_sdk", "prometheus_client", "aiohttp", "numpy", "dns")
SCRIPT = """
import contextlib, io, json, sys
from bot.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(json.loads(sys.argv[1]))
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[2:]))
print(json.dumps({"code": code, "out": out.getvalue(), "loaded": loaded}))
"""
EXPLAIN = ["explain", "535 5.7.8 Error: authentication failed"]
ASK = ["ask", "outlook keeps asking for my password"]


def _run(argv: list[str], modules: tuple[str, ...], **env: str) -> dict[str, object]:
    result = subprocess.run(  # noqa: S603 (our own interpreter, fixed script)
        [sys.executable, "-c", SCRIPT, json.dumps(argv), *modules],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", **env},
        check=True,
    )
    found: dict[str, object] = json.loads(result.stdout)
    return found


def test_explain_imports_no_probe_slack_metrics_search_or_dns(tmp_path: Path) -> None:
    """`smtpcheck explain` loads neither aiosmtplib, Slack, Prometheus, numpy nor dnspython."""
    run = _run(EXPLAIN, (*HEAVY, "rapidfuzz"), SMTPCHECK_CACHE_DIR=str(tmp_path))
    assert run["loaded"] == []


def test_ask_imports_no_probe_slack_metrics_or_dns(tmp_path: Path) -> None:
    """`smtpcheck ask` loads no aiosmtplib, aiohttp, Slack or dnspython; rapidfuzz only
    for a word the index does not know (a typo to correct), and answers the same."""
    run = _run(ASK, (*HEAVY, "rapidfuzz"), SMTPCHECK_CACHE_DIR=str(tmp_path))
    assert run["code"] == 0
    assert run["loaded"] == []
    typo = _run(
        ["ask", "outlook keeps asking for my pasword"],
        ("rapidfuzz",),
        SMTPCHECK_CACHE_DIR=str(tmp_path),
    )
    assert typo["loaded"] == ["rapidfuzz"]
    assert typo["out"] == run["out"]  # "pasword" read as "password"


@pytest.mark.parametrize("argv", [EXPLAIN, ASK])
def test_a_warm_cache_parses_no_yaml_and_answers_the_same(tmp_path: Path, argv: list[str]) -> None:
    """The first run writes the cache, the second reads it (no YAML parser loaded); both
    print exactly what a run without a cache prints."""
    cold = _run(argv, ("yaml",), SMTPCHECK_CACHE_DIR="")
    first = _run(argv, ("yaml",), SMTPCHECK_CACHE_DIR=str(tmp_path))
    warm = _run(argv, ("yaml",), SMTPCHECK_CACHE_DIR=str(tmp_path))
    assert cold["loaded"] == first["loaded"] == ["yaml"]
    assert warm["loaded"] == []
    assert cold["out"] == first["out"] == warm["out"] and cold["code"] == warm["code"]


def test_a_corrupt_cache_answers_the_same(tmp_path: Path) -> None:
    _run(ASK, (), SMTPCHECK_CACHE_DIR=str(tmp_path))
    files = sorted(tmp_path.iterdir())
    assert [f.name.split("-")[0] for f in files] == ["knowledge", "search"]
    for path in files:
        path.write_bytes(path.read_bytes()[:1000])
    broken = _run(ASK, ("yaml",), SMTPCHECK_CACHE_DIR=str(tmp_path))
    cold = _run(ASK, (), SMTPCHECK_CACHE_DIR="")
    assert broken["out"] == cold["out"] and broken["loaded"] == ["yaml"]
    assert _run(ASK, ("yaml",), SMTPCHECK_CACHE_DIR=str(tmp_path))["loaded"] == []  # rewritten


def test_discover_stopped_by_dns_loads_no_http_client(tmp_path: Path) -> None:
    """Autoconfig names that do not resolve are never fetched: neither aiohttp nor an XML
    parser is imported."""
    zone = {
        ("example.test.", "MX"): ["10 mx.example.test."],
        ("mx.example.test.", "A"): ["192.0.2.1"],
    }
    with dns_server(zone) as dns:
        run = _run(
            ["discover", "alice@example.test"],
            ("aiohttp", "aiosmtplib", "slack_bolt", "defusedxml", "xml"),
            SMTPCHECK_CACHE_DIR=str(tmp_path),
            SMTPCHECK_DNS_SERVERS=dns.address,
        )
    assert run["code"] == 0 and "example.test" in str(run["out"])
    assert run["loaded"] == []


def test_search_stays_the_function_however_its_module_was_imported() -> None:
    """`from knowledge import search` is the function even after `knowledge.search` loaded."""
    module = importlib.import_module("knowledge.search")
    from knowledge import search

    assert callable(search) and search is module.search


def test_a_warm_start_loads_none_of_the_parsing_modules(tmp_path: Path) -> None:
    """Served from the cache, the knowledge base needs neither the loader nor its readers
    (``knowledge.default`` imports them on a miss only)."""
    parsing = ("knowledge.loader", "knowledge.entries", "knowledge.asked", "knowledge.faq")
    script = (
        "import sys; from knowledge.default import get_knowledge; kb = get_knowledge(); "
        f"print(sorted(set(sys.modules) & {set(parsing)!r}), len(kb.articles))"
    )

    def start() -> str:
        return subprocess.run(  # noqa: S603 (our own interpreter, fixed script)
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            cwd=REPO,
            env={
                "PYTHONPATH": str(REPO),
                "PATH": "/usr/bin:/bin",
                "SMTPCHECK_CACHE_DIR": str(tmp_path),
            },
            check=True,
        ).stdout

    cold, warm = start(), start()
    assert cold.startswith(
        "['knowledge.asked', 'knowledge.entries', 'knowledge.faq', 'knowledge.loader']"
    )
    assert warm.startswith("[] ") and warm.split()[-1] == cold.split()[-1]
