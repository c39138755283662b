# ruff: noqa: E501, RUF001 - program messages are kept whole (in their languages' punctuation)
"""Explain on the messages mail programs print, as ``knowledge/eval/real/programs.yaml``
collected them from their source code (tuning material, see that folder's README).

Each case is one general rule that the programs set showed missing: a wording class,
with the program it was read from in its id, and the reply entry and first article it
must get. The set itself is checked here too: it loads like the other splits and every
item names the file its wording was read from.
"""

from __future__ import annotations

import re

import pytest
import yaml

from knowledge import KnowledgeBase
from knowledge.evaluation import REAL_FIELDS, REAL_ROOT, ItemKind, Split, load_real
from knowledge.explain import explain_reply
from tests.knowledge.conftest import first_match

PROGRAMS_FILE = REAL_ROOT / "programs.yaml"
_SOURCE = re.compile(
    r"https://(github\.com/[\w.-]+/[\w.-]+/(blob|tree)/|codeberg\.org/[\w.-]+/[\w.-]+/src/"
    r"|support\.google\.com/)\S+"
)
# a provider's own page; no issue thread, gist or forum (those are threads, not sources)
_VENDOR_PAGE = re.compile(r"https://(?!(gist\.)?github\.com/)[\w.-]+\.[a-z]{2,}/\S*")

NO_LOGIN_OFFERED = [
    pytest.param(
        "aiosmtplib.errors.SMTPException: The SMTP AUTH extension is not supported by this server. Try connecting via TLS (or STARTTLS).",
        id="aiosmtplib",
    ),
    pytest.param("*** Host did not advertise authentication", id="swaks"),
    pytest.param("* SASL: no auth mechanism was offered or recognized", id="curl"),
    pytest.param(
        "Missing server capability\n\nThe server is missing this capability:\nAUTH PLAIN",
        id="k9-mail",
    ),
    pytest.param(
        "Could not authenticate to the SMTP server because no matching authentication method has been found",
        id="kmail",
    ),
    pytest.param("503 5.3.3 AUTH not available", id="sendmail"),
    pytest.param("503 5.5.1 AUTH not allowed.", id="stalwart"),
    pytest.param("SMTP server does not support AUTH, but credentials provided", id="gitea"),
    pytest.param(
        "smtp: Failed: Server does not advertise any supported authentication methods",
        id="nullmailer",
    ),
    pytest.param(
        "smtpd[41873]: 8d3a1f0c2b4e6a57 mta error reason=AUTH not advertised", id="opensmtpd"
    ),
    pytest.param("Authentication not possible (not offered by the service)", id="zammad"),
    pytest.param("SMTP Error (): Authentication failed.", id="roundcube-no-code"),
    pytest.param("no form of authorization supported", id="emailjs"),
    pytest.param(
        "login is required, but no allowed AUTH methods available. You may need to do STARTTLS",
        id="vertx",
    ),
    pytest.param(
        "Sorry, your SMTP server does not support basic username / password authentication. (SMTP)",
        id="mailspring",
    ),
    pytest.param(
        '{:error, {:retries_exceeded, {:missing_requirement, ~c"smtp.example.com", :auth}}}',
        id="gen-smtp",
    ),
]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("failed AUTH: Command unknown: 'AUTH'", id="perl-net-smtp"),
        pytest.param("SMTP authentication failed: 500, Command unknown: 'AUTH'!", id="znuny"),
        pytest.param(
            "AUTH command not recognized or not implemented, SMTP server may not require authentication.",
            id="cakephp",
        ),
        pytest.param(
            "Unable to initiate AUTH command. Your server might not be configured to use AUTH LOGIN authentication method.",
            id="codeigniter",
        ),
        pytest.param("502 5.5.1 AUTH not supported", id="mailu"),
    ],
)
def test_the_auth_command_itself_refused(real_kb: KnowledgeBase, text: str) -> None:
    assert first_match(real_kb, text) == ("auth-command-unrecognized", "auth-not-offered")


@pytest.mark.parametrize(
    ("text", "reply_id", "article"),
    [
        pytest.param(
            'Error: SMTP authorization method "cram-md5" is not supported in codeigniter, set either "login" or "plain" authorization method',
            "sasl-client-no-mechanism",
            "auth-method",
            id="codeigniter-mechanism",
        ),
        pytest.param(
            "Mail Error on determining auth type, GSSAPI NTLM is not supported",
            "sasl-client-no-mechanism",
            "auth-method",
            id="go-simple-mail",
        ),
        pytest.param(
            "The server does no support any of the available authentication methods",
            "sasl-client-no-mechanism",
            "auth-method",
            id="mail-send",
        ),
        pytest.param(
            "SMTP authentication requires SASL",
            "sasl-client-no-mechanism",
            "auth-method",
            id="mutt-sasl",
        ),
        pytest.param(
            "STARTTLS required but not supported by server",
            "starttls-not-offered",
            "ports-and-encryption",
            id="vertx-starttls",
        ),
        pytest.param(
            "team-mails/email[0]: notify retry canceled after 7 attempts: 'require_tls' is true (default) but \"smtp.example.com:25\" does not advertise the STARTTLS extension",
            "starttls-not-offered",
            "ports-and-encryption",
            id="alertmanager",
        ),
        pytest.param(
            "SMTP authentication method not allowed, check if SMTP server requires TLS.",
            "tls-required-generic",
            "starttls-required",
            id="cakephp-tls",
        ),
        pytest.param(
            "550 smtp auth requried", "auth-required", "enable-smtp-auth-in-client", id="vestacp"
        ),
        pytest.param(
            "550 You are not allowed to relay",
            "relaying-denied",
            "enable-smtp-auth-in-client",
            id="haraka-relay",
        ),
        pytest.param(
            "Failure sending mail: The server rejected the sender address. The server response was: 454 5.7.3 Client does not have permission to submit mail to this server",
            "relaying-denied",
            "enable-smtp-auth-in-client",
            id="ssrs-cdo",
        ),
        pytest.param(
            "503 from and auth not the same (#5.5.1)",
            "sender-not-owned-by-user",
            "sender-permissions",
            id="qmail-sender",
        ),
        pytest.param(
            "You (alice) have reached your daily email limit of 1000 emails",
            "sending-limit-reached",
            "rate-limited",
            id="directadmin-limit",
        ),
        pytest.param(
            "timedout while connecting to smtp server",
            "connection-timed-out",
            "cannot-connect",
            id="emailjs-timeout",
        ),
        pytest.param(
            "unable to establish SMTP connection to (smtp.example.com) port 587",
            "app-cannot-reach-server",
            "cannot-connect",
            id="email-sender",
        ),
        pytest.param(
            "Can't connect to server\nCan't connect to host \"ssl://smtp.example.com:465\"",
            "app-cannot-reach-server",
            "cannot-connect",
            id="snappymail",
        ),
        pytest.param(
            "Could not find your mail server.\n\nPlease check your internet connection.",
            "dns-name-not-found",
            "cannot-connect",
            id="delta-chat",
        ),
        pytest.param(
            "Could not get mail server response codes.",
            "greeting-never-received",
            "tls-mode-mismatch",
            id="phpbb",
        ),
        pytest.param(
            "CMailFile::sendfile: mail end error with smtps lib to HOST=tls://smtp.example.com, PORT=587 - Error [130]: Invalid Authentication Credentials.",
            "credentials-invalid-generic",
            "check-credentials",
            id="dolibarr",
        ),
        pytest.param(
            "mutt_account_getoauthbearer: No OAUTH refresh command defined",
            "oauth-grant-invalid",
            "oauth-token-errors",
            id="mutt-oauth",
        ),
        pytest.param(
            "Missing SMTP Server\nPlease define at least one SMTP server, or provide the SMTP parameters explicitly.",
            "app-smtp-not-configured",
            "app-smtp-config",
            id="odoo-no-server",
        ),
    ],
)
def test_program_wordings_of_more_libraries_servers_and_apps(
    real_kb: KnowledgeBase, text: str, reply_id: str, article: str
) -> None:
    assert first_match(real_kb, text) == (reply_id, article)


