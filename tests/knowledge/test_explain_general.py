"""General explain rules, each for a family of pastes rather than one wording: how a log is
ranked (success replies and config echoes are context, not evidence) and reply wordings
that many servers and clients share. The pastes are written for these tests."""

from __future__ import annotations

import pytest

from knowledge import KnowledgeBase
from knowledge.explain import explain_text
from knowledge.paste import split_replies
from tests.knowledge.conftest import first_match as _first

# --- ranking inside a log -------------------------------------------------------------------


def test_a_setting_echo_is_not_a_reply_code() -> None:
    """ "timeout: 300" in a config dump is a setting; the error line after it stands alone."""
    text = (
        "mailer config:\n  host: mail.example.net\n  timeout: 300\n"
        "Error: connect ECONNREFUSED 203.0.113.8:587"
    )
    assert all(reply.code != 300 for reply in split_replies(text))


def test_a_refused_connection_after_a_timeout_setting_is_not_a_timeout(
    real_kb: KnowledgeBase,
) -> None:
    text = (
        "mailer config:\n  host: mail.example.net\n  timeout: 300\n"
        "Error: connect ECONNREFUSED 203.0.113.8:587"
    )
    match = explain_text(real_kb, text).matches[0]
    assert match.reply_id == "connection-refused"
    assert match.code is None


def test_nodemailer_response_code_field_repeats_the_reply() -> None:
    """nodemailer prints the reply in ``response`` and its code again in ``responseCode``."""
    text = (
        "{ [Error: Invalid login: 535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6]\n"
        "  code: 'EAUTH',\n  response: '535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6',\n"
        "  responseCode: 535,\n  command: 'AUTH PLAIN' }"
    )
    coded = [reply for reply in split_replies(text) if reply.code == 535]
    assert coded and all(reply.enhanced == "5.7.8" for reply in coded)


def test_an_ehlo_listing_is_context_not_the_failure(real_kb: KnowledgeBase) -> None:
    """A 250 EHLO reply advertising STARTTLS says nothing went wrong with TLS; the codeless
    failure line after it is what the paste is about, and it is not swallowed by the 250."""
    text = (
        "Connecting to mail.example.net:587\n"
        "220 mail.example.net ESMTP\n"
        "250-mail.example.net\n250-PIPELINING\n250-STARTTLS\n250 SMTPUTF8\n"
        "mailer: giving up, the login was refused"
    )
    replies = split_replies(text)
    assert replies[-1].code is None and "login was refused" in replies[-1].text
    assert _first(real_kb, text)[0] == "family-login"


def test_not_logged_in_after_a_refused_login_is_a_consequence(real_kb: KnowledgeBase) -> None:
    """A client that carries on after "535" gets "530 Authentication required" for MAIL
    FROM; the later reply is not the cause, the refused login is."""
    text = (
        "C: AUTH LOGIN\nS: 334 VXNlcm5hbWU6\nS: 334 UGFzc3dvcmQ6\n"
        "S: 535 5.7.8 Error: authentication failed: UGFzc3dvcmQ6\n"
        "C: MAIL FROM:<shop@example.net>\nS: 530 5.7.0 Authentication required\n"
        "C: QUIT\nS: 221 2.0.0 Bye"
    )
    assert _first(real_kb, text)[1] == "check-credentials"


def test_not_logged_in_without_a_refused_login_stays_first(real_kb: KnowledgeBase) -> None:
    text = (
        "C: EHLO app\nS: 250-mail.example.net\nS: 250 AUTH PLAIN LOGIN\n"
        "C: MAIL FROM:<shop@example.net>\nS: 530 5.7.0 Authentication required"
    )
    assert _first(real_kb, text)[1] == "enable-smtp-auth-in-client"


