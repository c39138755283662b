"""Shared fixtures: the small, valid knowledge tree in ``fixtures/data`` and writable copies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge import KnowledgeBase, load_knowledge

FIXTURE_ROOT = Path(__file__).parent / "fixtures" / "data"


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    """The fixture knowledge base, loaded once (it is immutable)."""
    return load_knowledge(FIXTURE_ROOT)


@pytest.fixture
def data_root(tmp_path: Path) -> Path:
    """A writable copy of the fixture tree, for tests that break one file."""
    root = tmp_path / "data"
    shutil.copytree(FIXTURE_ROOT, root)
    return root
