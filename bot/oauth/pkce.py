"""PKCE (RFC 7636) and ``state`` values: random, single purpose, compared in constant time.

The verifier is a ``Secret`` (it proves we started the sign-in); the challenge is its
S256 hash and travels in the browser's URL. A ``state`` is shown to the browser too,
so the store keeps only ``state_hash(state)``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from bot.secret import Secret


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


@dataclass(frozen=True, slots=True)
class Pkce:
    verifier: Secret
    challenge: str
    method: str = "S256"


def new_pkce() -> Pkce:
    """A 43-character verifier (32 random bytes) and its S256 challenge."""
    verifier = _b64url(secrets.token_bytes(32))
    return Pkce(Secret(verifier), challenge_of(verifier))


def challenge_of(verifier: str) -> str:
    """RFC 7636 S256: BASE64URL(SHA256(verifier)) without padding."""
    return _b64url(hashlib.sha256(verifier.encode("ascii")).digest())


def new_state() -> str:
    """An unguessable ``state`` for one sign-in (32 random bytes)."""
    return _b64url(secrets.token_bytes(32))


def state_hash(state: str) -> str:
    """What the store keeps of a ``state``: its SHA-256, hex."""
    return hashlib.sha256(state.encode("utf-8", "replace")).hexdigest()


def same_state(expected: str, received: str) -> bool:
    """Constant-time comparison of two ``state`` values."""
    return hmac.compare_digest(expected.encode(), received.encode())