# --- provider attribution ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "2025-03-02 09:14:11 DEBUG :: HOST: mail.example.net; PORT: 587; USER: shop@example.net;"
        " TO: ['customer@gmail.com']\nERROR: (535, '5.7.8 Authentication failed')",
        "postfix/smtp[2207]: 7F3A: to=<friend@hotmail.com>, relay=mail.example.net"
        "[198.51.100.2]:587, dsn=5.7.3, status=bounced (host mail.example.net[198.51.100.2] "
        "said: 535 5.7.3 Authentication unsuccessful (in reply to AUTH command))",
    ],
)
def test_a_recipient_address_is_no_evidence_of_the_sending_provider(
    real_kb: KnowledgeBase, text: str
) -> None:
    """Where the mail was going says nothing about whose server refused the login."""
    for match in explain_text(real_kb, text).matches:
        assert match.provider not in {"gmail", "outlook-com"}


def test_the_login_address_still_names_the_provider(real_kb: KnowledgeBase) -> None:
    text = (
        "HOST: mail.example.net; PORT: 587; USER: shop@gmail.com; TO: ['a@example.org']\n"
        "ERROR: (535, '5.7.8 Authentication failed')"
    )
    assert explain_text(real_kb, text).matches[0].provider == "gmail"


def test_a_generic_quota_wording_names_no_provider(real_kb: KnowledgeBase) -> None:
    """ "Daily message quota exceeded" is SES's wording but not only SES's: SES is named on
    evidence (its host, its own "Throttling failure" prefix)."""
    plain = explain_text(real_kb, "451 4.7.1 Daily message quota exceeded").matches[0]
    assert plain.articles[0] == "rate-limited"
    assert plain.provider is None
    ses = explain_text(
        real_kb,
        "Connecting to email-smtp.eu-west-1.amazonaws.com:587\n"
        "454 Throttling failure: Daily message quota exceeded.",
    ).matches[0]
    assert ses.provider == "amazon-ses"


# --- server wordings shared by many servers ---------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "smtplib.SMTPDataError: (451, b'4.7.1 Error: too much mail from 198.51.100.20')",
        "452 4.5.3 Error: too many recipients",
        "550 5.7.1 Daily sending quota exceeded for this account (limit 500)",
        "421 4.7.0 Too many concurrent SMTP connections from this IP; try again later",
        "Error: Data command failed: 550 5.4.6 You have exceeded your hourly sending limit",
        "554 5.7.0 Sender rejected: no more than 20 messages per hour are allowed",
        "450 4.7.1 Message throttled, please slow down",
    ],
)
def test_sending_limits_in_any_wording_are_rate_limits(real_kb: KnowledgeBase, text: str) -> None:
    assert _first(real_kb, text) == ("sending-limit-reached", "rate-limited")


@pytest.mark.parametrize(
    "text",
    [
        "552 5.3.4 Message size exceeds fixed maximum message size",
        "452 4.2.2 The email account that you tried to reach is over quota",
        "552 5.2.2 Mailbox quota exceeded",
    ],
)
def test_size_and_mailbox_quotas_are_not_sending_limits(real_kb: KnowledgeBase, text: str) -> None:
    matches = explain_text(real_kb, text).matches
    assert all(match.reply_id != "sending-limit-reached" for match in matches)


@pytest.mark.parametrize(
    ("text", "reply_id", "article"),
    [
        (
            "535 5.7.8 Error: authentication failed: account temporarily locked after too "
            "many failed login attempts",
            "account-locked",
            "account-lockout",
        ),
        (
            "554 5.7.1 Your account has been suspended due to suspected outbound spam",
            "account-suspended",
            "account-restricted",
        ),
        ("535 Authentication failed: user disabled", "account-suspended", "account-restricted"),
        (
            "smtplib.SMTPSenderRefused: (550, b'5.7.1 Mailbox blocked for sending', "
            "'a@example.org')",
            "account-suspended",
            "account-restricted",
        ),
    ],
)
def test_a_locked_or_suspended_account_is_not_a_wrong_password(
    real_kb: KnowledgeBase, text: str, reply_id: str, article: str
) -> None:
    assert _first(real_kb, text) == (reply_id, article)


