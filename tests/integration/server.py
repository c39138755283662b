"""The integration tier's real mail server, as the tests see it.

``.ci/mailserver.sh`` (run by ``.ci/run``) sets up Postfix on 127.0.0.1 with a STARTTLS
submission service and an implicit-TLS service, authenticating through Dovecot SASL, and
writes what a test needs to an env file (``KEY='value'`` lines; path from
``SMTPCHECK_IT_ENV``, default ``/var/lib/smtpcheck-ci/env``).

``require_mail_server()`` returns it, or skips the test on a developer machine without it
and fails under CI, so CI can never pass by silently skipping the real-server tests.
Other tiers (end-to-end) may import this module to reach the same server.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import time
from dataclasses import dataclass
from ipaddress import ip_network
from pathlib import Path
from typing import NoReturn

import pytest

from bot.config import Settings

DEFAULT_ENV_FILE = "/var/lib/smtpcheck-ci/env"
MISSING_SERVER = (
    "integration mail server not available ({reason}); run `bash .ci/mailserver.sh` as root "
    "(or the whole `.ci/run`)"
)

# A name the server certificate is not issued for (tests map it to the server in DNS).
WRONG_HOSTNAME = "wrong-name.smtpcheck.test"


@dataclass(frozen=True, slots=True)
class MailServer:
    """Where the CI mail server listens and how to log in to it."""

    host: str  # IP literal the services listen on
    hostname: str  # DNS name in the certificate (it also covers localhost, 127.0.0.1, ::1)
    submission_port: int  # STARTTLS required before AUTH
    smtps_port: int  # implicit TLS
    ca_file: Path
    user: str
    password: str  # the password of ``user`` and of every other user in ``user_domain``
    user_domain: str
    auth_log: Path  # Dovecot's log
    auth_mark: str  # Dovecot logs one line containing this per AUTH command it receives
    user_auth_mark: str  # ... and one with this, ``{user}`` filled in, per attempt by a user
    postfix_log: Path

    def new_user(self) -> str:
        """A username no one else uses, with the server's password: sign in as it and count
        only your own attempts (``auth_mark_for``) while other tests use the server too."""
        return f"probe-{secrets.token_hex(6)}@{self.user_domain}"

    def auth_mark_for(self, user: str) -> str:
        """Dovecot logs one line containing this per AUTH attempt by ``user``."""
        return self.user_auth_mark.format(user=user)

    def service(self, name: str) -> tuple[int, str]:
        """(port, security) of ``submission`` (STARTTLS) or ``smtps`` (implicit TLS, on a
        test port rather than 465)."""
        return (
            (self.submission_port, "starttls") if name == "submission" else (self.smtps_port, "tls")
        )

    @property
    def ports(self) -> frozenset[int]:
        return frozenset({self.submission_port, self.smtps_port})

    def settings(self, *, dns_servers: tuple[tuple[str, int], ...] = ()) -> Settings:
        """Settings a probe needs to reach this server: loopback allowed, our CA, its ports."""
        return Settings(
            allow_networks=(ip_network("127.0.0.0/8"),),
            allowed_ports=self.ports,
            dns_servers=dns_servers,
            ca_file=self.ca_file,
        )

    def environ(self) -> dict[str, str]:
        """The same as variables, for a subprocess (the CLI, the bot): the current
        environment without other SMTPCHECK_ settings, plus what reaching this server takes."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("SMTPCHECK_")}
        env["SMTPCHECK_ALLOW_NETWORKS"] = "127.0.0.0/8"
        env["SMTPCHECK_ALLOWED_PORTS"] = ",".join(str(p) for p in sorted(self.ports))
        env["SMTPCHECK_CA_FILE"] = str(self.ca_file)
        return env


def read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#"):
            values[key.strip()] = value.strip().strip("'")
    return values


def load_mail_server(path: Path) -> MailServer:
    """Parse the env file; raises OSError, KeyError or ValueError when it is unusable."""
    env = read_env_file(path)
    return MailServer(
        host=env["SMTPCHECK_IT_HOST"],
        hostname=env["SMTPCHECK_IT_HOSTNAME"],
        submission_port=int(env["SMTPCHECK_IT_SUBMISSION_PORT"]),
        smtps_port=int(env["SMTPCHECK_IT_SMTPS_PORT"]),
        ca_file=Path(env["SMTPCHECK_IT_CA"]),
        user=env["SMTPCHECK_IT_USER"],
        password=env["SMTPCHECK_IT_PASSWORD"],
        user_domain=env["SMTPCHECK_IT_USER_DOMAIN"],
        auth_log=Path(env["SMTPCHECK_IT_LOG"]),
        auth_mark=env["SMTPCHECK_IT_AUTH_MARK"],
        user_auth_mark=env["SMTPCHECK_IT_USER_AUTH_MARK"],
        postfix_log=Path(env["SMTPCHECK_IT_POSTFIX_LOG"]),
    )


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _unavailable(reason: str) -> NoReturn:
    message = MISSING_SERVER.format(reason=reason)
    if under_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def require_mail_server() -> MailServer:
    """The set-up server, checked to be listening; otherwise skip (developer) or fail (CI)."""
    path = Path(os.environ.get("SMTPCHECK_IT_ENV") or DEFAULT_ENV_FILE)
    try:
        server = load_mail_server(path)
    except FileNotFoundError:
        _unavailable(f"{path} does not exist")
    except PermissionError:
        _unavailable(f"{path} is not readable by this user")
    except (OSError, KeyError, ValueError) as exc:
        _unavailable(f"{path} is incomplete or unreadable: {exc!r}")
    for port in sorted(server.ports):
        try:
            socket.create_connection((server.host, port), timeout=5).close()
        except OSError as exc:
            # e.g. the machine restarted since the set-up: the env file outlived the daemons.
            _unavailable(f"nothing answers on {server.host}:{port}: {exc.strerror or exc}")
    return server


class LogWatch:
    """Counts lines a log file gains after a mark (the file only grows during a test run).

    Daemons write their logs a moment after the client is done, so counting waits until
    the expected lines have arrived and then a little longer, so a stray extra line
    (a second AUTH) would still be seen.
    """

    SETTLE = 0.5  # seconds allowed for one more line after the expected ones
    PATIENCE = 5.0  # seconds to wait for the expected lines at most

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = path.stat().st_size

    def new_lines(self) -> list[str]:
        with self.path.open("rb") as log:
            log.seek(self.offset)
            return log.read().decode("utf-8", "replace").splitlines()

    async def count(self, *needles: str, expected: int) -> int:
        """Lines containing every one of ``needles`` written since the mark, once the log
        has settled."""
        give_up = time.monotonic() + self.PATIENCE
        # Polling: the lines come from another process's log file, nothing to await.
        while self._matches(needles) < expected and time.monotonic() < give_up:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        await asyncio.sleep(self.SETTLE)
        return self._matches(needles)

    def _matches(self, needles: tuple[str, ...]) -> int:
        return sum(all(n in line for n in needles) for line in self.new_lines())