@pytest.mark.parametrize(
    ("text", "reply_id"),
    [
        pytest.param(
            "smtp.example.com に接続できなかった (接続を拒否されました)。",
            "localized-network-errors",
            id="neomutt-ja",
        ),
        pytest.param(
            "Połączenie z smtp.example.com (Połączenie odrzucone) nie zostało ustanowione",
            "localized-network-errors",
            id="neomutt-pl",
        ),
        pytest.param(
            "Kan niet verbinden met smtp.example.com (Verbinding is verlopen)",
            "family-connect-localized",
            id="neomutt-nl",
        ),
        pytest.param(
            "msmtp: no se puede localizar al host smtp.example.com: Nombre o servicio desconocido",
            "dns-name-not-found",
            id="msmtp-es",
        ),
        pytest.param(
            "msmtp: 无法定位主机 smtp.example.com：域名解析出现暂时性错误",
            "family-connect-localized",
            id="msmtp-zh",
        ),
    ],
)
def test_connect_failures_in_other_languages(
    real_kb: KnowledgeBase, text: str, reply_id: str
) -> None:
    assert first_match(real_kb, text) == (reply_id, "cannot-connect")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "无法向发件服务器（SMTP） smtp.example.com 进行认证。请检查密码和验证“账号设置 | 服务器设置”中的“认证方式”。",
            id="thunderbird-zh",
        ),
        pytest.param(
            "El inicio de sesión en el servidor smtp.example.com con el nombre de usuario alice@example.com ha fallado.",
            id="thunderbird-es",
        ),
        pytest.param("خطأ SMTP : لا يمكن تأكيد الهوية.", id="phpmailer-ar"),
    ],
)
def test_login_failures_in_other_languages(real_kb: KnowledgeBase, text: str) -> None:
    assert first_match(real_kb, text)[1] == "check-credentials"


@pytest.mark.parametrize(
    ("text", "reply_id", "article"),
    [
        pytest.param(
            "Falta capacidad en el servidor\n\nAl servidor le falta esta capacidad: \nAUTH PLAIN",
            "auth-not-offered",
            "auth-not-offered",
            id="k9-es",
        ),
        pytest.param(
            "Es kann nicht am SMTP-Server authentifiziert werden, da keine passende Authentifizierungsmethode gefunden wurde.",
            "sasl-client-no-mechanism",
            "auth-method",
            id="kmail-de",
        ),
        pytest.param(
            "Le serveur SMTP smtp.example.com ne prend pas en charge l’authentification PLAIN",
            "mechanism-not-supported",
            "auth-method",
            id="evolution-fr",
        ),
        pytest.param("Token expirado", "oauth-grant-invalid", "oauth-token-errors", id="kmail-es"),
        pytest.param(
            "curl: (35) schannel: next InitializeSecurityContext failed: SEC_E_INVALID_TOKEN (0x80090308) - The token supplied to the function is invalid",
            "tls-wrong-version",
            "tls-mode-mismatch",
            id="curl-schannel",
        ),
    ],
)
def test_more_translated_and_runtime_wordings(
    real_kb: KnowledgeBase, text: str, reply_id: str, article: str
) -> None:
    assert first_match(real_kb, text) == (reply_id, article)


def test_roundcube_empty_code_in_french_is_no_login_offered(real_kb: KnowledgeBase) -> None:
    text = "Erreur SMTP () : échec d’authentification."
    assert first_match(real_kb, text) == ("auth-not-offered", "auth-not-offered")


def test_username_and_password_not_accepted_is_gmail_only_on_evidence(
    real_kb: KnowledgeBase,
) -> None:
    """Google's wording, but nodemailer's smtp-server (WildDuck, ZoneMTA) answers with it too:
    without a Google host, link or enhanced code it is a refused login, not Gmail."""
    plain = "Invalid login: 535 Error: Username and Password not accepted"
    assert first_match(real_kb, plain)[1] == "check-credentials"
    google = "535-5.7.8 Username and Password not accepted. Learn more at\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials - gsmtp"
    assert first_match(real_kb, google) == ("gmail-bad-credentials", "app-passwords")


@pytest.mark.parametrize("text", NO_LOGIN_OFFERED)
def test_no_login_offered(real_kb: KnowledgeBase, text: str) -> None:
    assert first_match(real_kb, text) == ("auth-not-offered", "auth-not-offered")


