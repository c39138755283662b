"""Shared fixtures: the small, valid knowledge tree in ``fixtures/data`` and writable copies."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge import KnowledgeBase, get_knowledge, load_knowledge
from knowledge.explain import explain_text

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


@pytest.fixture(scope="session")
def real_kb() -> KnowledgeBase:
    """The shipped knowledge base (``knowledge/data``), loaded once."""
    return get_knowledge()


def first_match(kb: KnowledgeBase, text: str) -> tuple[str, str]:
    """(reply id, first article) of the best match ``explain`` finds in ``text``."""
    match = explain_text(kb, text).matches[0]
    return match.reply_id, match.articles[0]
