"""TLS for the probe: verifying contexts, handshake timing, certificate facts, a TLS sniff.

- ``client_context(ca_files)``: one verifying ``SSLContext`` per set of extra CA
  files, built once and reused (loading trust stores costs far more than a probe's
  handshake), with system trust always included: from the system's hashed CA
  directory where that is as complete as its bundle (``system_ca_dir``).
- ``HandshakeClock``: with implicit TLS, aiosmtplib's ``connect()`` does the
  handshake and reads the banner in one call. The context's SSL objects note
  when their handshake finished on the clock bound in the calling task's context
  (asyncio runs transport callbacks in a copy of it), so the engine can report
  the ``tls`` and ``banner`` stages apart, and tell which one timed out.
- ``tls_info``: version, cipher, subject, issuer, SANs and expiry of a verified peer.
- ``speaks_tls``: after a plaintext session got no greeting, send a ClientHello
  and see whether a TLS record comes back (the port wants implicit TLS).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, NamedTuple

from bot.probe.model import TlsInfo
from bot.probe.replies import clean_text

# First bytes of a TLS record: content type (alert 21, handshake 22), major version 3.
_TLS_RECORD_TYPES: Final = frozenset({21, 22})
_TLS_MAJOR: Final = 3
_MAX_NAME_CHARS: Final = 120
_HASHED_NAME: Final = re.compile(r"[0-9a-f]{8}\.\d+")  # c_rehash: subject hash . counter
_PEM_BODY: Final = re.compile(
    rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.DOTALL
)


class HandshakeClock:
    """When (``time.monotonic``) the TLS handshake of one connection finished, if it did.

    ``on_done`` runs once, on the event loop, when the handshake completes (the
    engine uses it to switch from the TLS stage's timeout to the banner's).
    """

    __slots__ = ("done_at", "on_done")

    def __init__(self, on_done: Callable[[ssl.SSLObject], None] | None = None) -> None:
        self.done_at: float | None = None
        self.on_done = on_done


handshake_clock: ContextVar[HandshakeClock | None] = ContextVar("handshake_clock", default=None)


class _TimedSSLObject(ssl.SSLObject):
    """An ``SSLObject`` that stamps the current task's ``HandshakeClock`` on success."""

    def do_handshake(self) -> None:
        super().do_handshake()
        clock = handshake_clock.get()
        if clock is not None and clock.done_at is None:
            clock.done_at = time.monotonic()
            if clock.on_done is not None:
                clock.on_done(self)


def client_context(ca_files: Iterable[Path]) -> ssl.SSLContext:
    """A verifying client context trusting the system store plus ``ca_files`` (cached)."""
    key = tuple(sorted({str(path.resolve()) for path in ca_files}))
    return _cached_context(key)


@lru_cache(maxsize=1)
def system_ca_dir() -> str | None:
    """The system's hashed CA directory, to trust instead of its CA bundle file, or None
    (then the platform's default trust is loaded, bundle and all).

    A context that loads the bundle parses its ~150 certificates up front (21 ms here) and
    keeps them all in its store; a hashed directory (``c_rehash``) is read on demand, one
    file per issuer looked up, and cached in the store (about 11 ms with the check below;
    per verification no measurable difference: callgrind counts the same instructions
    per probe either way). It is used only when it is the same trust: every certificate
    of the bundle (the default one, or the one ``SSL_CERT_FILE`` names) is in the
    directory, which the default trust loads too.
    """
    paths = ssl.get_default_verify_paths()
    if not paths.capath:
        return None
    try:
        with os.scandir(paths.capath) as entries:
            held = set().union(
                *(_certificates(Path(e.path)) for e in entries if _HASHED_NAME.fullmatch(e.name))
            )
        bundled = _certificates(Path(paths.cafile)) if paths.cafile else set()
    except OSError:
        return None
    return paths.capath if held and bundled <= held else None


def _certificates(path: Path) -> set[bytes]:
    """The base64 bodies of the PEM certificates in ``path``, whitespace removed."""
    return {b"".join(body.split()) for body in _PEM_BODY.findall(path.read_bytes())}


@lru_cache(maxsize=8)
def _cached_context(ca_files: tuple[str, ...]) -> ssl.SSLContext:
    # capath None: create_default_context loads the platform's default trust
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, capath=system_ca_dir())
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    for ca_file in ca_files:
        context.load_verify_locations(cafile=ca_file)
    context.sslobject_class = _TimedSSLObject
    return context