@pytest.mark.parametrize(
    "text",
    [
        "550 5.2.1 The email account that you tried to reach is disabled.",
        "535 5.7.8 SMTP access is disabled for this account",
        "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for "
        "the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information.",
    ],
)
def test_a_disabled_recipient_or_smtp_switch_is_not_a_suspended_sender(
    real_kb: KnowledgeBase, text: str
) -> None:
    assert _first(real_kb, text)[0] != "account-suspended"


def test_a_question_about_blocked_ports_is_not_a_suspended_account(
    real_kb: KnowledgeBase,
) -> None:
    """Prose is scanned for pasted replies too: "blocked" alone is not a sending block."""
    from knowledge.explain import explain_reply

    text = "my cloud host closed port 25, is every user account blocked now? mail sits in the queue"
    assert all(match.reply_id != "account-suspended" for match in explain_reply(real_kb, text))


@pytest.mark.parametrize(
    "text",
    [
        "smtplib.SMTPSenderRefused: (550, b'The sender and the authenticated user must be "
        "the same address', 'noreply@localhost')",
        "553 5.7.1 <billing@shop.example>: From header does not correspond to the logged-in "
        "account",
        "Error: Mail command failed: 550 Sender email must match your SMTP username",
        "SMTP Error: 553 Sending from this domain is not permitted for your account",
    ],
)
def test_a_sender_that_is_not_the_login_is_a_sender_permission(
    real_kb: KnowledgeBase, text: str
) -> None:
    assert _first(real_kb, text)[1] == "sender-permissions"


# --- client wordings --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "SMTP Error (250): Authentication failed.",
        "Erreur SMTP (250) : échec de l'authentification.",
    ],
)
def test_roundcube_auth_failure_after_ehlo_means_no_auth_offered(
    real_kb: KnowledgeBase, text: str
) -> None:
    """Roundcube prints the last reply code: 250 is the EHLO reply, which offered no AUTH
    (usually because the connection was not switched to TLS first)."""
    assert _first(real_kb, text) == ("auth-not-offered", "auth-not-offered")


def test_roundcube_with_a_real_refusal_code_stays_a_login_failure(real_kb: KnowledgeBase) -> None:
    assert _first(real_kb, "SMTP Error (535): Authentication failed.")[1] != "auth-not-offered"


@pytest.mark.parametrize(
    "text",
    [
        "postfix/smtp[4411]: 9C1D2E3F4A: to=<ops@example.net>, relay=smtp.example.net"
        "[198.51.100.7]:587, delay=0.9, dsn=4.7.0, status=deferred (SASL authentication "
        "failed; cannot authenticate to server smtp.example.net[198.51.100.7]: transient "
        "failure (e.g., weak key))",
        "postfix/smtp[812]: warning: SASL authentication failed; cannot authenticate to "
        "server smtp.example.net[198.51.100.7]: bad protocol / cancel",
    ],
)
def test_postfix_sasl_client_failures_point_at_the_oauth_token(
    real_kb: KnowledgeBase, text: str
) -> None:
    """Cyrus SASL's own error strings: the client plugin failed, not the server's check."""
    assert _first(real_kb, text) == ("sasl-client-plugin-failed", "oauth-token-errors")


def test_postfix_with_no_usable_mechanism_is_an_auth_method_problem(
    real_kb: KnowledgeBase,
) -> None:
    text = (
        "postfix/smtp[3301]: 51AC2B: SASL authentication failed: server relay.example.net"
        "[198.51.100.9] offered no compatible authentication mechanisms for this type of "
        "connection security"
    )
    assert _first(real_kb, text) == ("sasl-client-no-mechanism", "auth-method")


@pytest.mark.parametrize(
    "text",
    [
        "Error: network error: received corrupt message of type InvalidContentType",
        "lettre::transport::smtp::Error { kind: Network, source: Custom { kind: InvalidData, "
        "error: CorruptMessage } }",
    ],
)
def test_rustls_reading_a_plain_greeting_is_a_tls_mode_mismatch(
    real_kb: KnowledgeBase, text: str
) -> None:
    assert _first(real_kb, text) == ("tls-wrong-version", "tls-mode-mismatch")


