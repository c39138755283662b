"""The probe's vocabulary loads without its engine: renderers and stores stay light."""

from __future__ import annotations

import subprocess
import sys

import bot.probe


def _runs(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (fixed argv: this interpreter and a literal snippet)
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )


def test_model_imports_neither_engine_nor_aiosmtplib() -> None:
    """``import bot.probe.model`` in a fresh interpreter loads no engine and no aiosmtplib."""
    result = _runs(
        "import bot.probe.model, sys; "
        "assert 'aiosmtplib' not in sys.modules and 'bot.probe.engine' not in sys.modules"
    )
    assert result.returncode == 0, result.stderr


def test_package_names_load_on_first_use() -> None:
    """The package's names resolve lazily: the engine loads only when run_probe is asked for."""
    result = _runs(
        "import sys; from bot.probe import Outcome, build_request, Collaborators; "
        "assert 'bot.probe.engine' not in sys.modules and 'aiosmtplib' not in sys.modules; "
        "from bot.probe import run_probe; assert 'bot.probe.engine' in sys.modules"
    )
    assert result.returncode == 0, result.stderr


def test_every_exported_name_resolves() -> None:
    """Each name in ``bot.probe.__all__`` is importable from the package."""
    for name in bot.probe.__all__:
        assert getattr(bot.probe, name) is not None
