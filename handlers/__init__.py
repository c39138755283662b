"""Slack surfaces: one module or package per surface, each with ``register(app)``.

``commands`` (/smtpcheck), ``views`` (the probe modal's submission), ``actions`` (buttons),
``events`` (DMs, mentions, triage channels), ``shortcuts`` (Explain SMTP error), ``home``
(App Home). ``check_thread`` and ``help_thread`` post into the threads those surfaces
start; ``blocks`` holds the pure Block Kit builders.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers import actions, commands, events, home, shortcuts, views

SURFACES = (commands, views, actions, events, shortcuts, home)


def register_all(app: AsyncApp) -> None:
    """Attach every surface's listeners to ``app``."""
    for surface in SURFACES:
        surface.register(app)