def test_dotnet_timeout_on_465_is_the_implicit_tls_limit(real_kb: KnowledgeBase) -> None:
    text = (
        "SmtpClient: Host=mail.example.net Port=465 EnableSsl=True\n"
        "System.Net.Mail.SmtpException: The operation has timed out.\n"
        "   at System.Net.Mail.SmtpClient.Send(MailMessage message)"
    )
    assert _first(real_kb, text) == ("dotnet-timeout-on-465", "tls-mode-mismatch")


def test_dotnet_timeout_elsewhere_is_a_connection_problem(real_kb: KnowledgeBase) -> None:
    text = (
        "System.Net.Mail.SmtpException: The operation has timed out.\n"
        "   at System.Net.Mail.SmtpClient.Send(MailMessage message)"
    )
    assert _first(real_kb, text)[0] != "dotnet-timeout-on-465"


def test_a_temporary_reply_in_unknown_words_gets_an_honest_answer(
    real_kb: KnowledgeBase,
) -> None:
    text = "450 4.2.1 Please come back a bit later"
    assert _first(real_kb, text) == ("generic-4xx", "rate-limited")
    # prose scanned for replies never gets a bare family
    from knowledge.explain import explain_reply

    assert explain_reply(real_kb, text) == ()


@pytest.mark.parametrize(
    ("text", "article"),
    [
        (
            "Task 'info@example.org - Sending' reported error (0x800CCC79) : 'The server "
            "rejected one or more recipient addresses.'",
            "enable-smtp-auth-in-client",
        ),
        (
            "Task 'info@example.org - Sending' reported error (0x800CCC0D) : 'Cannot locate "
            "the server. If this problem continues, contact your server administrator or "
            "Internet service provider (ISP).'",
            "cannot-connect",
        ),
        (
            "Task 'mail.example.org - Sending' reported error (0x800CCC18) : 'Logon attempt "
            "failed.'",
            "auth-method",
        ),
    ],
)
def test_outlook_error_numbers_name_their_cause(
    real_kb: KnowledgeBase, text: str, article: str
) -> None:
    """Outlook's IMN error numbers (relay refused, host not found, SPA logon failed)."""
    assert _first(real_kb, text)[1] == article


@pytest.mark.parametrize(
    ("text", "article"),
    [
        # Node prints OpenSSL's reason as a code: ERR_SSL_<REASON>
        ("Error: send failed { code: 'ERR_SSL_PACKET_LENGTH_TOO_LONG' }", "tls-mode-mismatch"),
        ("Error: send failed { code: 'ERR_SSL_UNSUPPORTED_PROTOCOL' }", "server-settings"),
        (
            "ssl.SSLError: [SSL: UNEXPECTED_EOF_WHILE_READING] (_ssl.c:1006)",
            "tls-mode-mismatch",
        ),
        # GnuTLS (msmtp, curl builds, git-send-email) reading a plain greeting
        (
            "msmtp: TLS handshake failed: An unexpected TLS packet was received.",
            "tls-mode-mismatch",
        ),
        # OkHttp / Apache HttpClient style name check
        (
            "javax.net.ssl.SSLPeerUnverifiedException: Hostname smtp.example.net not verified",
            "tls-certificate",
        ),
        # Postfix's client on 465 without smtp_tls_wrappermode
        (
            "postfix/smtp[991]: SSL_connect error to smtp.example.net[198.51.100.4]:465: "
            "lost connection",
            "tls-mode-mismatch",
        ),
        ("ssmtp: Cannot open smtp.example.net:587", "cannot-connect"),
    ],
)
def test_tls_and_connect_wordings_across_runtimes(
    real_kb: KnowledgeBase, text: str, article: str
) -> None:
    assert _first(real_kb, text)[1] == article


@pytest.mark.parametrize(
    "text",
    [
        "Job log (TASKalfa 3253ci): Send e-mail: Unable to connect to the SMTP server "
        "smtp.example.net:587",
        "Scanner (LaserJet MFP M428): The e-mail server connection failed. Check the SMTP "
        "settings.",
    ],
)
def test_a_device_that_cannot_send_points_at_scan_to_email(
    real_kb: KnowledgeBase, text: str
) -> None:
    assert _first(real_kb, text)[1] == "scan-to-email"


