"""Fixtures for the handler tier: a MemoryStore per test."""

from __future__ import annotations

import pytest

from bot.store import MemoryStore


@pytest.fixture
def store() -> MemoryStore:
    """A fresh in-memory store."""
    return MemoryStore()
