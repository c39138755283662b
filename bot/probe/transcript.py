"""A swaks-style transcript built from what the probe sends and receives.

aiosmtplib logs nothing, so the engine records each command and reply itself
(``session.TappedSMTP`` feeds this). Credentials never enter it: an AUTH
command is written as ``AUTH PLAIN [credentials removed]`` and the lines the
client sends inside the AUTH exchange (LOGIN username and password, the
CRAM-MD5 response, the XOAUTH2 continuation) are left out entirely. Server
text is cleaned and bounded like every other piece of server data.

    === Trying smtp.example.com:587...
    <-  220 smtp.example.com ESMTP
     -> EHLO [192.0.2.1]
     -> STARTTLS
    <~  235 2.7.0 Authentication successful
"""

from __future__ import annotations

from collections.abc import MutableSequence
from typing import Final

from bot.probe.model import ReplyCode
from bot.probe.replies import clean_text, reply_lines, scrub

MAX_LINES: Final = 400
CREDENTIALS_REMOVED: Final = "[credentials removed]"
_AUTH: Final = b"AUTH"


class Transcript:
    """Append-only transcript of one probe session."""

    def __init__(self, secrets: MutableSequence[str]) -> None:
        # Shared with the engine, which adds the AUTH blobs at the AUTH call.
        self._secrets = secrets
        self._lines: list[str] = []
        self._dropped = 0
        self._in_auth = False
        self.encrypted = False  # lines from here on travel inside TLS

    @property
    def lines(self) -> tuple[str, ...]:
        if self._dropped:
            return (*self._lines, f"=== [{self._dropped} more lines not kept]")
        return tuple(self._lines)

    def note(self, text: str) -> None:
        """A line of our own commentary (``=== ...``); callers pass cleaned text."""
        self._add(f"=== {text}")

    def client(self, args: tuple[bytes, ...]) -> None:
        """Record one command the client sends, with credentials removed."""
        arrow = " ~> " if self.encrypted else " -> "
        if self._in_auth:
            return  # an AUTH continuation: username, password or a response to a challenge
        if args and args[0].upper() == _AUTH:
            mechanism = args[1].decode("ascii", "replace") if len(args) > 1 else ""
            shown = f"AUTH {clean_text(mechanism, max_chars=20)}".rstrip()
            if len(args) > 2:
                shown += f" {CREDENTIALS_REMOVED}"
            self._in_auth = True
            self._add(arrow + shown)
            return
        text = b" ".join(args).decode("ascii", "replace")
        self._add(arrow + clean_text(text, max_chars=200))

    def server(self, code: int, message: str) -> list[str]:
        """Record one reply, one transcript line per reply line; returns those lines'
        text (``replies.reply_lines``, secrets scrubbed) for ``replies.reply_from_lines``."""
        if code != ReplyCode.AUTH_CONTINUE:
            self._in_auth = False
        arrow = "<~  " if self.encrypted else "<-  "
        secrets = self._secrets
        if secrets:
            lines = [scrub(line, secrets) for line in reply_lines(scrub(message, secrets))]
        else:
            lines = reply_lines(message)
        more = f"{arrow}{code}-"
        shown = [more + line for line in lines[:-1]]
        shown.append(f"{arrow}{code} {lines[-1]}".rstrip())
        room = MAX_LINES - len(self._lines)
        if room < len(shown):
            self._dropped += len(shown) - max(room, 0)
            shown = shown[: max(room, 0)]
        self._lines += shown
        return lines

    def garbage(self, text: str) -> None:
        """Bytes from the server that are not SMTP, shown cleaned and short."""
        arrow = "<~  " if self.encrypted else "<-  "
        self._add(f"{arrow}[not SMTP] {clean_text(scrub(text, self._secrets), max_chars=80)}")

    def _add(self, line: str) -> None:
        if len(self._lines) >= MAX_LINES:
            self._dropped += 1
            return
        self._lines.append(line)
