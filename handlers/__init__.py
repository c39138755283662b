"""Slack surfaces: one module per surface, each with ``register(app)``."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers import actions, commands, events, help_actions, home, shortcuts, views

SURFACES = (commands, views, actions, help_actions, events, shortcuts, home)


def register_all(app: AsyncApp) -> None:
    """Attach every surface's listeners to ``app``."""
    for surface in SURFACES:
        surface.register(app)
