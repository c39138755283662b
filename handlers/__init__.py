"""Slack surfaces: one module or package per surface, each with ``register(app)``.

``commands`` (/smtpcheck), ``views`` (the probe modal's submission), ``actions`` (buttons),
``events`` (DMs, mentions, triage channels), ``shortcuts`` (Explain SMTP error), ``home``
(App Home), ``assistant`` (the assistant split view). ``check_thread`` and ``help_thread``
post into the threads those surfaces start; ``blocks`` holds the pure Block Kit builders.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from handlers import actions, assistant, commands, events, home, shortcuts, views

# The assistant middleware goes first: it takes the messages of assistant threads (and
# every threaded DM message) before the plain message listener would.
SURFACES = (assistant, commands, views, actions, events, shortcuts, home)


def register_all(app: AsyncApp) -> None:
    """Attach every surface's listeners to ``app``."""
    for surface in SURFACES:
        surface.register(app)
