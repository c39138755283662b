"""bot.oauth is Slack-free: every module loads without slack_sdk, slack_bolt or knowledge."""

from __future__ import annotations

import subprocess
import sys


def test_oauth_package_imports_no_slack_and_no_knowledge() -> None:
    """A fresh interpreter importing every bot.oauth module has no Slack or knowledge loaded."""
    modules = "client device errors flows hosts loopback pending pkce service settings web"
    code = (
        "import importlib, sys; "
        f"[importlib.import_module('bot.oauth.' + m) for m in {modules.split()!r}]; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('slack_sdk', 'slack_bolt', 'knowledge', 'handlers')]; "
        "assert not bad, bad"
    )
    result = subprocess.run(  # noqa: S603 (fixed argv: this interpreter and a literal snippet)
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr
