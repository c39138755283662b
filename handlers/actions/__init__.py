"""Button clicks: ``check`` (buttons under a live check's verdict) and ``help`` (help threads)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers.actions import check, help


def register(app: AsyncApp) -> None:
    """Attach both button families' listeners to ``app``."""
    check.register(app)
    help.register(app)
