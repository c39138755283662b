"""Key naming shared by both stores, so memory and Redis hold the same names.

Every key is ``<namespace>:<kind>:<...>``; ``kind`` is fixed by the code, so a
caller-supplied part can never reach another kind's keys.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Final

_PART: Final = re.compile(r"[^\x00-\x20\x7f]{1,400}")
_KIND: Final = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")


def _part(value: str) -> str:
    # Caller-supplied parts come from Slack ids and our own hashes; refuse anything
    # with spaces or control characters rather than quietly mangling it.
    if not _PART.fullmatch(value):
        raise ValueError(f"store key part must be 1-400 visible characters: {value[:40]!r}")
    return value


def _metric_kind(kind: str) -> str:
    if not _KIND.fullmatch(kind):
        raise ValueError(f"metric kind must match {_KIND.pattern}: {kind[:40]!r}")
    return kind


class Keys:
    """Builds the namespaced key for each kind of data."""

    __slots__ = ("namespace",)

    def __init__(self, namespace: str) -> None:
        self.namespace = _part(namespace)

    def claim(self, key: str) -> str:
        return f"{self.namespace}:claim:{_part(key)}"

    def rate(self, key: str) -> str:
        return f"{self.namespace}:rate:{_part(key)}"

    def slot(self, key: str) -> str:
        return f"{self.namespace}:slot:{_part(key)}"

    def pool(self, name: str) -> str:
        return f"{self.namespace}:global:{_part(name)}"

    def check(self, check_id: str) -> str:
        return f"{self.namespace}:check:{_part(check_id)}"

    def user_checks(self, user_id: str) -> str:
        return f"{self.namespace}:checks-by-user:{_part(user_id)}"

    def in_flight(self) -> str:
        return f"{self.namespace}:checks-in-flight"

    def interrupted_notice(self, check_id: str) -> str:
        return f"{self.namespace}:notice:interrupted:{_part(check_id)}"

    def thread(self, key: str) -> str:
        return f"{self.namespace}:thread:{_part(key)}"

    def events(self, kind: str, day: date) -> str:
        return f"{self.namespace}:metrics:{_metric_kind(kind)}:{day.isoformat()}"

    def users(self, kind: str, day: date) -> str:
        return f"{self.namespace}:metrics-users:{_metric_kind(kind)}:{day.isoformat()}"

    def errors(self, day: date) -> str:
        return f"{self.namespace}:metrics-errors:{day.isoformat()}"

    def durations(self, kind: str, day: date) -> str:
        return f"{self.namespace}:metrics-duration:{_metric_kind(kind)}:{day.isoformat()}"