@pytest.mark.parametrize(
    ("text", "reply_id", "article"),
    [
        pytest.param(
            "SMTP server smtp.example.com does not support PLAIN authentication",
            "mechanism-not-supported",
            "auth-method",
            id="evolution-mechanism",
        ),
        pytest.param(
            "aiosmtplib.errors.SMTPException: oauth_token_generator provided but server does not support XOAUTH2",
            "mechanism-not-supported",
            "auth-method",
            id="aiosmtplib-xoauth2",
        ),
        pytest.param(
            "503 5.5.1 Invalid command: Command not supported",
            "auth-command-unrecognized",
            "auth-not-offered",
            id="opensmtpd-503",
        ),
        pytest.param(
            # the 502 answers STARTTLS, not AUTH
            "Error upgrading connection with STARTTLS: 502 5.5.1 Unrecognized command",
            "starttls-not-offered",
            "ports-and-encryption",
            id="nodemailer-starttls-refused",
        ),
        pytest.param(
            "System.NotSupportedException: The SMTP server does not support the STARTTLS extension.",
            "starttls-not-offered",
            "ports-and-encryption",
            id="mailkit-no-starttls",
        ),
        pytest.param(
            "Server does not support secure connections.",
            "starttls-not-offered",
            "ports-and-encryption",
            id="dotnet-no-starttls",
        ),
        pytest.param(
            "aiosmtplib.errors.SMTPConnectTimeoutError: Timed out waiting for server ready message",
            "greeting-never-received",
            "tls-mode-mismatch",
            id="aiosmtplib-no-greeting",
        ),
        pytest.param(
            "523 5.7.10 Cleartext authentication disallowed on non-secure (SSL/TLS) connections.",
            "encryption-required-for-mechanism",
            "starttls-required",
            id="dovecot-cleartext",
        ),
        pytest.param(
            "530 A SSL/TLS-connection is required for authentication.",
            "tls-required-generic",
            "starttls-required",
            id="hmailserver-tls",
        ),
        pytest.param(
            "msmtp: cannot use a secure authentication method",
            "tls-required-generic",
            "starttls-required",
            id="msmtp-no-tls",
        ),
        pytest.param(
            "334 5.7.8 Missing TOTP token, try with 'secret$totp_code'.",
            "app-password-demanded",
            "app-passwords",
            id="stalwart-totp",
        ),
        pytest.param(
            'Could not find the host "smtp.example.com"',
            "dns-name-not-found",
            "cannot-connect",
            id="neomutt-host",
        ),
        pytest.param(
            "SMTP server not found or refused connection (smtp.example.com:587). Please check the IP address, hostname, and availability of your SMTP server",
            "dns-name-not-found",
            "cannot-connect",
            id="home-assistant",
        ),
        pytest.param(
            "The identity of the smtp mail server at smtp.example.com:465 could not be verified.",
            "tls-cert-untrusted",
            "tls-certificate",
            id="geary-certificate",
        ),
        pytest.param(
            "MailKit.Security.SslHandshakeException: An error occurred while attempting to establish an SSL or TLS connection.\n\nThe host name (smtp.example.com) did not match the name given in the server's SSL certificate (*.webhost-mail.net).",
            "tls-cert-name-mismatch-runtimes",
            "tls-certificate",
            id="mailkit-name-mismatch",
        ),
        pytest.param(
            "ValueError: The start_tls and use_tls options are not compatible.",
            "app-mail-config-invalid",
            "app-smtp-config",
            id="aiosmtplib-options",
        ),
        pytest.param(
            "AssertionError: The message does not specify a sender and a default sender has not been configured",
            "app-mail-config-invalid",
            "app-smtp-config",
            id="flask-mail-sender",
        ),
        pytest.param(
            "SMTP ERROR: Failed to connect to server:  (0)",
            "phpmailer-connect-failed-tls",
            "tls-mode-mismatch",
            id="phpmailer-code-0",
        ),
        pytest.param(
            "org.apache.commons.mail2.core.EmailException: Sending the email to the following server failed : smtp.example.com:465",
            "commons-email-send-failed",
            "server-settings",
            id="commons-email",
        ),
        pytest.param(
            "SMTP Error: Could not authenticate.",
            "phpmailer-could-not-authenticate",
            "check-credentials",  # PHPMailer is in many PHP apps, not only WordPress
            id="phpmailer-auth",
        ),
        pytest.param(
            "SMTP 错误：登录失败。",
            "localized-could-not-authenticate",
            "check-credentials",
            id="phpmailer-auth-zh",
        ),
    ],
)
def test_program_wordings(real_kb: KnowledgeBase, text: str, reply_id: str, article: str) -> None:
    assert first_match(real_kb, text) == (reply_id, article)


