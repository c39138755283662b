"""The device authorization grant (RFC 8628), decided without the network.

``DeviceAuthorization.parse`` reads the device authorization response;
``DevicePoll`` says how long to wait before each poll of the token endpoint and
what each answer means: ``authorization_pending`` -> poll again after the
interval, ``slow_down`` -> the interval grows by 5 s for good (section 3.5),
``expired_token`` / ``access_denied`` / ``invalid_grant`` and anything else ->
``SignInFailed``. No poll is ever made after ``expires_in`` has run out.

Pure: no I/O and no clock of its own (callers pass ``time.monotonic()`` readings).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from bot.oauth.errors import Problem, ProviderError, SignInFailed, provider_error
from bot.secret import Secret

DEFAULT_INTERVAL: Final = 5.0  # RFC 8628 3.2: when the response names none
SLOW_DOWN_STEP: Final = 5.0  # RFC 8628 3.5
MAX_EXPIRES_IN: Final = 1800.0  # we never wait longer than this for one sign-in
MAX_INTERVAL: Final = 60.0


class Answer(StrEnum):
    """What one token-endpoint answer means for the polling."""

    TOKEN = "token"  # noqa: S105 (an answer kind, not a token)
    PENDING = "pending"
    SLOW_DOWN = "slow_down"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceAuthorization:
    """What the user is shown (code and link) and what we poll with (the device code)."""

    device_code: Secret
    user_code: str
    verification_uri: str
    expires_in: float
    interval: float

    @classmethod
    def parse(cls, payload: object) -> DeviceAuthorization:
        """Read an RFC 8628 3.2 response; a missing or odd field is ``bad_response``."""
        if not isinstance(payload, dict):
            raise SignInFailed(Problem.BAD_RESPONSE)
        device_code, user_code = payload.get("device_code"), payload.get("user_code")
        uri = payload.get("verification_uri") or payload.get("verification_url")
        expires_in, interval = payload.get("expires_in"), payload.get("interval", DEFAULT_INTERVAL)
        if not (
            isinstance(device_code, str)
            and device_code
            and isinstance(user_code, str)
            and 0 < len(user_code) <= 32
            and user_code.replace("-", "").isalnum()
            and isinstance(uri, str)
            and uri.startswith("https://")
            and isinstance(expires_in, int | float)
            and expires_in > 0
            and isinstance(interval, int | float)
            and interval >= 0
        ):
            raise SignInFailed(Problem.BAD_RESPONSE)
        return cls(
            device_code=Secret(device_code),
            user_code=user_code,
            verification_uri=uri,
            expires_in=min(float(expires_in), MAX_EXPIRES_IN),
            interval=min(float(interval), MAX_INTERVAL),  # the provider knows its pace
        )


class DevicePoll:
    """The polling schedule of one device authorization."""

    __slots__ = ("expires_at", "interval")

    def __init__(self, authorization: DeviceAuthorization, *, now: float) -> None:
        self.interval = authorization.interval
        self.expires_at = now + authorization.expires_in

    def wait(self, now: float) -> float:
        """Seconds to wait before the next poll; ``SignInFailed(expired)`` when the code
        would have run out by then."""
        if now + self.interval >= self.expires_at:
            raise SignInFailed(Problem.EXPIRED)
        return self.interval

    def answer(self, status: int, payload: object) -> Answer:
        """Read one token-endpoint answer; raise ``SignInFailed`` for a final refusal."""
        if status == 200:
            return Answer.TOKEN
        error = provider_error(payload)
        if error.error == "authorization_pending":
            return Answer.PENDING
        if error.error == "slow_down":
            self.interval = min(self.interval + SLOW_DOWN_STEP, MAX_INTERVAL)
            return Answer.SLOW_DOWN
        raise SignInFailed.from_error(error)


def access_token_of(payload: object) -> Secret:
    """The access token of a successful token response, wrapped at once.

    A refresh token, if the provider sent one anyway, is never read: one probe
    needs one access token and nothing more (hence no ``offline_access`` scope).
    """
    if not isinstance(payload, dict):
        raise SignInFailed(Problem.BAD_RESPONSE)
    token = payload.get("access_token")  # a refresh token, if any, is left unread
    if not isinstance(token, str) or not token or any(c.isspace() for c in token):
        raise SignInFailed.from_error(ProviderError("bad_response"))
    return Secret(token)