def test_the_same_words_from_an_app_are_not_a_device(real_kb: KnowledgeBase) -> None:
    text = "Send e-mail: Unable to connect to the SMTP server smtp.example.net:587"
    assert _first(real_kb, text)[1] != "scan-to-email"


def test_a_device_with_a_named_server_cause_keeps_that_cause(real_kb: KnowledgeBase) -> None:
    text = (
        "Scan to e-mail (imageRUNNER C3226): SMTP error 535 5.7.139 Authentication "
        "unsuccessful, SmtpClientAuthentication is disabled for the Tenant."
    )
    assert _first(real_kb, text)[1] == "m365-smtp-auth-disabled"


@pytest.mark.parametrize(
    "text",
    [
        "[2025-04-01 10:00:00] DEBUG [Xy12] C: AUTH PLAIN AHVuZGVmaW5lZAB1bmRlZmluZWQ=\n"
        "[2025-04-01 10:00:00] DEBUG [Xy12] S: 535 5.7.8 Error: authentication failed: "
        "UGFzc3dvcmQ6",
        "EMAIL_HOST_USER = None\nEMAIL_HOST_PASSWORD = None\n"
        "smtplib.SMTPAuthenticationError: (535, b'5.7.8 Error: authentication failed')",
        "mailer options: { host: 'smtp.example.net', port: 587, auth: { user: undefined, "
        "pass: undefined } }\nError: Invalid login: 535 Authentication failed",
    ],
)
def test_credentials_that_never_reached_the_library_are_an_app_setting(
    real_kb: KnowledgeBase, text: str
) -> None:
    """An empty or "undefined" login (also base64 in AUTH PLAIN) is the app's settings not
    being loaded, not a wrong password."""
    assert _first(real_kb, text) == ("credentials-not-loaded", "app-smtp-config")


def test_a_real_username_is_not_an_unloaded_setting(real_kb: KnowledgeBase) -> None:
    text = (
        "mailer options: { host: 'smtp.example.net', auth: { user: 'shop@example.net' } }\n"
        "Error: Invalid login: 535 Authentication failed"
    )
    assert _first(real_kb, text)[0] != "credentials-not-loaded"


def test_starttls_not_offered_is_first_the_mode_and_port(real_kb: KnowledgeBase) -> None:
    """Only a client that asked for STARTTLS can get this: the encryption setting does not fit
    this server and port. Which port takes which encryption comes first (21 of the 29 such
    pastes of wild.yaml and programs.yaml accept it, 13 the mode mix-up article), then the
    mode mix-up, then the server's settings and how the app's own TLS flag reads."""
    text = "smtplib.SMTPNotSupportedError: STARTTLS extension not supported by server."
    assert _first(real_kb, text) == ("starttls-not-offered", "ports-and-encryption")
    assert explain_text(real_kb, text).matches[0].articles[1:4] == (
        "tls-mode-mismatch",
        "server-settings",
        "app-smtp-config",
    )


def test_who_printed_a_tls_version_mismatch_decides_the_old_side(real_kb: KnowledgeBase) -> None:
    """An app that prints "no TLS version in common" met an old server (its settings, its
    operator); a mail server's own log that prints it met an old client, usually a device."""
    app = "ssl.SSLError: [SSL: TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert protocol version"
    assert _first(real_kb, app) == ("tls-protocol-version", "server-settings")
    log = (
        "Mar 7 17:34:34 mx postfix/submission/smtpd[7447]: warning: TLS library problem: "
        "error:1417A0C1:SSL routines:tls_post_process_client_hello:no shared cipher"
    )
    assert _first(real_kb, log) == ("tls-protocol-version-server-log", "devices-and-apps")