@pytest.mark.parametrize(
    ("text", "reply_id", "article"),
    [
        pytest.param(
            'error="failed to dial connection: SMTP AUTH failed: unsupported SMTP AUTH types: GSSAPI, NTLM"',
            "sasl-client-no-mechanism",
            "auth-method",
            id="go-mail-mechanisms",
        ),
        pytest.param(
            "== bob@example.org R=smarthost T=remote_smtp_smarthost defer (-42): authentication required but no common mechanisms were found",
            "sasl-client-no-mechanism",
            "auth-method",
            id="exim-mechanisms",
        ),
        pytest.param(
            # the client insists on TLS and the server has none: not the server insisting
            "status=deferred (TLS is required, but was not offered by host smtp.example.com[203.0.113.10])",
            "starttls-not-offered",
            "ports-and-encryption",
            id="postfix-client-tls-required",
        ),
        pytest.param(
            "smtpd[41873]: 8d3a1f0c2b4e6a57 mta error reason=TLS required but not supported by remote host",
            "starttls-not-offered",
            "ports-and-encryption",
            id="opensmtpd-client-tls-required",
        ),
        pytest.param(
            "dma[1a2b3.4c5d6e]: remote delivery deferred: STARTTLS not available: 502 5.5.1 Unrecognized command",
            "starttls-not-offered",
            "ports-and-encryption",
            id="dma-starttls-refused",
        ),
        pytest.param(
            'postfix/smtp[4410]: SMTPS wrappermode (TCP port 465) requires setting "smtp_tls_wrappermode = yes", and "smtp_tls_security_level = encrypt" (or stronger)',
            "postfix-wrappermode",
            "tls-mode-mismatch",
            id="postfix-465",
        ),
        pytest.param(
            "Timeout was reached: Operation timed out after 10001 milliseconds with 0 bytes received",
            "greeting-never-received",
            "tls-mode-mismatch",
            id="curl-no-greeting",
        ),
        pytest.param(
            "Couldn't resolve host name: Could not resolve host: smtp.example.com",
            "dns-name-not-found",
            "cannot-connect",
            id="curl-dns",
        ),
        pytest.param(
            "Support for SMTP authentication was not compiled in",
            "app-mail-config-invalid",
            "app-smtp-config",
            id="zabbix-build",
        ),
        pytest.param(
            "smtpd[41873]: 8d3a1f0c2b4e6a57 mta error reason=Refuse to AUTH over insecure channel",
            "client-refuses-plain-login",
            "app-smtp-config",
            id="opensmtpd-plain-login",
        ),
        pytest.param(
            "Authentication requires either TLS or SSL to be enabled",
            "client-refuses-plain-login",
            "app-smtp-config",
            id="jenkins-plain-login",
        ),
        pytest.param(
            "Notification email failed:TLS might be required!",
            "tls-required-generic",
            "starttls-required",
            id="motioneye-tls",
        ),
        pytest.param(
            "Error when attempting to send the email to the server. More information is available in the server log.",
            "keycloak-send-failed",
            "server-settings",
            id="keycloak",
        ),
        pytest.param(
            'cannot connect to SMTP server "smtp.example.com": cannot connect to [[smtp.example.com]:587]: [111] Connection refused',
            "connection-refused",
            "cannot-connect",
            id="zabbix-not-a-printer",
        ),
        pytest.param(
            "Could not open socket", "app-cannot-reach-server", "cannot-connect", id="post-smtp"
        ),
        pytest.param(
            "Server port 587 is closed. Did you specify the correct :port number?",
            "app-cannot-reach-server",
            "cannot-connect",
            id="moodle-port",
        ),
        pytest.param(
            "DNS lookup failed. Ensure that 'smtp.example.com' resolves to the address of a mail server.",
            "dns-name-not-found",
            "cannot-connect",
            id="moodle-dns",
        ),
        pytest.param(
            "No access token found in token-response for SMTP",
            "oauth-grant-invalid",
            "oauth-token-errors",
            id="keycloak-token",
        ),
        pytest.param(
            "454 4.7.0 invalid username or password",
            "credentials-invalid-generic",
            "check-credentials",
            id="proton-bridge-454",
        ),
        pytest.param(
            "554 5.0.0 Error: transaction failed, blame it on the weather: too many failed requests, please try again later",
            "sending-limit-reached",
            "rate-limited",
            id="proton-bridge-rate",
        ),
        pytest.param(
            "554 5.0.0 Error: transaction failed, blame it on the weather: cannot send from address: bob@example.com",
            "sender-address-refused",
            "sender-permissions",
            id="proton-bridge-sender",
        ),
        pytest.param(
            "451 Authentication failed: Maximum credits exceeded",
            "sending-limit-reached",
            "rate-limited",
            id="sendgrid-credits",
        ),
        pytest.param(
            "535 Authentication failed: Basic authentication is not allowed with 2FA enabled",
            "sendgrid-bad-credentials",
            "relay-service",
            id="sendgrid-2fa",
        ),
        pytest.param(
            "550 5.7.64 TenantAttribution; Relay Access Denied",
            "m365-tenant-attribution",
            "scan-to-email",
            id="m365-connector",
        ),
    ],
)
def test_program_wordings_of_apps_services_and_mailers(
    real_kb: KnowledgeBase, text: str, reply_id: str, article: str
) -> None:
    assert first_match(real_kb, text) == (reply_id, article)


def test_a_network_error_with_a_code_is_not_the_tls_case(real_kb: KnowledgeBase) -> None:
    """PHPMailer's "(0)" is PHP reporting no network error at all; with errno 110 the
    connection itself timed out."""
    text = "SMTP ERROR: Failed to connect to server: Connection timed out (110)"
    assert first_match(real_kb, text)[0] != "phpmailer-connect-failed-tls"


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "550 Envelope domain 'example.org' doesn't match AUTH domain 'example.com'",
            id="haraka",
        ),
        pytest.param("553 5.7.0 Unauthorized use of sender address", id="maddy"),
        pytest.param("501 5.5.4 You are not allowed to send from this address.", id="stalwart"),
        pytest.param("530 From/Sender name is not valid", id="postal"),
    ],
)
def test_sender_not_owned_by_the_login(real_kb: KnowledgeBase, text: str) -> None:
    reply_id, article = first_match(real_kb, text)
    assert reply_id in {"sender-address-refused", "sender-not-owned-by-user"}
    assert article == "sender-permissions"


@pytest.mark.parametrize(
    ("text", "reply_id"),
    [
        pytest.param("550 Authentication required", "auth-required", id="haraka"),
        pytest.param("502 5.7.0 Please authenticate first", "auth-required", id="go-smtp"),
        pytest.param(
            "Unauthenticated senders are not allowed.", "auth-required", id="wp-mail-smtp"
        ),
        pytest.param("550 5.1.2 Relay not allowed.", "relaying-denied", id="stalwart-relay"),
    ],
)
def test_not_logged_in(real_kb: KnowledgeBase, text: str, reply_id: str) -> None:
    assert first_match(real_kb, text) == (reply_id, "enable-smtp-auth-in-client")


def test_swiftmailer_xoauth2_retry_is_no_oauth_evidence(real_kb: KnowledgeBase) -> None:
    """SwiftMailer, like Symfony Mailer, tries XOAUTH2 last with the same password; it does
    not quote the authenticator names."""
    text = (
        'Failed to authenticate on SMTP server with username "alice@example.com" using 3 possible '
        'authenticators. Authenticator LOGIN returned Expected response code 235 but got code "535", '
        'with message "535-5.7.8 Username and Password not accepted. Learn more at\n'
        "535 5.7.8  https://support.google.com/mail/?p=BadCredentials q5sm1234567wrx.12 - gsmtp\n"
        '". Authenticator PLAIN returned Expected response code 235 but got code "535", with message '
        '"535 5.7.8 Username and Password not accepted. gsmtp". Authenticator XOAUTH2 returned '
        'Expected response code 250 but got code "535", with message "535-5.7.8 Username and '
        'Password not accepted. gsmtp".'
    )
    assert first_match(real_kb, text) == ("gmail-bad-credentials", "app-passwords")


APP_SEND_FAILED = [
    pytest.param(
        "Unable to send email. Contact the site administrator if the problem persists.", id="drupal"
    ),
    pytest.param("Transport error: Unable to send mail at this time.", id="magento"),
    pytest.param(
        "Error occurred sending email. Please check your mail server logs for more details.",
        id="app-test-mail",
    ),
    pytest.param("Email could not be sent. Check your mail server log", id="nextcloud"),
    pytest.param("Failed to send email, please check your email configuration.", id="halo"),
]


