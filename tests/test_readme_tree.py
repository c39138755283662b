"""The README's architecture tree names every module of the Slack side, the helpdesk, the
conversation and the store, so it cannot go stale as modules are added."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "handlers",
    "handlers/actions",
    "handlers/blocks",
    "bot/runtime",
    "bot/helpdesk",
    "bot/conversation",
    "bot/store",
)


def tree() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Architecture") :]
    return section[section.index("```") : section.index("```", section.index("```") + 3)]


@pytest.mark.parametrize("package", PACKAGES)
def test_every_module_is_in_the_architecture_tree(package: str) -> None:
    words = set(re.findall(r"[a-z_]+", tree()))
    modules = {p.stem for p in (ROOT / package).glob("*.py") if not p.stem.startswith("__")}
    assert modules, package
    missing = sorted(modules - words)
    assert not missing, f"README architecture tree does not name {package}: {missing}"
