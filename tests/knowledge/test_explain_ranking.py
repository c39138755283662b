"""Explain on the real data: the reply that matters first, providers only on evidence,
honest per-class fallbacks, wording families only for pastes, and the cut-paste flag."""

from __future__ import annotations

import pytest

from knowledge import KnowledgeBase, explain_reply
from knowledge.explain import (
    _matches,
    _outranks,
    explain_text,
    match_reply,
)
from knowledge.model import PatternRole, ReplyPattern
from knowledge.paste import MAX_INPUT, ReplyText, split_replies
from tests.knowledge.conftest import first_match as _first

# -- log noise ---------------------------------------------------------------------------

PHPMAILER_LOG = """\
2018-05-13 09:22:31 Connection: opening to ssl://mail.example.com:465, timeout=300, options=array ()
2018-05-13 09:22:31 Connection: Failed to connect to server. Error number 2. "Error notice: \
stream_socket_client(): Peer certificate CN=`host7.sharedhost.example' did not match expected \
CN=`mail.example.com'
2018-05-13 09:22:31 SMTP ERROR: Failed to connect to server: (0)
SMTP connect() failed. https://github.com/PHPMailer/PHPMailer/wiki/Troubleshooting"""


def test_config_echo_is_not_a_timeout_and_the_cause_beats_the_wrapper(
    real_kb: KnowledgeBase,
) -> None:
    """timeout=300 is a setting, not a timeout; the certificate line beats 'connect() failed'."""
    ids = [m.reply_id for m in explain_text(real_kb, PHPMAILER_LOG).matches]
    assert ids[0] == "tls-cert-hostname-mismatch"
    assert "connection-timed-out" not in ids
    spaced = PHPMAILER_LOG.replace("\n", "\n\n")  # every line a unit of its own
    ids = [m.reply_id for m in explain_text(real_kb, spaced).matches]
    assert ids[0] == "tls-cert-hostname-mismatch"
    assert "phpmailer-connect-failed" in ids[1:]
    assert "connection-timed-out" not in ids


@pytest.mark.parametrize(
    "echo", ["timeout=300", "timeout: 30000", '"timeout": 10', "port: 465", "timeout -1"]
)
def test_config_echoes_alone_explain_nothing_about_timeouts(
    real_kb: KnowledgeBase, echo: str
) -> None:
    """A settings dump mentions a timeout or a port without anything having failed."""
    ids = [m.reply_id for m in explain_text(real_kb, f"host: smtp.example.com\n{echo}").matches]
    assert not any("timeout" in i or "timed-out" in i for i in ids)


@pytest.mark.parametrize(
    "echo",
    [
        "timeout = 300",
        "Timeout 300",
        "smtp_timeout => 300",
        "Connection timeout set to 300 seconds",
        "socket timeout of 30 seconds",
        "port: 25\ntimeout 300",
    ],
)
def test_a_spelled_out_timeout_setting_is_no_timeout_and_not_the_first_match(
    real_kb: KnowledgeBase, echo: str
) -> None:
    """However a log writes the setting ("=", a space, "set to"), 300 is its value, not a
    reply code, and the refused login after it is what the paste is about."""
    text = f"host: smtp.example.com\n{echo}\n535 5.7.8 Error: authentication failed"
    ids = [m.reply_id for m in explain_text(real_kb, text).matches]
    assert ids == ["generic-535-5-7-8"]


def test_a_reply_after_a_timeout_wording_keeps_its_code() -> None:
    """Only a setting written with ":" or "=" may be followed by a full reply's codes."""
    text = "Connection timeout 421 4.4.2 mail.example.com Error: timeout exceeded"
    assert [reply.code for reply in split_replies(text)] == [421]


