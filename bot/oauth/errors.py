"""What went wrong at the identity provider, in our terms.

The token endpoint answers ``{"error": ..., "error_description": ...}`` (RFC 6749
5.2, RFC 8628 3.5); Microsoft puts an ``AADSTSnnnnn`` code in the description,
and that code says far more than the error (consent, Conditional Access, wrong
tenant...). ``problem_of`` is the one place those answers are read. The
description itself is never kept or shown: only the error name and the code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from bot.errors import SmtpcheckError


class Problem(StrEnum):
    """Why a sign-in produced no token; the values appear in logs and JSON output."""

    DENIED = "denied"  # the user declined (access_denied, AADSTS65004)
    EXPIRED = "expired"  # the code ran out before the user signed in
    CONSENT_REQUIRED = "consent_required"  # the user has not consented to SMTP.Send yet
    ADMIN_CONSENT = "admin_consent"  # only an administrator may grant the permission
    CONDITIONAL_ACCESS = "conditional_access"  # a Conditional Access / MFA policy blocked it
    WRONG_TENANT = "wrong_tenant"  # the account or app is not in this tenant
    CLIENT_MISCONFIGURED = "client_misconfigured"  # the app registration is not set up right
    INVALID_GRANT = "invalid_grant"  # the code was refused (used, revoked, wrong verifier)
    STATE_MISMATCH = "state_mismatch"  # a callback that is not ours, reused or too late
    UNREACHABLE = "unreachable"  # the identity provider could not be reached
    BAD_RESPONSE = "bad_response"  # the identity provider answered something unusable


# Knowledge articles that explain each problem, most relevant first.
ARTICLES: Final[dict[Problem, tuple[str, ...]]] = {
    Problem.DENIED: ("oauth-modern-auth",),
    Problem.EXPIRED: ("oauth-modern-auth",),
    Problem.CONSENT_REQUIRED: ("oauth-admin-consent", "oauth-modern-auth"),
    Problem.ADMIN_CONSENT: ("oauth-admin-consent", "oauth-modern-auth"),
    Problem.CONDITIONAL_ACCESS: ("oauth-conditional-access", "oauth-modern-auth"),
    Problem.WRONG_TENANT: ("oauth-wrong-tenant", "oauth-modern-auth"),
    Problem.CLIENT_MISCONFIGURED: ("oauth-admin-consent", "professional-help"),
    Problem.INVALID_GRANT: ("oauth-modern-auth",),
    Problem.STATE_MISMATCH: ("oauth-modern-auth",),
    Problem.UNREACHABLE: ("cannot-connect",),
    Problem.BAD_RESPONSE: ("professional-help",),
}

# Microsoft identity platform codes (AADSTS), from its published error code list.
_AADSTS: Final[dict[str, Problem]] = {
    "65001": Problem.CONSENT_REQUIRED,  # the user or administrator has not consented
    "65004": Problem.DENIED,  # the user declined to consent
    "90094": Problem.ADMIN_CONSENT,  # the grant needs administrator permissions
    "90099": Problem.ADMIN_CONSENT,  # the app has not been authorised in the tenant
    "53000": Problem.CONDITIONAL_ACCESS,  # device must be compliant / managed
    "53001": Problem.CONDITIONAL_ACCESS,  # device must be domain joined
    "53003": Problem.CONDITIONAL_ACCESS,  # blocked by Conditional Access
    "50076": Problem.CONDITIONAL_ACCESS,  # MFA required by policy
    "50079": Problem.CONDITIONAL_ACCESS,  # MFA registration required
    "50158": Problem.CONDITIONAL_ACCESS,  # an external security challenge was not met
    "50020": Problem.WRONG_TENANT,  # the account does not exist in this tenant
    "90072": Problem.WRONG_TENANT,  # the account from another tenant is not a guest here
    "50059": Problem.WRONG_TENANT,  # no tenant could be found from the request
    "90002": Problem.WRONG_TENANT,  # the tenant does not exist
    "700016": Problem.WRONG_TENANT,  # the app is not registered in this directory
    "7000218": Problem.CLIENT_MISCONFIGURED,  # public client flows not allowed for the app
    "700025": Problem.CLIENT_MISCONFIGURED,  # a public client was sent a client secret
    "70011": Problem.CLIENT_MISCONFIGURED,  # the scope asked for is invalid
    "70019": Problem.EXPIRED,  # the device code has expired
}

_ERRORS: Final[dict[str, Problem]] = {
    "access_denied": Problem.DENIED,
    "authorization_declined": Problem.DENIED,
    "expired_token": Problem.EXPIRED,
    "consent_required": Problem.CONSENT_REQUIRED,
    "interaction_required": Problem.CONDITIONAL_ACCESS,
    "invalid_client": Problem.CLIENT_MISCONFIGURED,
    "unauthorized_client": Problem.CLIENT_MISCONFIGURED,
    "invalid_scope": Problem.CLIENT_MISCONFIGURED,
    "invalid_request": Problem.CLIENT_MISCONFIGURED,
    "redirect_uri_mismatch": Problem.CLIENT_MISCONFIGURED,
    "invalid_grant": Problem.INVALID_GRANT,
}

_AADSTS_CODE: Final = re.compile(r"\bAADSTS(\d{5,7})\b")
_ERROR_NAME: Final = re.compile(r"[a-z_]{1,40}")


@dataclass(frozen=True, slots=True)
class ProviderError:
    """The identity provider's error, reduced to what is safe to keep: name and code."""

    error: str
    code: str | None = None  # the AADSTS number, without the prefix


def provider_error(payload: object) -> ProviderError:
    """Read an RFC 6749 error body; anything unusable is ``bad_response``."""
    if not isinstance(payload, dict):
        return ProviderError("bad_response")
    error = payload.get("error")
    name = error if isinstance(error, str) and _ERROR_NAME.fullmatch(error) else "bad_response"
    description = payload.get("error_description")
    match = _AADSTS_CODE.search(description) if isinstance(description, str) else None
    codes = payload.get("error_codes")
    if match is None and isinstance(codes, list) and codes and isinstance(codes[0], int):
        return ProviderError(name, str(codes[0]))
    return ProviderError(name, match.group(1) if match else None)


def problem_of(error: ProviderError) -> Problem:
    """The problem an error names: the AADSTS code first (it is the more specific)."""
    if error.code is not None and error.code in _AADSTS:
        return _AADSTS[error.code]
    return _ERRORS.get(error.error, Problem.BAD_RESPONSE)


class SignInFailed(SmtpcheckError):
    """No token: ``problem`` says why; ``error`` is the provider's, when it answered one.

    The message names only the problem, the error name and the AADSTS code: never a
    description, a code or a token.
    """

    def __init__(self, problem: Problem, error: ProviderError | None = None) -> None:
        self.problem = problem
        self.error = error
        shown = problem.value
        if error is not None:
            shown += f" ({error.error}" + (f", AADSTS{error.code})" if error.code else ")")
        super().__init__(shown)

    @property
    def articles(self) -> tuple[str, ...]:
        return ARTICLES[self.problem]

    @classmethod
    def from_error(cls, error: ProviderError) -> SignInFailed:
        return cls(problem_of(error), error)