def shown_path(raw: str) -> str:
    """``raw`` (a CA file's path as given) for a one-line message: at most 200 characters,
    a newline or other unprintable character escaped (``\\n``) so the line stays one."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in raw[:200])


def ca_file_problem(path: Path) -> str | None:
    """Why ``path`` cannot serve as a CA bundle (PEM certificates), or None when it can.

    Read and parsed here, once, so a bad file is one clear sentence at the start
    and never an ``ssl.SSLError`` traceback when the first probe builds its context.
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        return f"cannot be read ({exc.strerror or type(exc).__name__})"
    if not data.strip():
        return "is empty"
    text = data.decode("ascii", errors="replace")
    if "-----BEGIN CERTIFICATE-----" not in text:
        return "holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cadata=text)
    except (ssl.SSLError, ValueError) as exc:
        reason = clean_text(str(getattr(exc, "reason", None) or exc), max_chars=80)
        return f"is not a valid PEM certificate bundle ({reason})"
    return None


def tls_info(ssl_object: ssl.SSLObject | None) -> TlsInfo:
    """Facts about a finished handshake; certificate text is server data, so it is cleaned."""
    if ssl_object is None:
        return TlsInfo()
    cipher = ssl_object.cipher()
    facts = _certificate(ssl_object)
    return TlsInfo(
        version=ssl_object.version(),
        cipher=cipher[0] if cipher else None,
        subject=facts.subject,
        issuer=facts.issuer,
        sans=facts.sans,
        not_after=facts.not_after,
    )


class _Facts(NamedTuple):
    subject: str | None
    issuer: str | None
    sans: tuple[str, ...]
    not_after: str | None


# DER certificate and verify mode -> its cleaned facts. Servers are probed again and again
# (a helpdesk checks the same providers all day): decoding a certificate into Python
# objects, cleaning its names and parsing its dates is done once per certificate.
_CERTIFICATES: dict[tuple[bytes, ssl.VerifyMode], _Facts] = {}
_MAX_CERTIFICATES: Final = 256


def _certificate(ssl_object: ssl.SSLObject) -> _Facts:
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        return _facts({})
    key = (der, ssl_object.context.verify_mode)
    found = _CERTIFICATES.get(key)
    if found is None:
        found = _facts(ssl_object.getpeercert() or {})
        if len(_CERTIFICATES) >= _MAX_CERTIFICATES:
            del _CERTIFICATES[next(iter(_CERTIFICATES))]  # the oldest
        _CERTIFICATES[key] = found
    return found


def _facts(cert: dict[str, Any]) -> _Facts:
    subject = _names(cert.get("subject", ()))
    issuer = _names(cert.get("issuer", ()))
    issuer_cn, issuer_org = issuer.get("commonName"), issuer.get("organizationName")
    if issuer_cn and issuer_org and issuer_org != issuer_cn:
        issuer_text: str | None = f"{issuer_cn} ({issuer_org})"
    else:
        issuer_text = issuer_cn or issuer_org
    sans = tuple(
        clean_text(str(value), max_chars=_MAX_NAME_CHARS)
        for kind, value in cert.get("subjectAltName", ())
        if kind in ("DNS", "IP Address")
    )
    return _Facts(
        subject=subject.get("commonName") or (sans[0] if sans else None),
        issuer=issuer_text,
        sans=sans[:20],
        not_after=_iso_date(cert.get("notAfter")),
    )


def _names(rdns: Iterable[Iterable[tuple[str, str]]]) -> dict[str, str]:
    names: dict[str, str] = {}
    for rdn in rdns:
        for key, value in rdn:
            names.setdefault(key, clean_text(str(value), max_chars=_MAX_NAME_CHARS))
    return names


def _iso_date(not_after: object) -> str | None:
    if not isinstance(not_after, str):
        return None
    try:
        seconds = ssl.cert_time_to_seconds(not_after)
    except ValueError:
        return None
    return datetime.fromtimestamp(seconds, tz=UTC).date().isoformat()


async def speaks_tls(sock: socket.socket, *, context: ssl.SSLContext, server_hostname: str) -> bool:
    """Send a TLS ClientHello on ``sock`` and report whether a TLS record comes back.

    The caller bounds the wait (``asyncio.timeout``).
    """
    loop = asyncio.get_running_loop()
    hello = ssl.MemoryBIO()
    tls = context.wrap_bio(ssl.MemoryBIO(), hello, server_hostname=server_hostname)
    with contextlib.suppress(ssl.SSLWantReadError):
        tls.do_handshake()  # stops at once, wanting the ServerHello; ``hello`` holds ours
    try:
        await loop.sock_sendall(sock, hello.read())
        head = await loop.sock_recv(sock, 3)
    except OSError:
        return False
    return looks_like_tls(head)


def looks_like_tls(head: bytes) -> bool:
    """Whether the first bytes a server sent are a TLS record rather than SMTP text."""
    return len(head) >= 2 and head[0] in _TLS_RECORD_TYPES and head[1] == _TLS_MAJOR