def test_coded_server_reply_beats_codeless_wrapper(real_kb: KnowledgeBase) -> None:
    """The library's 'Could not authenticate' is context; the server's 535 names the cause."""
    text = (
        "SMTP Error: Could not authenticate.\n\n"
        "SMTP ERROR: Password command failed: 535-5.7.8 Username and Password not accepted.\n"
        "535 5.7.8 https://support.google.com/mail/?p=BadCredentials - gsmtp"
    )
    matches = explain_text(real_kb, text).matches
    assert matches[0].reply_id == "gmail-bad-credentials"
    # the wrapper comes last; with Google named in the paste it reads as Google's refusal
    assert "Could not authenticate" in matches[-1].excerpt
    assert matches[-1].role in {PatternRole.WRAPPER, PatternRole.FALLBACK}


def test_failing_reply_beats_earlier_context(real_kb: KnowledgeBase) -> None:
    """Of two server replies of equal standing, the later one (the failure) comes first."""
    text = (
        "454 4.7.0 Too many login attempts, please try again later\n\n"
        "530 5.7.0 Must issue a STARTTLS command first"
    )
    assert [m.reply_id for m in explain_reply(real_kb, text)] == [
        "starttls-first",
        "too-many-login-attempts",
    ]


def test_named_cause_beats_code_class_fallback(real_kb: KnowledgeBase) -> None:
    """A later bare 535 does not push an earlier reply that names its cause down."""
    text = "530 5.7.0 Must issue a STARTTLS command first\n\n535 nope"
    assert explain_reply(real_kb, text)[0].reply_id == "starttls-first"


# -- provider attribution only on evidence ----------------------------------------------


def test_bare_535_names_no_provider(real_kb: KnowledgeBase) -> None:
    """'535 Authentication Failed' alone is no provider's; with a Zoho host it is Zoho's."""
    bare = explain_reply(real_kb, "535 Authentication Failed")[0]
    assert (bare.reply_id, bare.provider) == ("generic-535", None)
    zoho = explain_reply(real_kb, "535 Authentication Failed\nhost: smtp.zoho.eu port 465")[0]
    assert (zoho.reply_id, zoho.provider) == ("zoho-auth-failed", "zoho")


def test_ses_wording_needs_ses_evidence(real_kb: KnowledgeBase) -> None:
    """GMX, WEB.DE and IONOS also say 'Authentication Credentials Invalid'."""
    assert _first(real_kb, "535 Authentication Credentials Invalid")[0] == (
        "credentials-invalid-generic"
    )
    ses = "535 Authentication Credentials Invalid (email-smtp.eu-west-1.amazonaws.com)"
    assert _first(real_kb, ses) == ("ses-credentials-invalid", "relay-service")


def test_consumer_outlook_is_not_a_microsoft365_tenant(real_kb: KnowledgeBase) -> None:
    """A hotmail/outlook.com address with basic-auth-disabled is the consumer account rule."""
    reply = "535 5.7.139 Authentication unsuccessful, basic authentication is disabled."
    consumer = explain_reply(real_kb, f"user: someone@hotmail.com\n{reply}")[0]
    assert (consumer.provider, consumer.articles[0]) == ("outlook-com", "outlook-com-oauth-only")
    tenant = explain_reply(real_kb, f"{reply} [AM0PR02CA0001.eurprd02.prod.outlook.com]")[0]
    assert tenant.provider == "microsoft365"
    assert "outlook-com-oauth-only" not in tenant.articles


def test_exim_wording_for_a_gmail_host_is_the_web_host_intercepting(
    real_kb: KnowledgeBase,
) -> None:
    """Gmail never says 'Incorrect authentication data': with smtp.gmail.com, the host answered."""
    assert _first(real_kb, "535 Incorrect authentication data") == (
        "exim-incorrect-auth-data",
        "check-credentials",
    )
    hosted = "Connecting to smtp.gmail.com:587\n535 Incorrect authentication data"
    assert _first(real_kb, hosted) == ("hosting-exim-answers-for-provider", "hosting-blocks-smtp")


POSTFIX_REFUSED = "535 5.7.8 Error: authentication failed: authentication failure"
SENDGRID_REFUSED = "535 Authentication failed: Bad username / password"


