"""Pure OAuth logic: PKCE, state, the device-code schedule and identity-provider errors."""

from __future__ import annotations

import base64
import hashlib

import pytest

from bot.errors import ConfigError
from bot.oauth.device import SLOW_DOWN_STEP, Answer, DeviceAuthorization, DevicePoll
from bot.oauth.errors import Problem, SignInFailed, problem_of, provider_error
from bot.oauth.hosts import provider_for_host
from bot.oauth.pkce import challenge_of, new_pkce, new_state, same_state, state_hash
from bot.oauth.settings import OAuthSettings, Provider
from bot.probe.xoauth2 import decode_challenge

GRANT = {
    "device_code": "dc",
    "user_code": "ABCD-1234",
    "verification_uri": "https://microsoft.com/devicelogin",
    "expires_in": 30,
    "interval": 5,
}


def test_pkce_challenge_is_s256_of_the_verifier() -> None:
    """RFC 7636 appendix B's example, and a fresh pair that matches."""
    assert challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == (
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )
    pkce = new_pkce()
    digest = hashlib.sha256(pkce.verifier.reveal().encode()).digest()
    assert pkce.challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert 43 <= len(pkce.verifier.reveal()) <= 128
    assert pkce.verifier.reveal() not in repr(pkce)


def test_states_are_unguessable_hashed_and_compared_exactly() -> None:
    """Two states differ; the hash hides the state; comparison is exact."""
    one, two = new_state(), new_state()
    assert one != two and len(one) >= 43
    assert one not in state_hash(one) and len(state_hash(one)) == 64
    assert same_state(one, one) and not same_state(one, two) and not same_state(one, "")


def test_polling_waits_the_interval_and_slow_down_adds_five_seconds() -> None:
    """Pending keeps the interval; each slow_down adds 5 s for good (RFC 8628 3.5)."""
    poll = DevicePoll(DeviceAuthorization.parse(GRANT), now=0.0)
    assert poll.wait(0.0) == 5.0
    assert poll.answer(400, {"error": "authorization_pending"}) is Answer.PENDING
    assert poll.wait(5.0) == 5.0
    assert poll.answer(400, {"error": "slow_down"}) is Answer.SLOW_DOWN
    assert poll.wait(10.0) == 5.0 + SLOW_DOWN_STEP
    assert poll.answer(200, {"access_token": "t"}) is Answer.TOKEN


def test_no_poll_after_expiry() -> None:
    """A poll that would land after expires_in is not made: the sign-in has expired."""
    poll = DevicePoll(DeviceAuthorization.parse(GRANT), now=100.0)
    assert poll.wait(124.0) == 5.0
    with pytest.raises(SignInFailed) as caught:
        poll.wait(125.0)
    assert caught.value.problem is Problem.EXPIRED


@pytest.mark.parametrize(
    ("error", "problem"),
    [
        ("expired_token", Problem.EXPIRED),
        ("access_denied", Problem.DENIED),
        ("invalid_grant", Problem.INVALID_GRANT),
        ("server_error", Problem.BAD_RESPONSE),
    ],
)
def test_final_poll_answers_raise(error: str, problem: Problem) -> None:
    """expired_token, access_denied, invalid_grant and the unknown end the polling."""
    poll = DevicePoll(DeviceAuthorization.parse(GRANT), now=0.0)
    with pytest.raises(SignInFailed) as caught:
        poll.answer(400, {"error": error})
    assert caught.value.problem is problem


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("65001", Problem.CONSENT_REQUIRED),
        ("90094", Problem.ADMIN_CONSENT),
        ("53003", Problem.CONDITIONAL_ACCESS),
        ("50076", Problem.CONDITIONAL_ACCESS),
        ("50020", Problem.WRONG_TENANT),
        ("700016", Problem.WRONG_TENANT),
        ("7000218", Problem.CLIENT_MISCONFIGURED),
    ],
)
def test_aadsts_codes_name_the_problem(code: str, problem: Problem) -> None:
    """The AADSTS code in the description wins over the generic error name."""
    description = f"AADSTS{code}: something happened. Trace ID: 0000 Correlation ID: 1111"
    error = provider_error({"error": "invalid_grant", "error_description": description})
    assert error.code == code and problem_of(error) is problem
    failure = SignInFailed.from_error(error)
    assert "Trace ID" not in str(failure) and f"AADSTS{code}" in str(failure)
    assert failure.articles


