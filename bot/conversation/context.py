"""What a help thread knows, and how one message adds to it.

``ThreadContext`` is the conversation's memory for one Slack thread: the provider,
client and address the person mentioned, the last SMTP reply they pasted, and where
they are in the walkthrough. It is small and JSON-safe because the store keeps it
(``bot.store``: one JSON document per thread, 16 KiB at most) and any process may
serve the next message. It never holds free text the user typed: a message can
contain a password, and the store must never see one.

``learn`` is pure: message text in, a new context out. Detection works on the same
normalised tokens as the search (``knowledge.text.tokens``), so "office 365",
"o365" and "Microsoft 365" meet on one token; what a message names is read by
``knowledge.mentions``, the same code the search uses.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Final

from knowledge import KnowledgeBase, Match
from knowledge.mentions import MAX_EMAIL, find_mentions
from knowledge.text import tokens

MAX_TEXT: Final = 8_000  # characters of one message looked at; a pasted bounce fits
MAX_ID: Final = 64  # article, provider, client and reply ids are short slugs
MAX_CANDIDATES: Final = 8  # search candidates remembered for "Not what I meant"
MAX_SEEN: Final = 16  # articles shown in this thread, newest last
CONTEXT_VERSION: Final = 1

# Words people wrap around a provider or client when they only state their set-up
# ("I use Gmail", "we moved to Office 365", "my address is ..."). A message made of
# these plus a provider/client is context, not a new question.
_SETUP_WORDS: Final = frozenset(
    token
    for word in (
        *("use", "using", "used", "with", "via", "through", "from", "on", "actually", "instead"),
        *("switched", "switch", "moved", "move", "changed", "change"),
        *("account", "address", "mail", "email", "app", "client", "provider"),
        *("work", "personal", "company", "our", "business"),
        *("phone", "laptop", "computer", "desktop"),
    )
    for token in tokens(word)
)


class ThreadStage(StrEnum):
    """Where "Still failing" leads next."""

    STEPS = "steps"  # walking the current article's steps
    RELATED = "related"  # steps exhausted, related articles offered
    HUMAN = "human"  # related articles offered too: only a person is left


@dataclass(frozen=True, slots=True, kw_only=True)
class ThreadContext:
    """One thread's conversation state (what the store keeps under ``STATE_FIELD``)."""

    provider: str | None = None  # provider id (knowledge/data/providers.yaml)
    client: str | None = None  # client id (knowledge/data/clients.yaml)
    email: str | None = None  # an address the person mentioned, for the live-check modal
    reply_id: str | None = None  # last recognised SMTP reply (knowledge/data/replies.yaml)
    code: int | None = None
    enhanced: str | None = None
    article: str | None = None  # article being walked through
    step: int = 0  # index of the step shown last; the steps before it are done
    variant: str | None = None  # variant key the shown steps came from (None: generic)
    stage: ThreadStage = ThreadStage.STEPS
    steps_done: int = 0  # steps walked in this thread, across articles
    candidates: tuple[str, ...] = ()  # article ids of the last search, best first
    shown: int = 0  # how many of ``candidates`` have been shown
    seen: tuple[str, ...] = ()  # articles shown in this thread, oldest first
    resolved: bool = False
    started_at: float | None = None  # epoch seconds of the first question
    resolved_at: float | None = None  # epoch seconds of "That fixed it"

    @property
    def time_to_resolution(self) -> float | None:
        """Seconds from the first question to "That fixed it", when both are known."""
        if self.started_at is None or self.resolved_at is None:
            return None
        return max(0.0, self.resolved_at - self.started_at)

    def to_dict(self) -> dict[str, Any]:
        """A small JSON-safe mapping; ``None`` fields and defaults are left out."""
        data: dict[str, Any] = {"v": CONTEXT_VERSION}
        for name in _TEXT_FIELDS:
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        for name in ("code", "step", "steps_done", "shown"):
            value = getattr(self, name)
            if value:
                data[name] = value
        if self.stage is not ThreadStage.STEPS:
            data["stage"] = self.stage.value
        if self.candidates:
            data["candidates"] = list(self.candidates)
        if self.seen:
            data["seen"] = list(self.seen)
        if self.resolved:
            data["resolved"] = True
        for name in ("started_at", "resolved_at"):
            value = getattr(self, name)
            if value is not None:
                data[name] = round(value, 3)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ThreadContext:
        """Parse ``to_dict`` output; anything missing, malformed or oversized is dropped.

        The store is shared by processes of different versions and outlives them, so
        a bad field costs that field, never the thread.
        """
        if not isinstance(data, Mapping):
            return cls()
        fields: dict[str, Any] = {}
        for name in _TEXT_FIELDS:
            limit = MAX_EMAIL if name == "email" else MAX_ID
            value = data.get(name)
            if isinstance(value, str) and 0 < len(value) <= limit:
                fields[name] = value
        for name in ("code", "step", "steps_done", "shown"):
            value = data.get(name)
            if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10_000:
                fields[name] = value
        stage = data.get("stage")
        if isinstance(stage, str) and stage in ThreadStage.__members__.values():
            fields["stage"] = ThreadStage(stage)
        for name, limit in (("candidates", MAX_CANDIDATES), ("seen", MAX_SEEN)):
            fields[name] = _ids(data.get(name), limit)
        fields["resolved"] = data.get("resolved") is True
        for name in ("started_at", "resolved_at"):
            value = data.get(name)
            if (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and math.isfinite(value)
            ):
                fields[name] = float(value)
        return cls(**fields)

    def showing(self, article: str, *, variant: str | None, step: int = 0) -> ThreadContext:
        """This context with ``article`` shown from ``step`` (and remembered as seen)."""
        seen = (*(a for a in self.seen if a != article), article)
        return replace(
            self,
            article=article,
            step=step,
            variant=variant,
            stage=ThreadStage.STEPS,
            seen=seen[-MAX_SEEN:],
        )

    def reopened(self) -> ThreadContext:
        """A fresh issue in a resolved thread: keep who the person is, forget the problem."""
        return ThreadContext(provider=self.provider, client=self.client, email=self.email)


