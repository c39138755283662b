"""Per-probe costs cut without changing what a probe reports: certificate facts decoded
once per certificate, the greeting peeked without a second wait, literals not looked up."""

from __future__ import annotations

import asyncio
import socket
import ssl
from typing import Any, cast

import pytest

from bot.probe import Outcome, Stage, TlsInfo, session, tls
from bot.probe.tls import tls_info
from tests.bot.probe.conftest import Probe

CERT = {
    "subject": ((("commonName", "mail.test"),),),
    "issuer": ((("organizationName", "Test CA"),), (("commonName", "Test Root"),)),
    "subjectAltName": (("DNS", "mail.test"), ("DNS", "smtp.test"), ("email", "x@test")),
    "notAfter": "Jan  2 03:04:05 2031 GMT",
}


class _FakeSSLObject:
    """What tls_info reads from an SSLObject; counts how often the certificate is decoded."""

    def __init__(self, der: bytes, mode: ssl.VerifyMode = ssl.CERT_REQUIRED) -> None:
        self.der = der
        self.decoded = 0
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.context.check_hostname = mode is ssl.CERT_REQUIRED
        self.context.verify_mode = mode

    def getpeercert(self, binary_form: bool = False) -> Any:
        if binary_form:
            return self.der
        self.decoded += 1
        return CERT if self.context.verify_mode is ssl.CERT_REQUIRED else {}

    def cipher(self) -> tuple[str, str, int]:
        return ("TLS_AES_256_GCM_SHA384", "TLSv1.3", 256)

    def version(self) -> str:
        return "TLSv1.3"


def _info(fake: _FakeSSLObject) -> TlsInfo:
    return tls_info(cast(ssl.SSLObject, fake))


def test_certificate_facts_are_decoded_once_per_certificate(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tls, "_CERTIFICATES", {})
    first, again = _FakeSSLObject(b"der-1"), _FakeSSLObject(b"der-1")
    info = _info(first)
    assert info == _info(again)
    assert (first.decoded, again.decoded) == (1, 0)
    assert info.subject == "mail.test" and info.issuer == "Test Root (Test CA)"
    assert info.sans == ("mail.test", "smtp.test") and info.not_after == "2031-01-02"
    assert info.version == "TLSv1.3" and info.cipher == "TLS_AES_256_GCM_SHA384"
    other = _FakeSSLObject(b"der-2")
    assert _info(other) == info and other.decoded == 1  # another certificate: decoded
    unverified = _FakeSSLObject(b"der-1", ssl.CERT_NONE)
    assert _info(unverified).subject is None  # same bytes, not verified: not the cached facts


def test_the_certificate_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tls, "_CERTIFICATES", {})
    for index in range(tls._MAX_CERTIFICATES + 10):
        _info(_FakeSSLObject(f"der-{index}".encode()))
    assert len(tls._CERTIFICATES) == tls._MAX_CERTIFICATES
    assert (b"der-0", ssl.CERT_REQUIRED) not in tls._CERTIFICATES  # the oldest went first


def test_no_certificate_gives_no_names() -> None:
    info = _info(_FakeSSLObject(b""))
    assert (info.subject, info.issuer, info.sans, info.not_after) == (None, None, (), None)


async def test_first_bytes_already_there_need_no_wait() -> None:
    """A greeting already received is peeked at once (not consumed); none yet: waited for."""
    ours, theirs = socket.socketpair()
    with ours, theirs:
        ours.setblocking(False)
        waiting = asyncio.ensure_future(session.first_bytes(ours))
        await asyncio.sleep(0.01)
        assert not waiting.done()
        theirs.sendall(b"220 mail.test ESMTP\r\n")
        assert await asyncio.wait_for(waiting, 1) == b"220 mail"
        assert await session.first_bytes(ours) == b"220 mail"  # still unread
        assert ours.recv(100) == b"220 mail.test ESMTP\r\n"
        theirs.close()
        assert await asyncio.wait_for(session.first_bytes(ours), 1) == b""


def test_ehlo_name_is_our_address_literal() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        assert session.ehlo_name(sock) == "[127.0.0.1]"
    with socket.socket(socket.AF_INET6) as sock:
        sock.bind(("::1", 0))
        assert session.ehlo_name(sock) == "[IPv6:::1]"


async def test_a_literal_past_the_deadline_fails_in_the_resolve_stage(probe: Probe) -> None:
    """A literal is checked without a lookup, but a deadline already gone still ends the
    probe there, as for a name."""
    report = await probe("127.0.0.1", 2525, deadline=0)
    assert [step.stage for step in report.steps] == [Stage.RESOLVE]
    assert report.outcome is not Outcome.AUTHENTICATED