@pytest.mark.parametrize(
    ("paste", "provider", "unnamed"),
    [
        (f"in-v3.mailjet.com: {POSTFIX_REFUSED}", "mailjet", POSTFIX_REFUSED),
        (f"smtp.postmarkapp.com:587 {POSTFIX_REFUSED}", "postmark", POSTFIX_REFUSED),
        (f"{SENDGRID_REFUSED} (smtp.mailgun.org)", "mailgun", SENDGRID_REFUSED),
    ],
)
def test_a_named_sending_service_explains_a_refused_login_by_its_conventions(
    real_kb: KnowledgeBase, paste: str, provider: str, unnamed: str
) -> None:
    """The service runs Postfix (or says SendGrid's words): its own login convention is the
    cause, not "the password did not match", and Mailgun is not told SendGrid's "apikey";
    with no service named, the server software's own wording explains the same reply."""
    match = explain_reply(real_kb, paste)[0]
    assert (match.reply_id, match.provider, match.articles[0]) == (
        "esp-login-refused",
        provider,
        "relay-service",
    )
    assert _first(real_kb, unnamed)[0] != "esp-login-refused"


def test_certificate_of_another_server_for_a_provider_host_is_interception(
    real_kb: KnowledgeBase,
) -> None:
    """A provider host answered with the web host's certificate: outbound SMTP is redirected."""
    text = (
        "stream_socket_enable_crypto(): Peer certificate CN=`vs1.freehosting.example' did not "
        "match expected CN=`smtp.gmail.com'"
    )
    assert _first(real_kb, text) == ("tls-cert-intercepted-by-host", "hosting-blocks-smtp")


def test_provider_fallback_uses_evidence_but_not_over_specific_wording(
    real_kb: KnowledgeBase,
) -> None:
    """A vague refusal with a QQ host gets the authorization-code article; Gmail's own
    'Authentication Required' wording stays itself even though gsmtp names Google."""
    qq = "Error: Invalid login: 535 Error: something odd\nhost smtp.qq.com:465"
    assert _first(real_kb, qq)[1] == "authorization-code-cn"
    gmail = "530-5.7.0 Authentication Required.\n530 5.7.0 https://support.google.com - gsmtp"
    assert _first(real_kb, gmail)[0] == "auth-required"


# -- fallbacks per reply class ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reply_id"),
    [
        ("530 5.7.0 Something we have never seen", "generic-530"),
        ("534 5.5.0 Please do something new", "generic-534"),
        ("535 Whatever this server says", "generic-535"),
        ("538 Something new", "generic-538"),
        ("454 4.3.0 Something new", "generic-454"),
        ("421 4.3.2 Something new", "service-unavailable-421"),
        ("550 5.7.99 Something new", "generic-5-7-x"),
        ("451 4.7.99 Something new", "generic-4-7-x"),
    ],
)
def test_known_code_with_unknown_wording_gets_an_honest_fallback(
    real_kb: KnowledgeBase, text: str, reply_id: str
) -> None:
    """Each reply class has a fallback that explains the class, marked as a fallback."""
    match = explain_reply(real_kb, text)[0]
    assert match.reply_id == reply_id
    assert match.role is PatternRole.FALLBACK
    assert match.cause and match.articles


# -- wording families: for pastes, never for prose --------------------------------------


def test_families_answer_pastes_but_not_prose(real_kb: KnowledgeBase) -> None:
    """'some certificate error' explains a paste; scanning a question finds no reply in it."""
    paste = "ERROR mailer: certificate problem while sending"
    assert explain_text(real_kb, paste).matches[0].role is PatternRole.FAMILY
    assert explain_reply(real_kb, paste) == ()
    assert explain_reply(real_kb, "my password does not work when I log in") == ()


# -- long pastes ---------------------------------------------------------------------------


