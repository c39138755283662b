"""Explain on wordings met in the wild pastes (knowledge/eval/real/wild.yaml): a code-class
fallback gives way to a reply wording that names the cause, providers only on evidence,
and client-side wordings (lettre, Cyrus SASL, curl, Grafana, libraries on old TLS)."""

from __future__ import annotations

import pytest

from knowledge import KnowledgeBase
from knowledge.explain import explain_text


def _first(kb: KnowledgeBase, text: str) -> tuple[str, str, str | None]:
    """(reply id, first article, provider) of the best match."""
    match = explain_text(kb, text).matches[0]
    return match.reply_id, match.articles[0], match.provider


def test_a_fallback_gives_way_to_a_wording_listed_after_it(real_kb: KnowledgeBase) -> None:
    """ "554 5.7.1" alone is a class fallback; the sender wording after it names the cause."""
    reply_id, article, _ = _first(real_kb, "554 5.7.1 Sender address rejected: Access denied")
    assert reply_id == "sender-address-refused"
    assert article == "sender-permissions"
    # the code alone still gets its honest fallback
    assert _first(real_kb, "554 5.7.1 nope")[0] == "generic-554-5-7-1"


@pytest.mark.parametrize(
    ("text", "reply_id"),
    [
        ("535 Authentication Failed", "generic-535"),  # "Authentication failed": a wrapper
        ("535 5.7.8 Authentication credentials invalid", "generic-535-5-7-8"),
    ],
)
def test_a_wrapper_or_catch_all_never_displaces_a_code_fallback(
    real_kb: KnowledgeBase, text: str, reply_id: str
) -> None:
    assert _first(real_kb, text)[0] == reply_id


def test_gmail_refusing_direct_delivery_points_to_a_relay(real_kb: KnowledgeBase) -> None:
    text = (
        "550-5.7.1 [203.0.113.7] The IP you're using to send mail is not authorized to\n"
        "550-5.7.1 send email directly to our servers. Please use the SMTP relay at your\n"
        "550-5.7.1 service provider instead. Learn more at\n"
        "550 5.7.1  https://support.google.com/mail/?p=NotAuthorizedError f64si1223417pfg - gsmtp"
    )
    assert _first(real_kb, text) == ("gmail-direct-delivery-refused", "relay-service", "gmail")


def test_the_same_words_without_google_evidence_name_no_provider(real_kb: KnowledgeBase) -> None:
    text = "554 not authorized to send email directly to our servers"
    reply_id, _, provider = _first(real_kb, text)
    assert reply_id != "gmail-direct-delivery-refused"
    assert provider is None


def test_ses_region_wording_is_ses_and_lists_the_relay_article_first(
    real_kb: KnowledgeBase,
) -> None:
    """The failed identity may be the From address or, in the sandbox, a recipient:
    relay-service covers both, so it comes first."""
    text = (
        "MessageRejected: Email address is not verified. The following identities failed "
        "the check in region US-WEST-2: someone@example.org"
    )
    assert _first(real_kb, text) == ("ses-identity-not-verified", "relay-service", "amazon-ses")


@pytest.mark.parametrize(
    ("text", "reply_id", "article"),
    [
        (
            "[vaultwarden::mail][ERROR] SMTP Client error: internal client error: "
            "No compatible authentication mechanism was found",
            "auth-not-offered",
            "auth-not-offered",
        ),
        (
            # the relay's host is in the line, yet the cause is the sending host's SASL setup
            "postfix/smtp[39474]: BBFC982148: to=<a@example.org>, relay=smtp-relay.brevo.com"
            "[192.0.2.8]:587, dsn=4.7.0, status=deferred (SASL authentication failed; cannot "
            "authenticate to server smtp-relay.brevo.com[192.0.2.8]: no mechanism available)",
            "sasl-client-no-mechanism",
            "auth-method",
        ),
        (
            'msg="Failed to send alert notification email" logger=alerting.notifier.email '
            'error="Grafana mailing/smtp options not configured, contact your Grafana admin"',
            "app-smtp-not-configured",
            "app-smtp-config",
        ),
        (
            "URL using bad/illegal format or missing URL",
            "curl-smtp-url-malformed",
            "app-smtp-config",
        ),
    ],
)
def test_client_side_wordings(
    real_kb: KnowledgeBase, text: str, reply_id: str, article: str
) -> None:
    assert _first(real_kb, text)[:2] == (reply_id, article)