@pytest.mark.parametrize("text", APP_SEND_FAILED)
def test_an_apps_bare_send_failure_says_where_the_reason_is(
    real_kb: KnowledgeBase, text: str
) -> None:
    """The app hides the server's reply: an honest answer (find the reply in its log, the
    usual causes) instead of "nothing recognised"."""
    assert first_match(real_kb, text) == ("family-send-failed", "server-settings")


def test_a_bare_send_failure_never_outranks_the_reason_after_it(real_kb: KnowledgeBase) -> None:
    text = (
        "Failed to send email: Invalid login: 535-5.7.8 Username and Password not accepted. gsmtp"
    )
    assert first_match(real_kb, text)[0] != "family-send-failed"
    unencrypted = "gomail: could not send email 1: Auth: unencrypted connection"
    assert first_match(real_kb, unencrypted)[0] != "family-send-failed"


def test_a_question_saying_mail_cannot_be_sent_is_no_pasted_error(real_kb: KnowledgeBase) -> None:
    from knowledge.explain import explain_reply

    assert explain_reply(real_kb, "why am I unable to send email from my phone?") == ()


def test_an_apps_outbound_smtp_check_that_finds_it_blocked_is_the_host(
    real_kb: KnowledgeBase,
) -> None:
    text = (
        "Something is blocking connectivity of outbound SMTP connections. Is there a firewall "
        "blocking your connection to the mail server?"
    )
    assert first_match(real_kb, text) == ("hosting-smtp-restricted", "hosting-blocks-smtp")


def test_thunderbirds_no_common_cipher_is_a_tls_version_gap(real_kb: KnowledgeBase) -> None:
    """NSS's SSL_ERROR_NO_CYPHER_OVERLAP as Thunderbird words it, no error name in it."""
    text = (
        "Cannot communicate securely with peer: no common encryption algorithm(s).\n"
        "The configuration related to smtp.example.com must be corrected."
    )
    assert first_match(real_kb, text)[0] == "tls-protocol-version"


TLS_VERSION_REFUSED = [
    pytest.param(
        "javax.net.ssl.SSLHandshakeException: The server selected protocol version TLS10 is not accepted by client preferences [TLS13, TLS12]",
        id="java-jsse",
    ),
    pytest.param(
        "System.Security.Authentication.AuthenticationException: Authentication failed because the remote party sent a TLS alert: 'ProtocolVersion'.",
        id="dotnet-sslstream",
    ),
    pytest.param("tls: server selected unsupported protocol version 301", id="go-crypto-tls"),
    pytest.param(
        "Error: write EPROTO 80F8C6E2F17F0000:error:0A000102:SSL routines:ssl_choose_client_version:unsupported protocol:../deps/openssl/openssl/ssl/statem/statem_lib.c:1985:",
        id="node-openssl3-eproto",
    ),
]


@pytest.mark.parametrize("text", TLS_VERSION_REFUSED)
def test_a_refused_tls_version_is_a_version_gap_in_every_runtime(
    real_kb: KnowledgeBase, text: str
) -> None:
    """Node's EPROTO wrapper says only "protocol error": the OpenSSL reason after it
    decides, so a version gap is not read as the 465/587 mode mix-up."""
    assert first_match(real_kb, text) == ("tls-protocol-version", "server-settings")


TLS_HANDSHAKE_ALERT = [
    pytest.param(
        "ssl.SSLError: [SSL: SSLV3_ALERT_HANDSHAKE_FAILURE] sslv3 alert handshake failure (_ssl.c:1006)",
        id="python-ssl",
    ),
    pytest.param(
        "Error: 40F8C6E2F17F0000:error:0A000410:SSL routines:ssl3_read_bytes:ssl/tls alert handshake failure:../deps/openssl/openssl/ssl/record/rec_layer_s3.c:918:SSL alert number 40",
        id="node",
    ),
    pytest.param(
        "javax.mail.MessagingException: Could not convert socket to TLS;\n  nested exception is:\n\tjavax.net.ssl.SSLHandshakeException: Received fatal alert: handshake_failure",
        id="javamail",
    ),
    pytest.param("dial failed: remote error: tls: handshake failure", id="go-mail"),
    pytest.param(
        "gnutls_handshake: A TLS fatal alert has been received.(Handshake failed)", id="neomutt"
    ),
]


@pytest.mark.parametrize("text", TLS_HANDSHAKE_ALERT)
def test_a_handshake_alert_is_the_servers_tls_settings_not_the_port_mode(
    real_kb: KnowledgeBase, text: str
) -> None:
    """An alert is the server speaking TLS and refusing: no version or cipher in common.
    A port in the other mode fails with "wrong version number" instead."""
    assert first_match(real_kb, text) == ("tls-handshake-alert", "server-settings")


def test_a_handshake_that_merely_failed_still_suspects_the_port_mode(
    real_kb: KnowledgeBase,
) -> None:
    text = "MailKit.Security.SslHandshakeException: An error occurred while attempting to establish an SSL or TLS connection."
    assert first_match(real_kb, text) == ("tls-handshake-failure", "tls-mode-mismatch")


