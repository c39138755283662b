"""Button clicks: ``check`` (buttons under a live check's verdict), ``help`` (help
threads) and ``menu`` (the "More" menu standing in for a message's extra buttons)."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers.actions import article, check, feedback, help, menu


def register(app: AsyncApp) -> None:
    """Attach every button family's listeners to ``app``."""
    article.register(app)
    check.register(app)
    feedback.register(app)
    help.register(app)
    menu.register(app, [*help.routes(), *article.routes()])