def test_old_tls_from_a_library_is_the_apps_setting_from_a_device_the_devices(
    real_kb: KnowledgeBase,
) -> None:
    reply = (
        "421 4.7.66 TLS 1.0 and 1.1 are not supported. Please upgrade/update your client to "
        "support TLS 1.2. Visit https://aka.ms/smtp_auth_tls."
    )
    library = f"javax.mail.AuthenticationFailedException: {reply}"
    assert _first(real_kb, library)[:2] == ("m365-tls-version-library", "app-smtp-config")
    assert _first(real_kb, reply)[:2] == ("m365-tls-version-unsupported", "devices-and-apps")


def test_a_server_log_without_the_asked_mechanism_is_a_mechanism_problem(
    real_kb: KnowledgeBase,
) -> None:
    """Postfix's own log when the client asked for a mechanism it lacks: not a wrong password,
    though the same lines say "SASL authentication failure"."""
    log = (
        "postfix/submission/smtpd[591]: connect from unknown[172.17.0.6]\n"
        "postfix/submission/smtpd[591]: warning: SASL authentication failure: "
        "Couldn't find mech LOGIN\n"
        "postfix/submission/smtpd[591]: warning: unknown[172.17.0.6]: SASL LOGIN "
        "authentication failed: no mechanism available\n"
        "postfix/submission/smtpd[591]: lost connection after AUTH from unknown[172.17.0.6]"
    )
    assert _first(real_kb, log)[:2] == ("sasl-server-no-mechanism", "auth-method")
    wrong_password = (
        "postfix/submission/smtpd[591]: warning: unknown[172.17.0.6]: SASL LOGIN "
        "authentication failed: UGFzc3dvcmQ6"
    )
    assert _first(real_kb, wrong_password)[1] == "check-credentials"


def test_mutt_without_sasl_plugins_is_a_mechanism_problem(real_kb: KnowledgeBase) -> None:
    assert _first(real_kb, "No authenticators available")[:2] == (
        "sasl-client-no-mechanism",
        "auth-method",
    )


SYMFONY_M365 = (
    'Failed to authenticate on SMTP server with username "user@example.com" using the '
    'following authenticators: "LOGIN", "XOAUTH2". Authenticator "LOGIN" returned "Expected '
    'response code "235" but got code "535", with message "535 5.7.139 Authentication '
    "unsuccessful, the request did not meet the criteria to be authenticated successfully. "
    'Contact your administrator. [FR2P281CA0001.DEUP281.PROD.OUTLOOK.COM]".". Authenticator '
    '"XOAUTH2" returned "Expected response code "235" but got code "535", with message "535 '
    '5.7.3 Authentication unsuccessful [FR2P281CA0001.DEUP281.PROD.OUTLOOK.COM]".".'
)


def test_symfony_trying_xoauth2_after_a_password_is_no_oauth_evidence(
    real_kb: KnowledgeBase,
) -> None:
    """Symfony Mailer tries XOAUTH2 with the same secret after LOGIN failed: that 5.7.3 is
    the password sent as a token, not a refused OAuth token: the answer is the mailbox's
    SMTP AUTH policy, with the policy reply LOGIN got beside it."""
    matches = explain_text(real_kb, SYMFONY_M365).matches
    assert (matches[0].reply_id, matches[0].articles[0]) == (
        "m365-auth-unsuccessful",
        "m365-smtp-auth-disabled",
    )
    assert "m365-conditional-access" in {match.reply_id for match in matches}
    only_oauth = (  # an app set up for OAuth alone: its token was refused
        'Failed to authenticate on SMTP server with username "user@example.com" using the '
        'following authenticators: "XOAUTH2". Authenticator "XOAUTH2" returned "Expected '
        'response code "235" but got code "535", with message "535 5.7.3 Authentication '
        'unsuccessful [FR2P281CA0001.DEUP281.PROD.OUTLOOK.COM]".".'
    )
    assert _first(real_kb, only_oauth)[:2] == ("m365-oauth-token-rejected", "oauth-token-errors")