FIFTH_ROUND = [
    # (text, reply entry, first article): one general rule each, the program in the id
    pytest.param(
        "AssertionError: no auth method",
        "auth-not-offered-apps",
        "auth-not-offered",
        id="micropython-umail",
    ),
    pytest.param(
        "SMTP auth() command not supported on smtp.gmail.com",
        "auth-not-offered-apps",
        "auth-not-offered",
        id="sendemail",
    ),
    pytest.param(
        "The preferred authorization methods could not be found on smtp.example.com, or your server is sending back a STARTTLS command and requires a connection upgrade.",
        "auth-not-offered-apps",
        "auth-not-offered",
        id="swift-smtp",
    ),
    pytest.param(
        "SMTP server does not offer a supported authentication mechanism, only: GSSAPI, NTLM.",
        "mechanism-not-supported",
        "auth-method",
        id="claws-mail",
    ),
    pytest.param(
        "Server requires authentication.",
        "auth-required",
        "enable-smtp-auth-in-client",
        id="trojita",
    ),
    pytest.param(
        "550 5.5.0 Authentification requise. Authentication Required. LPN105_402",
        "auth-required",
        "enable-smtp-auth-in-client",
        id="la-poste",
    ),
    pytest.param(
        "El servidor denegó la autentificación.",
        "localized-could-not-authenticate",
        "check-credentials",
        id="sylpheed-es",
    ),
    pytest.param(
        "Timed out while waiting for greeting (try ssl).",
        "greeting-never-received",
        "tls-mode-mismatch",
        id="alpine",
    ),
    pytest.param(
        "Could not send the message to alice@example.com -- Error: Failed to connect to smtp.example.com:465 [SMTP: Invalid response code received from server (code: -1, response: )]",
        "greeting-never-received",
        "tls-mode-mismatch",
        id="pfsense-net-smtp",
    ),
    pytest.param(
        "Aborting because connection is not secure",
        "tls-required-generic",
        "starttls-required",
        id="mailsend-go",
    ),
    pytest.param(
        "SMTP authentication OAUTHBEARER needs TLS (*smtp-use-starttls* set?)",
        "tls-required-generic",
        "starttls-required",
        id="s-nail",
    ),
    pytest.param(
        "Mail: Delivery failed -- no mail server is available",
        "app-cannot-reach-server",
        "cannot-connect",
        id="monit",
    ),
    pytest.param(
        "could not contact with the SMTP server, check the port, firewall issues... (EMAIL-skwos)",
        "app-cannot-reach-server",
        "cannot-connect",
        id="zitadel",
    ),
    pytest.param(
        "无法与 SMTP 服务器联系，请检查端口、防火墙问题... (EMAIL-skwos)",
        "app-cannot-reach-server",
        "cannot-connect",
        id="zitadel-zh",
    ),
    pytest.param(
        "Notification email failed:check SMTP port!",
        "app-cannot-reach-server",
        "cannot-connect",
        id="motioneye",
    ),
    pytest.param(
        "Mail: STARTTLS required but the mail server doesn't support it",
        "starttls-not-offered",
        "ports-and-encryption",
        id="monit-starttls",
    ),
    pytest.param(
        "Verbinden mit dem SMTP-Server Firma (mail.example.com:25) ist fehlgeschlagen: Der entfernte Server unterstützt STARTTLS nicht",
        "starttls-not-offered",
        "ports-and-encryption",
        id="balsa-de",
    ),
    pytest.param(
        "could not set sender (EMAIL-s3is3)",
        "sender-address-refused",
        "sender-permissions",
        id="zitadel-sender",
    ),
    pytest.param(
        "All recipient addresses were refused.",
        "recipients-refused",
        "enable-smtp-auth-in-client",
        id="rocket-chat",
    ),
    pytest.param(
        "SMTP DATA error (554 5.5.1 Error: no valid recipients)",
        "recipients-refused",
        "enable-smtp-auth-in-client",
        id="proxmox",
    ),
    pytest.param(
        "SMTP is not configured [error-email-send-failed]",
        "app-smtp-not-configured",
        "app-smtp-config",
        id="plane",
    ),
    pytest.param(
        "Environment configuration is invalid, please check the following: - SMTP_HOST cannot be used with SMTP_SERVICE.",
        "app-smtp-not-configured",
        "app-smtp-config",
        id="outline",
    ),
    pytest.param(
        "The SMTP server is currently busy, try again later.",
        "sending-limit-reached",
        "rate-limited",
        id="zitadel-busy",
    ),
    pytest.param(
        "535 5.7.0 Monthly messages limit reached",
        "sending-limit-reached",
        "rate-limited",
        id="mailtrap",
    ),
    pytest.param(
        'Error Domain=MCOErrorDomain Code=45 "User is over the limit for messages allowed to be sent in a single day"',
        "sending-limit-reached",
        "rate-limited",
        id="mailcore2",
    ),
    pytest.param(
        "SMTP server disconnected unexpectedly.",
        "connection-lost",
        "tls-mode-mismatch",
        id="redash",
    ),
    pytest.param(
        "550 Ip frequency limited [Blocked IP 192.0.2.10]. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000725",
        "rate-frequency-limited",
        "rate-limited",
        id="qq-frequency",
    ),
    pytest.param(
        'Your Gmail OAuth configuration was discarded due to a token refresh error. Please go to the system email configuration and click the "Log In to Gmail" button again.',
        "oauth-grant-invalid",
        "oauth-token-errors",
        id="truenas-oauth",
    ),
    pytest.param(
        "550 alice@example.com Blank From: addresses are not allowed. Provide a valid From. IB501",
        "from-header-invalid",
        "app-smtp-config",
        id="godaddy-from",
    ),
    pytest.param(
        "(551, b'5.7.1 Multiple addresses in a From header is not allowed')",
        "from-header-invalid",
        "app-smtp-config",
        id="from-several",
    ),
    pytest.param(
        "554 5.7.1 Your message was rejected due to example.com's DMARC policy. See https://support.apple.com/en-us/HT204137 for info",
        "dmarc-rejected",
        "sender-permissions",
        id="icloud-dmarc",
    ),
    pytest.param(
        "Need MIME::Base64 and Authen::SASL todo auth at /usr/libexec/git-core/git-send-email line 1828.",
        "perl-sasl-missing",
        "app-smtp-config",
        id="git-send-email",
    ),
    pytest.param(
        "! E: library or device time was not set, see examples/SMTP/Set_Time.ino for manually time setting",
        "device-clock-not-set",
        "tls-certificate",
        id="esp-mail-client",
    ),
    pytest.param(
        "Only plain text characters (7-bit ASCII) are allowed in passwords. UTF or composed characters are not allowed.",
        "password-not-ascii",
        "app-smtp-config",
        id="truenas-password",
    ),
    pytest.param(
        "Error trying to send email: Invalid login: 535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully. Contact your administrator.",
        "m365-conditional-access",
        "m365-smtp-auth-disabled",
        id="immich-m365",
    ),
]