_TEXT_FIELDS: Final = ("provider", "client", "email", "reply_id", "enhanced", "article", "variant")


def _ids(value: object, limit: int) -> tuple[str, ...]:
    if not isinstance(value, list | tuple):
        return ()
    found = [v for v in value if isinstance(v, str) and 0 < len(v) <= MAX_ID]
    return tuple(dict.fromkeys(found))[-limit:] if limit == MAX_SEEN else tuple(found[:limit])


# -- detection -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Observation:
    """What one message told us."""

    provider: str | None
    client: str | None
    email: str | None
    matches: tuple[Match, ...]
    setup_only: bool  # the message only states provider/client/address, asks nothing


def observe(kb: KnowledgeBase, text: str) -> Observation:
    """Detect provider, client, address and SMTP replies in one message."""
    found = find_mentions(kb, text[:MAX_TEXT])
    leftover = [
        w for i, w in enumerate(found.words) if i not in found.used and w not in _SETUP_WORDS
    ]
    said_something = found.provider is not None or found.client is not None
    said_something = said_something or found.email is not None
    return Observation(
        provider=found.provider,
        client=found.client,
        email=found.email,
        matches=found.matches,
        setup_only=said_something and not leftover and not found.matches,
    )


def apply(context: ThreadContext, seen: Observation) -> ThreadContext:
    """``context`` updated with what a message said; what it did not say is kept."""
    changes: dict[str, Any] = {}
    if seen.provider is not None:
        changes["provider"] = seen.provider
    if seen.client is not None:
        changes["client"] = seen.client
    if seen.email is not None:
        changes["email"] = seen.email
    if seen.matches:
        first = seen.matches[0]
        changes.update(reply_id=first.reply_id, code=first.code, enhanced=first.enhanced)
    return replace(context, **changes) if changes else context


def learn(kb: KnowledgeBase, text: str, context: ThreadContext) -> ThreadContext:
    """``context`` plus the provider, client, address and SMTP reply found in ``text``."""
    return apply(context, observe(kb, text))
