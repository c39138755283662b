"""The project's exception hierarchy.

Each class also inherits the builtin it resembles, so callers that only know
the builtin (``ValueError``, ``TimeoutError``...) still catch it. Foreign
exceptions (aiosmtplib, dnspython, redis) are translated into these at one
place per integration, never scattered through callers.
"""

from __future__ import annotations


class SmtpcheckError(Exception):
    """Base class for every error this project raises on purpose."""


class ConfigError(SmtpcheckError, ValueError):
    """A setting from the environment is missing or malformed."""

    def __init__(self, *, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"{name}: {reason}")


class InputError(SmtpcheckError, ValueError):
    """User input was rejected before any network I/O; ``field`` names the input."""

    def __init__(self, *, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class PolicyError(SmtpcheckError, PermissionError):
    """The egress policy refused to reach an address; ``addresses`` are the refused ones."""

    def __init__(self, *, target: str, reason: str, addresses: tuple[str, ...] = ()) -> None:
        self.target = target
        self.reason = reason
        self.addresses = addresses
        super().__init__(f"{target}: {reason}")


class LookupFailed(SmtpcheckError, OSError):
    """A DNS lookup failed (NXDOMAIN, no answer, timeout, server failure)."""

    def __init__(self, *, name: str, reason: str) -> None:
        self.name = name
        self.reason = reason
        super().__init__(f"{name}: {reason}")


class KnowledgeError(SmtpcheckError, ValueError):
    """A knowledge data file failed validation; names the file and the entry."""

    def __init__(self, *, source: str, entry: str | None, reason: str) -> None:
        self.source = source
        self.entry = entry
        self.reason = reason
        where = f"{source} [{entry}]" if entry else source
        super().__init__(f"{where}: {reason}")


class StoreUnavailable(SmtpcheckError, ConnectionError):
    """The state store (Redis) cannot be reached; callers fail closed."""


class RateLimited(SmtpcheckError):
    """A rate limit or lockout refused the action; ``retry_after`` is in seconds."""

    def __init__(self, *, reason: str, retry_after: float) -> None:
        self.reason = reason
        self.retry_after = retry_after
        super().__init__(f"{reason} (retry in {retry_after:.0f}s)")


class FetchFailed(SmtpcheckError, OSError):
    """An HTTPS fetch (autoconfig) gave no usable document; ``reason`` says why in words."""

    def __init__(self, *, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: {reason}")