SIXTH_ROUND = [
    # localized runtime errors as mail programs pass them on (glibc, Qt, GIO)
    pytest.param(
        "msmtp: impossible de résoudre le nom d'hôte smtp.example.com : Nom ou service inconnu",
        "dns-name-not-found",
        "cannot-connect",
        id="msmtp-fr",
    ),
    pytest.param(
        "Impossible de se connecter à smtp.example.com (Le réseau n'est pas accessible)",
        "network-unreachable",
        "cannot-connect",
        id="neomutt-fr",
    ),
    pytest.param(
        "Spojení s smtp.example.com nelze navázat (Spojení odmítnuto)",
        "localized-network-errors",
        "cannot-connect",
        id="neomutt-cs",
    ),
    pytest.param(
        "Tijdslimiet voor verbinding overschreden",
        "connection-timed-out",
        "cannot-connect",
        id="kmail-nl",
    ),
    pytest.param(
        "Nazwa hosta nie odpowiadała żadnemu z poprawnych hostów dla tego certyfikatu",
        "family-certificate-localized",
        "tls-certificate",
        id="kmail-pl-cert",
    ),
    pytest.param(
        "Αποτυχία σύνδεσης SMTP. https://github.com/PHPMailer/PHPMailer/wiki/Troubleshooting",
        "localized-connect-failed",
        "cannot-connect",
        id="phpmailer-el",
    ),
    pytest.param(
        "SMTP Connect() misslyckades. https://github.com/PHPMailer/PHPMailer/wiki/Troubleshooting",
        "phpmailer-connect-failed",
        "cannot-connect",
        id="phpmailer-sv",
    ),
    # Thunderbird's, K-9's and Roundcube's login and method messages in more languages
    pytest.param(
        "Ошибка входа на сервер «smtp.example.com» с именем пользователя «alice@example.com».",
        "thunderbird-auth-failure-localized",
        "client-thunderbird",
        id="thunderbird-ru",
    ),
    pytest.param(
        "Kan inte autentisera till utgående server (SMTP) smtp.example.com. Kontrollera lösenordet.",
        "thunderbird-auth-failure-localized",
        "client-thunderbird",
        id="thunderbird-sv",
    ),
    pytest.param(
        "Serwer „smtp.example.com” poczty wychodzącej (SMTP) nie obsługuje wybranej metody uwierzytelniania.",
        "auth-method-localized",
        "auth-method",
        id="thunderbird-pl-method",
    ),
    pytest.param(
        "缺少服务器功能 服务器缺少此功能： AUTH CRAM-MD5",
        "auth-method-localized",
        "auth-method",
        id="k9-zh",
    ),
    pytest.param(
        "E-Mail-Versand fehlgeschlagen: Ungültige Zugangsdaten.",
        "localized-could-not-authenticate",
        "check-credentials",
        id="espocrm-de",
    ),
    # servers' replies
    pytest.param(
        "503 5.5.1 authentication only allowed on submission ports (kVJ0QXi3RCm3LzRj6iS8Dg)",
        "auth-not-offered-apps",
        "auth-not-offered",
        id="mox-submission",
    ),
    pytest.param(
        "503 AUTH not defined for HELO",
        "auth-not-offered-apps",
        "auth-not-offered",
        id="qpsmtpd-helo",
    ),
    pytest.param(
        "550 5.7.1 message from address must belong to authenticated user",
        "sender-login-mismatch",
        "sender-permissions",
        id="mox-from",
    ),
    pytest.param(
        "502 5.7.0 TLS not available.",
        "starttls-not-offered",
        "ports-and-encryption",
        id="mailpit-tls",
    ),
    pytest.param(
        "500 Unsupported AUTH method: CRAM-MD5",
        "mechanism-not-supported",
        "auth-method",
        id="inbucket-auth",
    ),
    pytest.param(
        "503 5.7.10 You feel vulnerable",
        "encryption-required-for-mechanism",
        "starttls-required",
        id="chasquid-5-7-10",
    ),
    pytest.param(
        "334 5.7.8 This account requires multi-factor authentication. Alternatively, you can use an app password if your account has one.",
        "app-password-demanded",
        "app-passwords",
        id="stalwart-mfa",
    ),
    pytest.param(
        "554 5.7.1 Rejected (anti-spoofing: noauth). Please setup DMARC with DKIM or SPF if you want to send emails from your domain from other servers.",
        "sender-not-logged-in",
        "enable-smtp-auth-in-client",
        id="mailu-noauth",
    ),
    pytest.param(
        "550 Login credentials no longer valid. Please re-authenticate.",
        "credentials-invalid-generic",
        "check-credentials",
        id="postal-credentials",
    ),
    pytest.param(
        "550-5.7.1 Invalid credentials for relay [203.0.113.25]. The IP address you've registered in your Workspace SMTP Relay service doesn't match the domain of the account",
        "google-relay-denied",
        "relay-service",
        id="google-workspace-relay",
    ),
    # apps: their own steps refused, nothing set up to send with
    pytest.param(
        "Error: AUTH LOGIN not accepted from server!",
        "auth-not-offered-apps",
        "auth-not-offered",
        id="opencart-auth",
    ),
    pytest.param(
        "Error: RCPT TO not accepted from server!",
        "recipients-refused",
        "enable-smtp-auth-in-client",
        id="opencart-rcpt",
    ),
    pytest.param(
        "Error: MAIL FROM not accepted from server!",
        "sender-send-as-refused",
        "sender-permissions",
        id="opencart-from",
    ),
    pytest.param(
        "iTop is configured to use the Null transport: emails sending will have no effect.",
        "app-mail-not-set-up",
        "app-smtp-config",
        id="itop-null",
    ),
    pytest.param(
        "AssertionError: No SMTP configuration, see https://github.com/healthchecks/healthchecks#sending-emails",
        "app-mail-not-set-up",
        "app-smtp-config",
        id="healthchecks",
    ),
    pytest.param(
        "Exception: Failed to send the mail: /usr/sbin/sendmail is missing",
        "app-mail-not-set-up",
        "app-smtp-config",
        id="checkmk",
    ),
    pytest.param(
        "[host] value 'smtp.example.com' is not in the allowedHosts configuration",
        "app-mail-not-set-up",
        "app-smtp-config",
        id="kibana-hosts",
    ),
    pytest.param(
        "error sending email: Unable to retrieve access token for connectorId: 3f1c2b7e",
        "oauth-grant-invalid",
        "oauth-token-errors",
        id="kibana-oauth",
    ),
]


