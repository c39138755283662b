# ruff: noqa: E501 - real error texts are kept whole; splitting them would hide what is matched
"""Explain on the real data: how runtimes, mail programs, devices and providers word the
same few failures, each mapped to the article that fixes it."""

from __future__ import annotations

import pytest

from knowledge import KnowledgeBase
from knowledge.explain import explain_text


def _first_article(kb: KnowledgeBase, text: str) -> str | None:
    matches = explain_text(kb, text).matches
    return matches[0].articles[0] if matches else None


TLS_AND_CONNECTION = [
    # OpenSSL / PHP / Node / Python: TLS mode that does not fit the port
    ("error:1408F10B:SSL routines:ssl3_get_record:wrong version number", "tls-mode-mismatch"),
    (
        "ssl.SSLError: [SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1123)",
        "tls-mode-mismatch",
    ),
    ("tls: first record does not look like a TLS handshake", "tls-mode-mismatch"),
    (
        "javax.net.ssl.SSLException: Unrecognized SSL message, plaintext connection?",
        "tls-mode-mismatch",
    ),
    (
        "System.IO.IOException: Unable to read data from the transport connection: net_io_connectionclosed.",
        "tls-mode-mismatch",
    ),
    (
        "OpenSSL::SSL::SSLError: SSL_connect returned=1 errno=0 state=error: wrong version number",
        "tls-mode-mismatch",
    ),
    # certificates, one per runtime
    (
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate (_ssl.c:1006)",
        "tls-certificate",
    ),
    ("x509: certificate signed by unknown authority", "tls-certificate"),
    (
        "tls: failed to verify certificate: x509: certificate is valid for mail.host.example, not smtp.example.org",
        "tls-certificate",
    ),
    (
        "System.Security.Authentication.AuthenticationException: The remote certificate is invalid according to the validation procedure.",
        "tls-certificate",
    ),
    ("RemoteCertificateNameMismatch, RemoteCertificateChainErrors", "tls-certificate"),
    (
        "javax.net.ssl.SSLHandshakeException: PKIX path building failed: sun.security.provider.certpath.SunCertPathBuilderException: unable to find valid certification path to requested target",
        "tls-certificate",
    ),
    ("Error: self-signed certificate in certificate chain", "tls-certificate"),
    (
        "Error [ERR_TLS_CERT_ALTNAME_INVALID]: Hostname/IP does not match certificate's altnames: Host: mail.example.org. is not in the cert's altnames: DNS:*.host.example",
        "tls-certificate",
    ),
    ("Error: certificate has expired", "tls-certificate"),
    # connections
    ("Error: connect ECONNREFUSED 203.0.113.7:587", "cannot-connect"),
    ("Error: connect ECONNREFUSED 127.0.0.1:587", "app-smtp-config"),
    ("OSError: [Errno 101] Network is unreachable", "cannot-connect"),
    ("Error: getaddrinfo ENOTFOUND undefined", "app-smtp-config"),
    ("socket.gaierror: [Errno -2] Name or service not known", "cannot-connect"),
    ("dial tcp 198.51.100.4:25: connect: connection timed out", "port-25-blocked"),
    (
        "stream_socket_client(): unable to connect to tcp://smtp.gmail.com:587 (Connection timed out)",
        "hosting-blocks-smtp",
    ),
    ("gomail: could not send email 1: Auth: unencrypted connection", "starttls-required"),
]


@pytest.mark.parametrize(("text", "article"), TLS_AND_CONNECTION)
def test_runtime_tls_and_connection_wordings(
    real_kb: KnowledgeBase, text: str, article: str
) -> None:
    """OpenSSL, Python, Go, .NET, Java, Node and Ruby wordings reach the right article."""
    assert _first_article(real_kb, text) == article


def test_missing_greeting_gives_both_causes_and_the_test(real_kb: KnowledgeBase) -> None:
    """'Greeting never received' is a TLS-mode mismatch on 465 or a network block: say both."""
    match = explain_text(real_kb, "Error: Greeting never received").matches[0]
    assert match.articles[:2] == ("tls-mode-mismatch", "cannot-connect")
    cause = match.cause.lower()
    assert "465" in cause and "firewall" in cause
    assert "openssl s_client" in cause and "nc -vz" in cause


