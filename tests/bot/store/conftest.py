"""Every contract test runs against both stores."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.bot.store.support import StoreCase, open_case


@pytest.fixture(params=["memory", "redis"])
async def case(request: pytest.FixtureRequest) -> AsyncIterator[StoreCase]:
    """A fresh store of each kind, with its time control."""
    async for value in open_case(request.param):
        yield value
