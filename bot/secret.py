"""A wrapper that keeps a secret out of every repr, str, log line and traceback.

Every live ``Secret`` is known to the logging redaction filter (see
``bot.logs``), so even a careless ``logger.debug(payload)`` that happens to
contain the raw value is scrubbed. The value is unwrapped only where it is
used (the AUTH call, the Slack client constructor).
"""

from __future__ import annotations

import base64
import weakref
from collections.abc import Iterator
from typing import Final

_REDACTED: Final = "***"
_MIN_ENCODED: Final = 8

_live: weakref.WeakSet[Secret] = weakref.WeakSet()


class Secret:
    """A string that refuses to show itself."""

    __slots__ = ("__weakref__", "_value")

    def __init__(self, value: str) -> None:
        self._value = value
        if value:
            _live.add(self)

    def reveal(self) -> str:
        """Return the raw value; call only at the point of use."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return f"Secret({_REDACTED!r})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce__(self) -> str | tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")

    def forms(self) -> Iterator[str]:
        """The raw value and the encodings it may travel in or be echoed back in: base64
        at each of the three byte alignments (inside an AUTH PLAIN blob the password
        starts wherever the username ends), and hex. A transformed form shorter than
        ``_MIN_ENCODED`` is left out: it would redact unrelated text."""
        raw = self._value
        yield raw
        data = raw.encode()
        yield base64.b64encode(data).decode()
        for shift in (0, 1, 2):
            # the base64 characters that depend on the secret's bytes alone (not on
            # what comes before or after it)
            encoded = base64.b64encode(b"\0" * shift + data).decode().rstrip("=")
            core = encoded[-(-8 * shift // 6) : (8 * (shift + len(data))) // 6]
            if len(core) >= _MIN_ENCODED:
                yield core
        if len(data) * 2 >= _MIN_ENCODED:
            yield data.hex()
            yield data.hex().upper()


def live_secret_forms() -> list[str]:
    """Every form of every secret alive in this process, longest first."""
    forms = {form for secret in list(_live) for form in secret.forms() if len(form) >= 3}
    return sorted(forms, key=len, reverse=True)