@pytest.mark.parametrize(
    "text",
    [
        "Traceback (most recent call last):\n"
        '  File "/usr/lib/python3.11/smtplib.py", line 530, in sendmail\n'
        "    raise SMTPDataError(code, resp)\nmailer: giving up",
        "Error: something broke\n    at SMTPConnection._formatError "
        "(/srv/app/node_modules/nodemailer/lib/smtp-connection/index.js:535:19)",
        "PHP Fatal error: Uncaught exception in /var/www/lib/SMTP.php:501",
    ],
)
def test_a_stack_trace_line_number_is_not_a_reply_code(real_kb: KnowledgeBase, text: str) -> None:
    matches = explain_text(real_kb, text).matches
    assert not any(match.reply_id.startswith("generic-5") for match in matches)


def test_a_helo_or_argument_refusal_in_unknown_words_is_the_apps_setting(
    real_kb: KnowledgeBase,
) -> None:
    text = "smtplib.SMTPHeloError: (501, b'5.5.4 Invalid domain name')"
    assert _first(real_kb, text) == ("generic-501", "app-smtp-config")


@pytest.mark.parametrize(
    "text",
    [
        'Error: Unexpected response from server: "* OK [CAPABILITY IMAP4rev1 SASL-IR '
        'LOGIN-REFERRALS ID ENABLE IDLE AUTH=PLAIN] Dovecot ready."',
        "Invalid greeting: +OK Dovecot ready. (POP3 on port 110)",
    ],
)
def test_an_imap_or_pop_greeting_means_the_smtp_port_is_an_incoming_one(
    real_kb: KnowledgeBase, text: str
) -> None:
    assert _first(real_kb, text) == ("imap-pop-greeting", "server-settings")


def test_wordpress_without_an_smtp_plugin(real_kb: KnowledgeBase) -> None:
    text = (
        "Error: The email could not be sent. Possible reason: your host may have disabled "
        "the mail() function."
    )
    assert _first(real_kb, text) == ("wordpress-mail-function", "wordpress-smtp")


def test_a_log_copied_from_a_web_page_is_read_unescaped(real_kb: KnowledgeBase) -> None:
    """HTML entities from a web page (&gt;, &#39;) must not hide the wording."""
    text = (
        "2025-05-02 08:00:01 CLIENT -&gt; SERVER: EHLO web01\n"
        "gitea: mailer: smtp: server doesn&#39;t support AUTH"
    )
    assert _first(real_kb, text) == ("auth-not-offered", "auth-not-offered")


@pytest.mark.parametrize(
    "text",
    [
        "550 5.7.1 Not authorized to send mail as shared@example.org",
        "550 5.7.1 Sending as another user is not permitted",
        "550 5.7.1 Envelope sender does not match header From",
        "553 5.7.1 Unauthorized sender address",
    ],
)
def test_send_as_refusals_in_other_words_are_sender_permissions(
    real_kb: KnowledgeBase, text: str
) -> None:
    assert _first(real_kb, text) == ("sender-send-as-refused", "sender-permissions")


def test_an_http_client_error_is_not_a_temporary_smtp_reply(real_kb: KnowledgeBase) -> None:
    """Mailers that use an HTTP API print HTTP statuses (401, 403, 404): not SMTP 4xx."""
    matches = explain_text(real_kb, "HTTP Error 404 Not Found from the mail API").matches
    assert all(match.reply_id != "generic-4xx" for match in matches)


