"""Fixtures for the integration tier (the real Postfix + Dovecot server; see server.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.server import WRONG_HOSTNAME, LogWatch, MailServer, require_mail_server
from tests.support.dns_server import DnsServer, dns_server


@pytest.fixture(scope="session")
def mail_server() -> MailServer:
    """The CI mail server (skips without it on a developer machine, fails under CI)."""
    return require_mail_server()


@pytest.fixture
def auth_log(mail_server: MailServer) -> LogWatch:
    """Dovecot's log from now on: one ``auth_mark`` line per AUTH the server receives."""
    return LogWatch(mail_server.auth_log)


@pytest.fixture
def postfix_log(mail_server: MailServer) -> LogWatch:
    """Postfix's log from now on."""
    return LogWatch(mail_server.postfix_log)


@pytest.fixture
def mail_dns(mail_server: MailServer) -> Iterator[DnsServer]:
    """A local DNS server mapping the certificate's name (and a wrong one) to the server."""
    zone = {
        (f"{mail_server.hostname}.", "A"): [mail_server.host],
        (f"{WRONG_HOSTNAME}.", "A"): [mail_server.host],
    }
    with dns_server(zone) as server:
        yield server
