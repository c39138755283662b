"""The integration tier: a real Postfix + Dovecot SASL server that ``.ci/run`` sets up.

``.ci/mailserver.sh`` writes what the tests need to an env file (``KEY='value'`` lines;
path from ``SMTPCHECK_IT_ENV``, default ``/var/lib/smtpcheck-ci/env``). Without it the
tier is skipped on a developer machine and fails under CI, so CI can never pass by
silently skipping the real-server tests.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import ip_network
from pathlib import Path

import pytest

from bot.config import Settings
from tests.support.dns_server import DnsServer, dns_server

DEFAULT_ENV_FILE = "/var/lib/smtpcheck-ci/env"
# Wording kept here so skip and failure explain the same thing.
MISSING_SERVER = (
    "integration mail server not set up ({reason}); run `bash .ci/mailserver.sh` as root "
    "(or the whole `.ci/run`)"
)
# The name the server certificate is issued for (also: localhost, 127.0.0.1, ::1), and a
# name it is not issued for; the test DNS server maps both to the loopback server.
WRONG_HOSTNAME = "wrong-name.smtpcheck.test"


@dataclass(frozen=True, slots=True)
class MailServer:
    """Where the CI mail server listens and how to log in to it."""

    host: str  # IP literal the services listen on
    hostname: str  # DNS name in the certificate
    submission_port: int  # STARTTLS required before AUTH
    smtps_port: int  # implicit TLS
    ca_file: Path
    user: str
    password: str
    auth_log: Path  # Dovecot's log
    auth_mark: str  # one line containing this per AUTH command Dovecot receives
    postfix_log: Path

    @property
    def ports(self) -> frozenset[int]:
        return frozenset({self.submission_port, self.smtps_port})

    def settings(self, *, dns: DnsServer | None = None) -> Settings:
        """Settings a probe needs to reach this server: loopback allowed, our CA, its ports."""
        return Settings(
            allow_networks=(ip_network("127.0.0.0/8"),),
            allowed_ports=self.ports,
            dns_servers=((dns.host, dns.port),) if dns else (),
            ca_file=self.ca_file,
        )

    def cli_env(self) -> dict[str, str]:
        """Environment for ``python -m bot.cli probe`` against this server."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("SMTPCHECK_")}
        env["SMTPCHECK_ALLOW_NETWORKS"] = "127.0.0.0/8"
        env["SMTPCHECK_ALLOWED_PORTS"] = ",".join(str(p) for p in sorted(self.ports))
        env["SMTPCHECK_CA_FILE"] = str(self.ca_file)
        env["LOG_LEVEL"] = "DEBUG"  # the most talkative setting must still leak nothing
        return env


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#"):
            values[key.strip()] = value.strip().strip("'")
    return values


def _load(path: Path) -> MailServer:
    env = read_env_file(path)
    return MailServer(
        host=env["SMTPCHECK_IT_HOST"],
        hostname=env["SMTPCHECK_IT_HOSTNAME"],
        submission_port=int(env["SMTPCHECK_IT_SUBMISSION_PORT"]),
        smtps_port=int(env["SMTPCHECK_IT_SMTPS_PORT"]),
        ca_file=Path(env["SMTPCHECK_IT_CA"]),
        user=env["SMTPCHECK_IT_USER"],
        password=env["SMTPCHECK_IT_PASSWORD"],
        auth_log=Path(env["SMTPCHECK_IT_LOG"]),
        auth_mark=env["SMTPCHECK_IT_AUTH_MARK"],
        postfix_log=Path(env["SMTPCHECK_IT_POSTFIX_LOG"]),
    )


def _under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def mail_server() -> MailServer:
    path = Path(os.environ.get("SMTPCHECK_IT_ENV") or DEFAULT_ENV_FILE)
    try:
        server = _load(path)
    except FileNotFoundError:
        reason = f"{path} does not exist"
    except PermissionError:
        reason = f"{path} is not readable by this user"
    except (KeyError, ValueError) as exc:
        reason = f"{path} is incomplete or malformed: {exc}"
    else:
        return server
    message = MISSING_SERVER.format(reason=reason)
    if _under_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


class LogWatch:
    """Counts lines a log file gains after a mark (the file only grows during a test run).

    Daemons write their logs a moment after the client is done, so counting waits until
    the expected lines have arrived and then a little longer, so a stray extra line
    (a second AUTH) would still be seen.
    """

    SETTLE = 0.5  # seconds with no new matching line before the count is final
    PATIENCE = 5.0  # seconds to wait for the expected lines at most

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = path.stat().st_size

    def new_lines(self) -> list[str]:
        with self.path.open("rb") as log:
            log.seek(self.offset)
            return log.read().decode("utf-8", "replace").splitlines()

    async def count(self, needle: str, *, expected: int) -> int:
        """Lines containing ``needle`` written since the mark, once the log has settled."""
        give_up = time.monotonic() + self.PATIENCE
        # Polling: the lines come from another process's log file, nothing to await.
        while self._matches(needle) < expected and time.monotonic() < give_up:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        await asyncio.sleep(self.SETTLE)
        return self._matches(needle)

    def _matches(self, needle: str) -> int:
        return sum(needle in line for line in self.new_lines())


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
    """A local DNS server that maps the certificate's name (and a wrong one) to the server."""
    zone = {
        (f"{mail_server.hostname}.", "A"): [mail_server.host],
        (f"{WRONG_HOSTNAME}.", "A"): [mail_server.host],
    }
    with dns_server(zone) as server:
        yield server
