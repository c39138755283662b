"""The ``smtpcheck`` command line: the same engine as the bot, no Slack.

Each subcommand module exposes ``register(subparsers)``, which adds its parser
and sets ``handler`` to a coroutine function ``(args, settings) -> exit code``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from typing import NoReturn, cast

from bot.config import Settings
from bot.errors import ConfigError
from bot.logs import setup_logging

EXIT_INVALID = 2


class _Parser(argparse.ArgumentParser):
    """argparse's parser, whose refusals (a missing host, an unknown option) also print
    the ``invalid_input`` document when the command line asked for ``--json``."""

    json_wanted = False  # set by ``main`` from the command line, before parsing

    def error(self, message: str) -> NoReturn:
        if _Parser.json_wanted:
            import json

            error = {"field": "arguments", "message": message}
            print(json.dumps({"outcome": "invalid_input", "error": error}, indent=2))
        super().error(message)


class _Version(argparse.Action):
    """``--version``: the installed package's version, looked up only when asked for (the
    metadata lookup would cost every start a few milliseconds)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **_: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> NoReturn:
        from importlib.metadata import PackageNotFoundError, version

        try:
            found = version("smtpcheck")
        except PackageNotFoundError:  # run from a checkout that was never installed
            found = "unknown (not installed)"
        print(f"smtpcheck {found}")
        parser.exit()


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole parser; for a knowledge ``command`` only the knowledge subcommands, so a
    one-shot ``smtpcheck discover`` does not import the probe engine and aiosmtplib."""
    from . import knowledge

    parser = _Parser(
        prog="smtpcheck",
        description="Troubleshoot SMTP 'authentication failed': probe a server, "
        "discover settings, explain an error, ask a question.",
    )
    parser.add_argument("--version", action=_Version)
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser] = cast(
        "argparse._SubParsersAction[argparse.ArgumentParser]",
        parser.add_subparsers(dest="command", required=True, metavar="COMMAND"),
    )
    if command not in knowledge.COMMANDS:
        from . import probe

        probe.register(subparsers)
    knowledge.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _main(argv)
    except KeyboardInterrupt:  # also while the parser's modules are still importing
        print("smtpcheck: interrupted", file=sys.stderr)
        return 130


def _main(argv: list[str]) -> int:
    _Parser.json_wanted = "--json" in argv
    parser = build_parser(argv[0] if argv else None)
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env(os.environ)
    except ConfigError as exc:
        message = f"configuration error: {exc}"
        print(f"smtpcheck: {message}", file=sys.stderr)
        if getattr(args, "json", False):  # a script asked for JSON: it gets a document too
            import json

            error = {"field": exc.name, "message": message}
            print(json.dumps({"outcome": "invalid_input", "error": error}, indent=2))
        return EXIT_INVALID
    # A terminal tool stays quiet unless LOG_LEVEL asks for more.
    setup_logging(settings.log_level if "LOG_LEVEL" in os.environ else "WARNING")
    try:
        code: int = asyncio.run(args.handler(args, settings))
    except KeyboardInterrupt:
        print("smtpcheck: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return code


def run() -> NoReturn:
    """The ``smtpcheck`` program: ``main``, then exit without tearing the interpreter down.

    Once the command has finished (its event loop closed, its threads joined), freeing the
    knowledge base, the search index and every module object one by one costs 20-50 ms
    that the user waits for and nothing needs (mypy ends the same way). What exiting
    normally would still do is done here first: the log handlers flushed and closed,
    stdout and stderr flushed. A flush that fails (a reader gone away) exits the normal
    way, so that case reads exactly as before.
    """
    code = main()
    import logging

    logging.shutdown()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        sys.exit(code)
    os._exit(code)