@pytest.mark.parametrize(
    ("text", "reply_id", "article"),
    [
        (
            "smtp[26254]: warning: SASL authentication failure: GSSAPI Error: Unspecified GSS "
            "failure.  Minor code may provide more information (Credentials cache file "
            "'/tmp/krb5cc_89' not found)",
            "sasl-client-no-mechanism",
            "auth-method",
        ),
        (
            # MailKit's NotSupportedException: the server offers only mechanisms MailKit
            # does not pick by itself (NTLM, GSSAPI); AUTH is offered, unlike auth-not-offered
            "Unhandled exception. System.NotSupportedException: No compatible authentication "
            "mechanisms found.\n   at MailKit.Net.Smtp.SmtpClient.Authenticate(Encoding "
            "encoding, ICredentials credentials, CancellationToken cancellationToken)",
            "mailkit-no-usable-mechanism",
            "auth-method",
        ),
        (
            "failed to send email: dial failed: server does not support SMTP AUTH",
            "auth-not-offered",
            "auth-not-offered",
        ),
        (
            "InternalError: No SMTP server has been configured for this app",
            "app-smtp-not-configured",
            "app-smtp-config",
        ),
        (
            "ArgumentError: SMTP-AUTH requested but missing user name",
            "client-missing-credentials",
            "app-smtp-config",
        ),
    ],
)
def test_client_side_wordings_of_a_login_that_cannot_start(
    real_kb: KnowledgeBase, text: str, reply_id: str, article: str
) -> None:
    """Wordings of MailKit, Postfix's SASL client, Go mail libraries, app servers and Ruby's
    net-smtp for a login that never reaches the server's password check."""
    assert _first(real_kb, text) == (reply_id, article)


def test_a_class_named_bad_credentials_is_not_gmail(real_kb: KnowledgeBase) -> None:
    """Gmail's reply links to ``?p=BadCredentials``; RainLoop's and SnappyMail's exception
    class ``LoginBadCredentialsException`` wraps any server's 535 (here Postfix's own
    wording), which is no evidence of Gmail."""
    text = (
        "Next MailSo\\Smtp\\Exceptions\\LoginBadCredentialsException: 535 5.7.8 Error: "
        "authentication failed: authentication failure in /var/www/rainloop/app/libraries/"
        "MailSo/Smtp/SmtpClient.php:273"
    )
    assert _first(real_kb, text)[1] == "check-credentials"
    gmail = (
        "535-5.7.8 Username and Password not accepted. For more information, go to "
        "https://support.google.com/mail/?p=BadCredentials"
    )
    assert _first(real_kb, gmail) == ("gmail-bad-credentials", "app-passwords")


@pytest.mark.parametrize(
    "text",
    [
        "530 5.7.0 Must issue a STARTTLS command first\n220 2.0.0 Ready to start TLS\n"
        "535 5.7.8 Error: authentication failed: authentication failure",
        "220 mail.example.net ESMTP\n250-mail.example.net\n250 AUTH PLAIN LOGIN\n"
        "535 5.7.8 Error: authentication failed: authentication failure",
    ],
)
def test_a_success_reply_is_no_failure_of_its_subject(real_kb: KnowledgeBase, text: str) -> None:
    """ "220 2.0.0 Ready to start TLS" is TLS that worked, "250 AUTH PLAIN LOGIN" a login
    offered: neither is explained as "the encrypted connection could not be set up" or "the
    login went wrong"."""
    assert all(m.code is None or m.code >= 400 for m in explain_text(real_kb, text).matches)


def test_a_failure_swallowed_by_an_open_success_reply_still_counts(real_kb: KnowledgeBase) -> None:
    """A log line without a code after an open "250-" reply is still the paste's failure."""
    text = (
        "250-mail.example.net\n250-AUTH PLAIN LOGIN\n"
        "Connection failed: SSL operation failed, handshake error"
    )
    assert "family-tls" in [m.reply_id for m in explain_text(real_kb, text).matches]


@pytest.mark.parametrize(
    ("text", "reply_id"),
    [
        # Dovecot submission-login: the enhanced code alone says "user account disabled"
        ("525 5.7.13 Login disabled for this user", "account-disabled-code"),
        # WildDuck quotes the address it refuses
        ('550 User "alice@example.com" is currently disabled', "account-suspended"),
    ],
)
def test_a_disabled_account_is_not_a_password_problem(
    real_kb: KnowledgeBase, text: str, reply_id: str
) -> None:
    assert _first(real_kb, text) == (reply_id, "account-restricted")


def test_a_disabled_sign_in_method_is_not_a_disabled_account(real_kb: KnowledgeBase) -> None:
    """5.7.139 "SmtpClientAuthentication is disabled for the Mailbox": a switch, not the account."""
    text = (
        "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for "
        "the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information."
    )
    assert _first(real_kb, text)[1] == "m365-smtp-auth-disabled"