def test_timeout_on_465_without_tls_gives_both_causes(real_kb: KnowledgeBase) -> None:
    """A hang on 465 with no TLS asked for: mode mismatch first, the block second.

    Waiting for the greeting is what a plain client does on 465 (ruby net-smtp
    lib/net/smtp.rb do_start: ``recv_response`` under ``read_timeout``), so a read
    timeout there is the mode mismatch."""
    text = "SMTP_PORT=465\nSMTP_ENABLE_STARTTLS=always\nTimeoutError: timed out"
    match = explain_text(real_kb, text).matches[0]
    assert match.articles[:2] == ("tls-mode-mismatch", "hosting-blocks-smtp")
    ssl = "Connection: opening to ssl://smtp.example.org:465\nConnection timed out (110)"
    assert explain_text(real_kb, ssl).matches[0].articles[0] != "tls-mode-mismatch"


@pytest.mark.parametrize(
    "text",
    [
        # ruby net-smtp lib/net/smtp.rb do_start: Net::OpenTimeout wraps tcp_socket only
        "SMTP_PORT=465\nSMTP_ENABLE_STARTTLS=always\nNet::OpenTimeout: execution expired",
        # node net: the TCP connect itself timed out (nodemailer passes the socket error on)
        "Error: connect ETIMEDOUT 142.250.102.108:465",
        # nodemailer lib/smtp-connection/index.js: connectionTimeout, cleared in _onConnect
        "Error: Connection timeout\n    at /app/node_modules/nodemailer/lib/smtp-connection/index.js:784:19\nport: 465",
        # Go net: dial (TCP connect) deadline
        "dial tcp 142.250.4.109:465: i/o timeout",
    ],
)
def test_a_connect_timeout_on_465_is_a_block_not_a_tls_mode(
    real_kb: KnowledgeBase, text: str
) -> None:
    """The TCP connection never opened, so the TLS mode was never tried: the port is blocked
    or unreachable (a web host's block only where the paste shows a host)."""
    match = explain_text(real_kb, text).matches[0]
    assert match.articles[0] in {"cannot-connect", "hosting-blocks-smtp"}
    assert "tls-mode-mismatch" not in match.articles[:2]


@pytest.mark.parametrize(
    ("text", "reply_id", "article"),
    [
        (
            "2024-01-01 10:00:00 SMTP ERROR: Failed to connect to server: Connection timed out (110)\n"
            "SMTP connect() failed. https://github.com/PHPMailer/PHPMailer/wiki/Troubleshooting",
            "hosted-connect-timeout",
            "hosting-blocks-smtp",
        ),
        (
            'smtplib.SMTPServerDisconnected ... TimeoutError: timed out\n  File "/var/www/app/mail.py"',
            "hosted-connect-timeout",
            "hosting-blocks-smtp",
        ),
        (
            "TimeoutError: [WinError 10060] A connection attempt failed because the connected party "
            "did not properly respond after a period of time",
            "server-app-connect-timeout",
            "cannot-connect",
        ),
        (
            "jakarta.mail.MessagingException: Could not connect to SMTP host: smtp.example.com, port: 587;\n"
            "  nested exception is:\n\tjava.net.ConnectException: Connection timed out: connect",
            "server-app-connect-timeout",
            "cannot-connect",
        ),
    ],
)
def test_a_connect_timeout_blames_a_web_host_only_on_its_evidence(
    real_kb: KnowledgeBase, text: str, reply_id: str, article: str
) -> None:
    """A PHP mailer or a web root says the app runs on a host that may block SMTP; a
    runtime's timeout alone (a Windows socket error, Java's) says nothing of where it ran."""
    match = explain_text(real_kb, text).matches[0]
    assert (match.reply_id, match.articles[0]) == (reply_id, article)


MAIL_PROGRAMS_AND_DEVICES = [
    (
        "Login to server smtp.example.org with username user@example.org failed.",
        "client-thunderbird",
    ),
    ("Sending of the message failed.", "client-thunderbird"),
    (
        "Task 'user@example.org - Sending' reported error (0x800CCC0F) : 'The connection to the server was interrupted.'",
        "tls-mode-mismatch",
    ),
    (
        "Send test e-mail message: Outlook cannot connect to your outgoing (SMTP) e-mail server. (0x80042109)",
        "cannot-connect",
    ),
    (
        "Log onto outgoing mail server (SMTP): The server responded: 535 5.7.3 Authentication unsuccessful",
        "m365-smtp-auth-disabled",
    ),
    ("The account name or password is incorrect.", "client-apple-mail"),
    ('The user name or password for "smtp.example.org" is incorrect.', "client-apple-mail"),
    ("SMTP server authentication error", "scan-to-email"),
    ("Send error", "scan-to-email"),
    ("554 5.1.8 Email Outgoing Blocked.", "account-restricted"),
    ("553 Sender is not allowed to relay emails", "sender-permissions"),
]


