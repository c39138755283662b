"""``python -m bot`` / ``smtpcheck-bot``: run the Slack bot.

Socket Mode when ``SLACK_APP_TOKEN`` is set (plus ``/healthz`` and ``/metrics`` on
``$PORT``), otherwise the HTTP server on ``$PORT``. Bad or missing configuration
stops start-up with one line on stderr and exit code 2. SIGTERM/SIGINT: no new
checks, in-flight checks finish within the deadline, then exit.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Mapping

from bot.config import Settings
from bot.errors import ConfigError
from bot.runtime.serve import serve
from bot.runtime.wiring import configure_logging

EXIT_CONFIG = 2


def missing_credentials(settings: Settings) -> str | None:
    """One sentence naming what is missing for the selected mode, or None."""
    if settings.slack_bot_token is None:
        return "SLACK_BOT_TOKEN: not set (the bot token, xoxb-..., from the app's OAuth page)"
    if settings.slack_app_token is None and settings.slack_signing_secret is None:
        return (
            "SLACK_SIGNING_SECRET: not set (needed in HTTP mode; or set SLACK_APP_TOKEN "
            "for Socket Mode)"
        )
    return None


def main(environ: Mapping[str, str] | None = None) -> int:
    """Validate the configuration, then serve until SIGTERM/SIGINT."""
    try:
        settings = Settings.from_env(os.environ if environ is None else environ)
    except ConfigError as exc:
        print(f"smtpcheck-bot: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    problem = missing_credentials(settings)
    if problem is not None:
        print(f"smtpcheck-bot: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(settings.log_level)
    return asyncio.run(serve(settings))


if __name__ == "__main__":
    sys.exit(main())