def test_odd_device_responses_are_bad_responses() -> None:
    """No device code, a non-https link or a negative lifetime: bad_response, not a crash."""
    for broken in ({}, {**GRANT, "verification_uri": "http://x"}, {**GRANT, "expires_in": -1}):
        with pytest.raises(SignInFailed) as caught:
            DeviceAuthorization.parse(broken)
        assert caught.value.problem is Problem.BAD_RESPONSE
    assert provider_error("not json").error == "bad_response"
    assert provider_error({"error": "<script>"}).error == "bad_response"


def test_device_code_is_a_secret() -> None:
    """The device code never shows in a repr."""
    grant = DeviceAuthorization.parse({**GRANT, "device_code": "Canary-dc-0001"})
    assert "Canary-dc-0001" not in repr(grant)


def test_production_identity_providers_must_be_https() -> None:
    """http:// is refused; loopback http only with the test-only flag, never from the env."""
    with pytest.raises(ConfigError, match="SMTPCHECK_MS_AUTHORITY"):
        OAuthSettings.from_env({"SMTPCHECK_MS_AUTHORITY": "http://127.0.0.1:9"}.get)
    with pytest.raises(ConfigError, match="SMTPCHECK_GOOGLE_TOKEN_URL"):
        OAuthSettings(google_token_url="http://10.0.0.1/token", insecure_loopback=True)
    OAuthSettings(ms_authority="http://127.0.0.1:9", insecure_loopback=True)
    with pytest.raises(ConfigError, match="go together"):
        OAuthSettings.from_env({"SMTPCHECK_GOOGLE_CLIENT_ID": "x"}.get)


def test_settings_from_env() -> None:
    """Defaults, sovereign-cloud authority and the Google client settings."""
    env = {
        "SMTPCHECK_MS_CLIENT_ID": "abc",
        "SMTPCHECK_MS_AUTHORITY": "https://login.microsoftonline.us/",
        "SMTPCHECK_GOOGLE_CLIENT_ID": "g",
        "SMTPCHECK_GOOGLE_CLIENT_SECRET": "s3cret",
        "SMTPCHECK_PUBLIC_URL": "https://bot.example.com/",
    }
    settings = OAuthSettings.from_env(env.get)
    assert settings.ms_endpoint("token") == (
        "https://login.microsoftonline.us/organizations/oauth2/v2.0/token"
    )
    assert settings.google_in_slack
    assert settings.google_redirect_uri == "https://bot.example.com/oauth/google/callback"
    assert "s3cret" not in repr(settings)
    empty = OAuthSettings.from_env({}.get)
    assert not empty.microsoft and not empty.google and not empty.google_in_slack


def test_hosts_map_to_their_provider() -> None:
    """Microsoft and Google submission hosts; anything else none."""
    assert provider_for_host("smtp.office365.com") is Provider.MICROSOFT
    assert provider_for_host("SMTP-MAIL.OUTLOOK.COM.") is Provider.MICROSOFT
    assert provider_for_host("smtp.gmail.com") is Provider.GOOGLE
    assert provider_for_host("smtp.example.com") is None
    assert provider_for_host("evil-office365.com") is None


def test_xoauth2_error_challenge_is_decoded() -> None:
    """Gmail's 334 JSON error reads as status, scope and schemes; junk reads as nothing."""
    blob = base64.b64encode(
        b'{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}'
    ).decode()
    challenge = decode_challenge(blob)
    assert challenge is not None
    assert (challenge.status, challenge.schemes) == ("400", "Bearer")
    assert challenge.scope == "https://mail.google.com/"
    assert decode_challenge("") is None
    assert decode_challenge("not base64!") is None
    assert decode_challenge(base64.b64encode(b"[1]").decode()) is None