@pytest.mark.parametrize(("text", "article"), MAIL_PROGRAMS_AND_DEVICES)
def test_mail_program_and_device_wordings(real_kb: KnowledgeBase, text: str, article: str) -> None:
    """Thunderbird, Outlook, Apple Mail, printers and Zoho's sender blocks."""
    assert _first_article(real_kb, text) == article


PROVIDERS = [
    (
        "535 Login Fail. Please enter your authorization code to login. More information in http://service.mail.qq.com/cgi-bin/help",
        "authorization-code-cn",
    ),
    ("550 User has no permission", "authorization-code-cn"),
    (
        "smtplib.SMTPAuthenticationError: (535, b'Error: authentication failed')",
        "authorization-code-cn",
    ),
    ("530 Login fail. A secure connection is requiered(such as ssl).", "starttls-required"),
    ("501 mail from address must be same as authorization user", "sender-permissions"),
    ("535 Authentication failed: Bad username / password", "relay-service"),
    ("550 Unauthenticated senders not allowed", "relay-service"),
    ("535 5.7.0 Mailgun is not loving your login or password", "relay-service"),
    ("535 5.7.8 Authentication failed\nhost: smtp-relay.brevo.com", "relay-service"),
    ("550 5.7.1 Unconfigured Sending Domain <example.org>", "sender-permissions"),
    (
        "422 The 'From' address you supplied is not a Sender Signature on your account",
        "sender-permissions",
    ),
    ("535 5.7.8 Error: authentication failed\nsmtp.postmarkapp.com:587", "relay-service"),
    ("Invalid API key\nsmtp.resend.com", "relay-service"),
    ("535 5.7.8 Error: authentication failed\nhost in-v3.mailjet.com port 587", "relay-service"),
    ("525 5.7.1 Unauthorized IP address", "relay-service"),
    ("454 Throttling failure: Maximum sending rate exceeded.", "rate-limited"),
    (
        "554 Message rejected: Email address is not verified. The following identities failed the check in region EU-WEST-1: app@example.org",
        # relay-service: right whether the From address or (in the sandbox) a recipient failed
        "relay-service",
    ),
    ("AADSTS7000215: Invalid client secret provided.", "oauth-token-errors"),
    ("invalid_grant: Token has been expired or revoked.", "oauth-token-errors"),
]


@pytest.mark.parametrize(("text", "article"), PROVIDERS)
def test_provider_and_sending_service_wordings(
    real_kb: KnowledgeBase, text: str, article: str
) -> None:
    """QQ/NetEase, SendGrid, Mailgun, Brevo, SparkPost, Postmark, Resend and OAuth wordings."""
    assert _first_article(real_kb, text) == article


@pytest.mark.parametrize(
    ("text", "reply_id", "article"),
    [
        # no route, and nothing says where the app runs: the connection article
        ("Error: connect ENETUNREACH 2001:db8::25:587", "network-unreachable", "cannot-connect"),
        (
            "dial tcp 203.0.113.10:587: connect: no route to host",
            "network-unreachable",
            "cannot-connect",
        ),
        # a web host or a PHP app on one (the hosts named in knowledge.text): the host's block
        (
            "phpmailer 6.1.8 on my shared host: Connection failed. Error #2: stream_socket_client(): "
            "unable to connect to smtp.gmail.com:587 (Network is unreachable)",
            "hosted-network-unreachable",
            "hosting-blocks-smtp",
        ),
        (
            "OSError: [Errno 101] Network is unreachable\n(the script runs on a DigitalOcean droplet)",
            "hosted-network-unreachable",
            "hosting-blocks-smtp",
        ),
    ],
)
def test_where_an_unreachable_network_is_decides_its_article(
    real_kb: KnowledgeBase, text: str, reply_id: str, article: str
) -> None:
    match = explain_text(real_kb, text).matches[0]
    assert (match.reply_id, match.articles[0]) == (reply_id, article)