SEVENTH_ROUND = [
    # a web host's block, as WordPress SMTP plugins' connectivity tests report it
    pytest.param(
        "No outbound route between this site and the Internet on Port 587.",
        "hosting-smtp-restricted",
        "hosting-blocks-smtp",
        id="post-smtp-route",
    ),
    pytest.param(
        "本站与 Internet 在端口 587 之间没有路由。",
        "hosting-smtp-restricted",
        "hosting-blocks-smtp",
        id="post-smtp-zh",
    ),
    pytest.param(
        "Warning: connected to a2plcpnl0421.prod.iad2.secureserver.net instead of smtp.gmail.com.",
        "hosting-smtp-restricted",
        "hosting-blocks-smtp",
        id="post-smtp-intercepted",
    ),
    pytest.param(
        "Couldn’t reach Port 25, but Port 587 is available.",
        "port-25-timeout",
        "port-25-blocked",
        id="thunderbird-port-25",
    ),
    pytest.param(
        "Error: The email could not be sent. Your site may not be correctly configured to send emails. Get support for resetting your password.",
        "wordpress-mail-function",
        "wordpress-smtp",
        id="wordpress-core",
    ),
    # nothing set up to send with
    pytest.param(
        "No /usr/bin/mail or /usr/sbin/sendmail, can not send mail. You probably want to install the mailx package.",
        "no-local-mailer",
        "app-smtp-config",
        id="unattended-upgrades",
    ),
    pytest.param(
        "crond[2345]: (CRON) EXEC FAILED (/usr/sbin/sendmail): No such file or directory",
        "no-local-mailer",
        "app-smtp-config",
        id="cronie",
    ),
    pytest.param(
        "Skipped delivery of mail 6650a1b2c3d4e_1f2a3b4c5d6e@app-1.mail as `perform_deliveries` is false",
        "no-local-mailer",
        "app-smtp-config",
        id="rails",
    ),
    pytest.param(
        "There was an error sending mail from 'bugzilla-daemon@example.com' to 'alice@example.com': sasl_username but no sasl_password",
        "client-missing-credentials",
        "app-smtp-config",
        id="bugzilla",
    ),
    pytest.param(
        'Could not automatically detect the "security" protocol from the "port" option, please set it explicitly to "tls" or "ssl".',
        "app-mail-config-invalid",
        "app-smtp-config",
        id="craft-security",
    ),
    pytest.param(
        "Cannot send email: Error: No tokens for outlook and co. found",
        "oauth-token-missing",
        "oauth-token-errors",
        id="iobroker-oauth",
    ),
    pytest.param(
        "OAuth2 access token not obtained",
        "oauth-token-missing",
        "oauth-token-errors",
        id="claws-oauth",
    ),
    # no login offered, a mechanism lacking, STARTTLS not offered
    pytest.param(
        "May 14 09:12:33 nagios sendEmail[4806]: NOTICE => Authentication not supported by the remote SMTP server!",
        "auth-not-offered-apps",
        "auth-not-offered",
        id="sendemail-notice",
    ),
    pytest.param(
        'fatal: [web01]: FAILED! => {"changed": false, "msg": "No Authentication on the server at smtp.example.com:25", "rc": 1}',
        "auth-not-offered-apps",
        "auth-not-offered",
        id="ansible-mail",
    ),
    pytest.param(
        "twisted.mail._except.AUTHRequiredError: 502 Server does not support Client Authentication schemes [CRAM-MD5, LOGIN, PLAIN]",
        "auth-not-offered-apps",
        "auth-not-offered",
        id="buildbot",
    ),
    pytest.param(
        "it is not supported any of the authentication mechanisms required by the server",
        "mechanism-not-supported",
        "auth-method",
        id="wiremailsmtp",
    ),
    pytest.param(
        "StartTLS is not offered on server smtp.example.com:25",
        "starttls-not-offered",
        "ports-and-encryption",
        id="ansible-starttls",
    ),
    # dropped, unreachable, unknown
    pytest.param(
        "Connection closed by the remote host.",
        "connection-lost",
        "tls-mode-mismatch",
        id="evolution-closed",
    ),
    pytest.param(
        "Can't connect to SMTP server: smtp.example.com:587",
        "app-cannot-reach-server",
        "cannot-connect",
        id="claws-connect",
    ),
    pytest.param(
        'could not resolve the host domain "smtp.example.com"',
        "dns-name-not-found",
        "cannot-connect",
        id="wiremailsmtp-dns",
    ),
    pytest.param(
        "Error: SMTP Mailer: Error sending Email to: bob@example.org ! Error: libcurl: (55) Error: RCPT failed: 554",
        "recipients-refused",
        "enable-smtp-auth-in-client",
        id="domoticz",
    ),
]


@pytest.mark.parametrize(
    ("text", "reply_id", "article"), [*FIFTH_ROUND, *SIXTH_ROUND, *SEVENTH_ROUND]
)
def test_tenth_session_rounds_wordings(
    real_kb: KnowledgeBase, text: str, reply_id: str, article: str
) -> None:
    """The fifth to seventh programs rounds' general rules, one case each."""
    assert first_match(real_kb, text) == (reply_id, article)


def test_programs_set_loads_like_the_other_splits(real_kb: KnowledgeBase) -> None:
    items = load_real(real_kb, Split.PROGRAMS)
    assert len(items) >= 200
    assert {item.kind for item in items} == {ItemKind.ERROR}
    normalised = [" ".join(item.text.split()).lower() for item in items]
    assert len(normalised) == len(set(normalised)), "a wording is in the set twice"


def test_every_program_item_names_where_its_wording_was_read() -> None:
    """A repository file (or, for Gmail, Google's own reply reference; for a provider
    without public code, its own documentation page, with ``where`` saying "Documented:"),
    and the condition that prints it: the set is program sources, not threads."""
    data = yaml.safe_load(PROGRAMS_FILE.read_text(encoding="utf-8"))

    def sourced(item: dict[str, object]) -> bool:
        source, where = str(item["source"]), str(item.get("where", "")).strip()
        documented = where.startswith("Documented:") and _VENDOR_PAGE.fullmatch(source)
        return bool(where) and bool(_SOURCE.fullmatch(source) or documented)

    unsourced = [item["id"] for item in data if not sourced(item)]
    assert not unsourced, f"items without a source file or code condition: {unsourced}"
    assert all(field in item for item in data for field in REAL_FIELDS)


@pytest.mark.parametrize(
    "question",
    [
        "i connected to wifi instead of ethernet and now outlook cant send",
        "git says Could not read from remote repository, is that my smtp?",
        "the app failed because of a lack of config, what do i set",
    ],
)
def test_program_wordings_are_not_read_into_a_persons_sentence(
    real_kb: KnowledgeBase, question: str
) -> None:
    """The wrappers' wordings name hosts ("connected to HOST instead of HOST"), so prose
    that shares their words is not taken for a pasted reply."""
    assert explain_reply(real_kb, question) == ()
