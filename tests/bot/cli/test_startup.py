"""Start-up cost: the knowledge commands import only what they use."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
HEAVY = ("aiosmtplib", "slack_bolt", "slack_sdk", "prometheus_client", "aiohttp", "numpy", "dns")
SCRIPT = """
import contextlib, io, sys
from bot.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    main(["explain", "535 5.7.8 Error: authentication failed"])
print(" ".join(sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[1:]))))
"""


def test_explain_imports_no_probe_slack_metrics_search_or_dns() -> None:
    """`smtpcheck explain` loads neither aiosmtplib, Slack, Prometheus, numpy nor dnspython."""
    result = subprocess.run(  # noqa: S603 (our own interpreter, fixed script)
        [sys.executable, "-c", SCRIPT, *HEAVY],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    assert result.stdout.strip() == ""


def test_search_stays_the_function_however_its_module_was_imported() -> None:
    """`from knowledge import search` is the function even after `knowledge.search` loaded."""
    module = importlib.import_module("knowledge.search")
    from knowledge import search

    assert callable(search) and search is module.search
