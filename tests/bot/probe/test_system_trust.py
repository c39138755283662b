"""System trust from the hashed CA directory only when it is the same trust as the bundle.

The directory is read on demand, so a context built on it keeps a small store (a big
in-memory store costs OpenSSL 3.0 time at every verification); it must still trust
exactly what the default trust would: every certificate of the bundle file.
"""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from bot.probe import tls
from tests.support.smtp_server import SERVER_NAME, Certs, smtp_server


@pytest.fixture(autouse=True)
def _fresh_trust() -> Iterator[None]:
    tls.system_ca_dir.cache_clear()
    tls._cached_context.cache_clear()
    yield
    tls.system_ca_dir.cache_clear()
    tls._cached_context.cache_clear()


def _paths(monkeypatch: pytest.MonkeyPatch, cafile: Path | None, capath: Path | None) -> None:
    found = ssl.DefaultVerifyPaths(
        str(cafile) if cafile else None,
        str(capath) if capath else None,
        "SSL_CERT_FILE",
        "/nonexistent/cert.pem",
        "SSL_CERT_DIR",
        "/nonexistent/certs",
    )
    monkeypatch.setattr(ssl, "get_default_verify_paths", lambda: found)


def _pem(ca: trustme.CA) -> bytes:
    return ca.cert_pem.bytes()


def _hashed_dir(directory: Path, *pems: bytes) -> Path:
    """A CA directory as c_rehash leaves it: one file per certificate, named by hash."""
    directory.mkdir()
    for number, pem in enumerate(pems):
        (directory / f"{number:08x}.0").write_bytes(pem)
    return directory


def test_a_directory_holding_every_bundle_certificate_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = trustme.CA(), trustme.CA()
    bundle = tmp_path / "bundle.crt"
    bundle.write_bytes(_pem(one) + b"\n" + _pem(two))
    capath = _hashed_dir(tmp_path / "certs", _pem(two), _pem(one))
    (capath / "ca-one.pem").write_bytes(b"not a hashed name: not read")
    _paths(monkeypatch, bundle, capath)
    assert tls.system_ca_dir() == str(capath)
    assert tls.client_context([]).cert_store_stats()["x509_ca"] == 0  # read on demand


@pytest.mark.parametrize("case", ["bundle has more", "no hashed names", "no directory"])
def test_otherwise_the_default_trust_is_loaded(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = trustme.CA(), trustme.CA()
    bundle = tmp_path / "bundle.crt"
    bundle.write_bytes(_pem(one) + _pem(two))
    capath: Path | None = tmp_path / "certs"
    if case == "bundle has more":  # say a corporate CA added to the file only
        _hashed_dir(tmp_path / "certs", _pem(one))
    elif case == "no hashed names":  # a directory that is not c_rehash'ed (Fedora's certs/)
        (tmp_path / "certs").mkdir()
        (tmp_path / "certs" / "one.pem").write_bytes(_pem(one) + _pem(two))
    else:
        capath = None
    _paths(monkeypatch, bundle, capath)
    assert tls.system_ca_dir() is None


async def _greeting(context: ssl.SSLContext, port: int) -> bytes:
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=context, server_hostname=SERVER_NAME
    )
    try:
        return await asyncio.wait_for(reader.readline(), 5)
    finally:
        writer.close()


def _rehashed(directory: Path, ca_pem: bytes) -> Path:
    """A directory holding one CA, hashed by ``openssl rehash`` as Debian's certs/ is."""
    openssl = shutil.which("openssl")
    assert openssl, "openssl (Debian's openssl package) makes the hashed directory"
    directory.mkdir()
    (directory / "ca.pem").write_bytes(ca_pem)
    subprocess.run([openssl, "rehash", str(directory)], check=True)  # noqa: S603 (fixed argv)
    return directory


async def test_a_real_hashed_directory_verifies_a_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, certs: Certs
) -> None:
    """The test CA in a hashed directory (and nowhere else) verifies the server; a
    directory without it does not."""
    trusted = _rehashed(tmp_path / "trusted", certs.ca_file.read_bytes())
    other = _rehashed(tmp_path / "other", trustme.CA().cert_pem.bytes())
    async with smtp_server(tls="implicit", context=certs.good) as server:
        _paths(monkeypatch, None, trusted)
        assert tls.system_ca_dir() == str(trusted)
        assert (await _greeting(tls.client_context([]), server.port)).startswith(b"220")

        tls.system_ca_dir.cache_clear()
        tls._cached_context.cache_clear()
        _paths(monkeypatch, None, other)
        with pytest.raises(ssl.SSLCertVerificationError):
            await _greeting(tls.client_context([]), server.port)
