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

    def lease(self, owner: str) -> str:
        return f"{self.namespace}:lease:{_part(owner)}"

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

    def journal(self, key: str) -> str:
        # One hash tag for the order and the entries: a script may touch both.
        return f"{self.namespace}:journal:{{{_part(key)}}}"

    def journal_entries(self, key: str) -> str:
        return f"{self.namespace}:journal-entries:{{{_part(key)}}}"

    def events(self, kind: str, day: date) -> str:
        return f"{self.namespace}:metrics:{_metric_kind(kind)}:{day.isoformat()}"

    def users(self, kind: str, day: date) -> str:
        return f"{self.namespace}:metrics-users:{_metric_kind(kind)}:{day.isoformat()}"

    def errors(self, day: date) -> str:
        return f"{self.namespace}:metrics-errors:{day.isoformat()}"

    def durations(self, kind: str, day: date) -> str:
        return f"{self.namespace}:metrics-duration:{_metric_kind(kind)}:{day.isoformat()}"


# -- logical keys ------------------------------------------------------------------------
# What callers hand to the store's roles (the store then adds namespace and kind). Every
# prefix lives here, so two features can never share a key by accident.


def event_claim(event_id: str) -> str:
    """A Slack event delivery (retries carry the same id)."""
    return f"event:{event_id}"


def message_claim(channel: str, ts: str) -> str:
    """The one answer to a message (a DM that mentions the bot fires two events)."""
    return f"message:{channel}:{ts}"


def feedback_review() -> str:
    """The admins' list of questions to review (a journal)."""
    return "feedback:review"


def answered_question(token: str) -> str:
    """The redacted question behind an answer with no thread (an ephemeral answer), by
    the random token its "Not helpful" button carries (a document)."""
    return f"answered:{token}"


def webhook_failures() -> str:
    """The escalation webhook's recent failed deliveries (a journal)."""
    return "webhook:failures"


def submission_claim(submission_key: str) -> str:
    """One probe-modal submission (view id + hash)."""
    return f"submit:{submission_key}"


def triage_claim(thread: str) -> str:
    """The one automatic explanation in a triage-channel thread."""
    return f"triage:{thread}"


def check_escalation(check_id: str) -> str:
    """The one helpdesk escalation of a live check."""
    return f"escalated:{check_id}"


def thread_escalation(thread: str) -> str:
    """The one helpdesk escalation of a help thread."""
    return f"escalated:thread:{thread}"


def resolution_claim(user_id: str, episode: str) -> str:
    """The one "resolved" count of a user's episode."""
    return f"helpdesk-resolved:{user_id}:{episode}"


def help_thread_started(thread: str) -> str:
    """The one count of a help thread's start (deflection's denominator)."""
    return f"help-thread:started:{thread}"


def help_thread_record(thread: str) -> str:
    """When a counted help thread started (a document)."""
    return f"help-thread:{thread}"


def help_thread_settled(thread: str) -> str:
    """The first outcome of a help thread ("That fixed it" or escalated)."""
    return f"help-thread:settled:{thread}"


def help_thread_escalated(thread: str) -> str:
    """The one escalation count of a help thread."""
    return f"help-thread:escalated:{thread}"


def check_followup(check_id: str) -> str:
    """A check's non-secret follow-up document (advice for its buttons)."""
    return f"check:{check_id}"


def user_quota(user_id: str) -> str:
    """The user's window of started checks."""
    return f"user:{user_id}"


def auth_failures(account: str) -> str:
    """An account's window of failed AUTH attempts (the lockout budget)."""
    return f"auth-fail:{account}"


def account_slot(account: str) -> str:
    """The one check in flight per account."""
    return f"target:{account}"


def oauth_state(state_hash: str) -> str:
    """A Google sign-in under way, by the SHA-256 of its ``state`` (never the state)."""
    return f"oauth-state:{state_hash}"


def oauth_state_used(state_hash: str) -> str:
    """The one redemption of a sign-in ``state``."""
    return f"oauth-state-used:{state_hash}"
