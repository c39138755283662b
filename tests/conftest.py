"""Suite-wide pytest configuration."""

from __future__ import annotations

import pytest

from bot.store import MemoryStore


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A run that collected no test is a failure, never a silent pass (exit code 5)."""
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def store() -> MemoryStore:
    """A fresh in-memory store (scenario and runtime tests)."""
    return MemoryStore()
