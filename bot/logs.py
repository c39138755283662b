"""Logging set-up with redaction that no code path can bypass.

Redaction happens in the LogRecord factory, so every record from every logger
(ours, Bolt's, the Socket Mode client's, aiohttp's) is scrubbed when it is
created, before any handler or filter sees it. It removes the value of every
live ``Secret`` (and its base64 form) plus anything shaped like a Slack token,
an AUTH exchange or a ``password=`` field.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any, Final, TextIO

from bot.secret import live_secret_forms

_MASK: Final = "[redacted]"

_M = _MASK
# (pattern, replacement): each replacement keeps the label and masks only the value.
_PATTERNS: Final = (
    # First, before the generic password= rule: a Slack view state's password block as
    # JSON or a Python repr, and URL-encoded (a request body Bolt logs when a signature
    # is bad). The value is not a live Secret yet when such a raw payload is logged.
    (
        re.compile(
            r"""(?i)(password['"]?\s*:\s*\{.{0,300}?['"]value['"]\s*:\s*(['"]))"""
            r"(?:\\.|(?!\2).)+"
        ),
        rf"\1{_M}",
    ),
    (
        re.compile(
            r"(?i)(password%22%3A(?:\+|%20)*%7B.{0,600}?%22value%22%3A(?:\+|%20)*%22)"
            r"(?:%5C%22|(?!%22).)+"
        ),
        rf"\1{_M}",
    ),
    (re.compile(r"xox[abposer]-[A-Za-z0-9-]+"), _M),  # Slack bot/user/config tokens
    (re.compile(r"xapp-[A-Za-z0-9-]+"), _M),  # Slack app-level token
    (re.compile(r"(?i)(AUTH\s+(?:PLAIN|LOGIN|CRAM-MD5|XOAUTH2))\s+\S+"), rf"\1 {_M}"),
    (
        re.compile(
            r"(?i)((?:pass(?:word)?|passwd|secret|token)[\"']?\s*[:=]\s*[\"']?)[^\s\"',&{}]+"
        ),
        rf"\1{_M}",
    ),
    (re.compile(r"(?i)(redis(?:s)?://[^:/@\s]*:)[^@\s]+(@)"), rf"\1{_M}\2"),
)


def redact(text: str) -> str:
    """Remove live secrets and secret-shaped substrings from ``text``."""
    for form in live_secret_forms():
        if form in text:
            text = text.replace(form, _MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


_base_factory = logging.getLogRecordFactory()


def _redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    try:
        message = record.getMessage()
    except Exception:  # a malformed format string must not take a secret with it
        message = f"{record.msg!r} (unformattable arguments)"
    if record.exc_info and record.exc_info[1] is not None:
        # Render the traceback now, redacted, so a handler never formats the raw one.
        formatter = logging.Formatter()
        record.exc_text = redact(formatter.formatException(record.exc_info))
        record.exc_info = None
    record.msg = redact(message)
    record.args = None
    return record


def install_redaction() -> None:
    """Make every log record in this process pass through ``redact``. Idempotent."""
    if logging.getLogRecordFactory() is not _redacting_factory:
        logging.setLogRecordFactory(_redacting_factory)


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is when a record is emitted, not when set up.

    A handler holding the stream it was created with keeps writing to a replaced and
    closed stderr (a test's capture, a CLI run in-process, a daemonised process) and
    prints "--- Logging error ---" for every later record.
    """

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        pass  # the stream is always the current stderr


def setup_logging(level: str = "INFO") -> None:
    """Configure the root logger once for the process."""
    install_redaction()
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[_StderrHandler()],
        force=True,
    )
