"""Every plain-words detail the probe writes into a step, in one place.

Templates are filled with ``str.format`` from values the probe controls (host,
port, stage names, numbers) or from server text that was already cleaned; the
filled-in result is never formatted again.
"""

from __future__ import annotations

from typing import Final

# resolve
RESOLVED: Final = "{host} resolves to {addresses}"
RESOLVED_PARTLY: Final = "the {rdtype} lookup failed ({problem}); the other answers were used"
LITERAL: Final = "{host} is an IP address; no lookup needed"
POLICY_REFUSED: Final = "not allowed: {reason}"
DNS_NXDOMAIN: Final = "the name {host} does not exist (NXDOMAIN)"
DNS_NO_ADDRESS: Final = "the name {host} has no IPv4 or IPv6 address"
DNS_TIMEOUT: Final = "the DNS server did not answer the lookup of {host} (no reply at all)"
DNS_UNREACHABLE: Final = "the DNS server for looking up {host} cannot be reached"
DNS_FAILURE: Final = "the DNS lookup of {host} failed (the DNS server reported an error)"

# connect
CONNECTED: Final = "connected to {address} port {port}"
CONNECT_REFUSED: Final = "{address} refused the connection on port {port}"
CONNECT_TIMEOUT: Final = "no answer from {address} on port {port} within {seconds:g}s"
CONNECT_UNREACHABLE: Final = "cannot reach {address} port {port}: {reason}"
EARLIER_FAILED: Final = "{address}: {reason}"

# banner / ehlo
BANNER_OK: Final = "greeting {reply}"
BANNER_REJECTED: Final = "the server refused the session in its greeting: {reply}"
BANNER_TIMEOUT: Final = "connected, but no greeting within {seconds:g}s"
EHLO_OK: Final = "extensions: {extensions}"
EHLO_REJECTED: Final = "the server refused EHLO: {reply}"

# tls
TLS_OK: Final = (
    "{version}, {cipher}; certificate for {subject}, issued by {issuer}, expires {expires}"
)
STARTTLS_MISSING: Final = (
    "the server does not offer STARTTLS on port {port}, so no password was sent"
)
STARTTLS_MISSING_OFFERS: Final = (
    "the server does not offer STARTTLS on port {port} (it offers: {offered}), "
    "so no password was sent"
)
STARTTLS_REFUSED: Final = "the server refused STARTTLS: {reply}"
TLS_ON_STARTTLS_PORT: Final = (
    "port {port} speaks STARTTLS, not implicit TLS: use security starttls ({reason})"
)
TLS_ON_STARTTLS_PORT_SEEN: Final = (
    "port {port} speaks plain SMTP and offers STARTTLS, not implicit TLS: "
    "use security starttls on port {port}"
)
TLS_ON_PLAIN_PORT: Final = (
    "port {port} speaks plain SMTP with no encryption at all (no implicit TLS, no STARTTLS; "
    "{login}): use your provider's submission port (465 with tls, or 587 with starttls)"
)
STARTTLS_ON_TLS_PORT: Final = (
    "port {port} expects TLS from the first byte: use implicit TLS (security tls) on port {port}"
)
AUTO_FOUND_TLS: Final = (
    "no plaintext greeting within {seconds:g}s and port {port} answers a TLS handshake: "
    "using implicit TLS (security auto)"
)
AUTO_FOUND_PLAIN: Final = (
    "port {port} answered in plain SMTP, not TLS: using STARTTLS (security auto)"
)
CERT_UNTRUSTED: Final = "the certificate is not from a trusted issuer ({reason})"
CERT_NAME_MISMATCH: Final = "the certificate does not cover the name {host} ({reason})"
CERT_EXPIRED: Final = "the certificate has expired ({reason})"
TLS_FAILED: Final = "the TLS handshake failed ({reason})"
TLS_OFF: Final = "encryption switched off (security none)"
TLS_OFF_IN_CLEAR: Final = (
    "encryption switched off (security none): the password crosses the network unencrypted"
)

# auth
AUTH_NO_REPLY: Final = (
    "{mechanism} sent over a working session, but the server did not answer within "
    "{seconds:g}s (a server-side delay: failed-login penalty or a busy login service)"
)
AUTH_OK: Final = "{mechanism} accepted: {reply}"
AUTH_REJECTED: Final = "{mechanism} refused: {reply}"
AUTH_TEMPORARY: Final = "{mechanism} refused for now (temporary): {reply}"
XOAUTH2_REFUSED: Final = "{mechanism} token refused ({said}): {reply}"
AUTH_ODD_REPLY: Final = "{mechanism}: unexpected reply {reply}"
AUTH_OFFERED_NO_CREDENTIALS: Final = "AUTH offered ({offered}); no credentials given, none sent"
AUTH_NOT_OFFERED: Final = "the server does not offer AUTH here{hint}"
AUTH_NOT_OFFERED_CLEAR_HINT: Final = " (many servers offer it only after STARTTLS)"
MECHANISM_NOT_OFFERED: Final = "{mechanism} is not offered (the server offers: {offered})"
NO_USABLE_MECHANISM: Final = (
    "none of the offered mechanisms ({offered}) works with a password; ask for xoauth2 "
    "if you have an OAuth token"
)

# any stage
CONNECTION_LOST: Final = "the server closed the connection during {stage}"
MALFORMED: Final = "the server's reply during {stage} is not SMTP ({reason})"
TOO_LONG: Final = "the server's reply during {stage} is too long"
STAGE_TIMEOUT: Final = "no answer during {stage} within {seconds:g}s"
DEADLINE: Final = "the overall deadline of {seconds:g}s ran out during {stage}"
UNEXPECTED_REPLY: Final = "unexpected reply during {stage}: {reply}"