def test_cut_paste_is_reported(real_kb: KnowledgeBase) -> None:
    """Text past the bound is not read, and the result says so."""
    reply = "535-5.7.8 Username and Password not accepted.\n535 5.7.8 BadCredentials - gsmtp"
    long = reply + "\n" + "log line\n" * (MAX_INPUT // 9 + 10)
    assert explain_text(real_kb, long).truncated
    assert explain_text(real_kb, long).matches[0].reply_id == "gmail-bad-credentials"
    assert not explain_text(real_kb, reply).truncated
    assert explain_text(real_kb, long).as_dict()["truncated"] is True


def test_has_code_tells_an_unknown_coded_reply_from_prose(real_kb: KnowledgeBase) -> None:
    """has_code lets the 'nothing found' reply avoid asking for a code that is there."""
    assert explain_text(real_kb, "452 4.3.1 Insufficient system storage").has_code
    assert not explain_text(real_kb, "it just does not send").has_code
    for status_alone in ("The server response was: 5.0.0 unknown", "Error: 4.4.2 gone", "5.9.9 x"):
        assert explain_text(real_kb, status_alone).has_code, status_alone
    assert not explain_text(real_kb, "nodemailer 4.1.2 failed to send").has_code  # a version


PY_CHAINED = """\
Traceback (most recent call last):
  File "/usr/lib/python3.11/ssl.py", line 1342, in do_handshake
ssl.SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: \
self-signed certificate (_ssl.c:1006)

{joint}

Traceback (most recent call last):
  File "/app/notify.py", line 20, in send
RuntimeError: mail failed: Connection unexpectedly closed"""


@pytest.mark.parametrize(
    "joint",
    [
        "During handling of the above exception, another exception occurred:",
        "The above exception was the direct cause of the following exception:",
    ],
)
def test_python_chained_exception_root_cause_wins(real_kb: KnowledgeBase, joint: str) -> None:
    """cpython prints the first exception first (Lib/traceback.py); that one is the cause."""
    ids = [m.reply_id for m in explain_text(real_kb, PY_CHAINED.format(joint=joint)).matches]
    assert ids[0] == "tls-cert-untrusted"
    assert "connection-lost" in ids[1:]


def test_java_caused_by_keeps_the_last_cause_first(real_kb: KnowledgeBase) -> None:
    """Java prints the root cause last ("Caused by:"): later still wins there."""
    text = (
        "org.springframework.mail.MailSendException: Mail server connection failed; "
        "nested exception is javax.mail.MessagingException: Exception reading response\n"
        "Caused by: javax.net.ssl.SSLHandshakeException: PKIX path building failed: "
        "unable to find valid certification path to requested target"
    )
    assert explain_text(real_kb, text).matches[0].reply_id == "tls-cert-untrusted-runtimes"


def _exhaustive_best(
    kb: KnowledgeBase, reply: ReplyText, hinted: tuple[str, ...], paste: str
) -> str | None:
    """match_reply without its pruning: every pattern searched in data order, a later one
    kept only when it outranks the best so far."""
    best: ReplyPattern | None = None
    for pattern in kb.replies:
        if not _matches(pattern, reply.code, (reply.raw, reply.line)):
            continue
        if pattern.evidence is not None and not pattern.evidence.search(paste):
            continue
        if best is None or _outranks(pattern, best, hinted):
            best = pattern
    return best.id if best else None


@pytest.mark.parametrize("hinted", [(), ("gmail",), ("microsoft365", "outlook-com")])
def test_pruned_matching_equals_exhaustive_matching(
    real_kb: KnowledgeBase, hinted: tuple[str, ...]
) -> None:
    """Skipping patterns that cannot outrank the best so far changes no answer."""
    from tests.knowledge.test_explain_sources import LIBRARY_WORDINGS, SERVER_AND_PROGRAM_WORDINGS

    texts = [str(param.values[0]) for param in (*LIBRARY_WORDINGS, *SERVER_AND_PROGRAM_WORDINGS)]
    checked = 0
    for text in texts:
        for reply in split_replies(text):
            got = match_reply(real_kb, reply, hinted, text, broad=True)
            assert (got.reply_id if got else None) == _exhaustive_best(real_kb, reply, hinted, text)
            checked += 1
    assert checked > 200
