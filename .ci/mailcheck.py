"""Smoke check of the CI mail server right after .ci/mailserver.sh starts it.

Uses only the standard library (not the probe under test), so a broken set-up is reported
here as a set-up problem instead of surfacing later as puzzling integration-test failures.
Reads the env file the tests read (KEY='value' lines). Waits up to --wait seconds for the
listeners to come up.
Exit 0 when both services do TLS with our CA and accept the test user's password.
"""

from __future__ import annotations

import argparse
import smtplib
import socket
import ssl
import sys
import time
from pathlib import Path


def read_env(path: Path) -> dict[str, str]:
    env = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.startswith("#"):
            env[key.strip()] = value.strip().strip("'")
    return env


def _wait_listening(host: str, port: int, deadline: float) -> None:
    while True:
        try:
            socket.create_connection((host, port), timeout=2).close()
            return
        except OSError as exc:
            if time.monotonic() > deadline:
                raise SystemExit(
                    f"mailcheck: nothing accepts connections on {host}:{port}: {exc}"
                ) from None
            time.sleep(0.2)


def _auth_mechanisms(smtp: smtplib.SMTP) -> set[str]:
    return set(smtp.esmtp_features.get("auth", "").upper().split())


def _check_submission(env: dict[str, str], ctx: ssl.SSLContext) -> str:
    host, port = env["SMTPCHECK_IT_HOST"], int(env["SMTPCHECK_IT_SUBMISSION_PORT"])
    with smtplib.SMTP(host, port, timeout=15) as smtp:
        smtp.ehlo("mailcheck.smtpcheck.test")
        if not smtp.has_extn("starttls"):
            raise SystemExit("mailcheck: submission port does not offer STARTTLS")
        if smtp.has_extn("auth"):
            raise SystemExit("mailcheck: submission port offers AUTH before TLS")
        smtp.starttls(context=ctx)
        smtp.ehlo("mailcheck.smtpcheck.test")
        mechanisms = _auth_mechanisms(smtp)
        smtp.user, smtp.password = env["SMTPCHECK_IT_USER"], env["SMTPCHECK_IT_PASSWORD"]
        code, _ = smtp.auth("PLAIN", smtp.auth_plain)
        if code != 235:
            raise SystemExit(f"mailcheck: submission AUTH PLAIN answered {code}")
    return f"submission {port}: STARTTLS, AUTH {' '.join(sorted(mechanisms))}, PLAIN accepted"


def _check_smtps(env: dict[str, str], ctx: ssl.SSLContext) -> str:
    host, port = env["SMTPCHECK_IT_HOST"], int(env["SMTPCHECK_IT_SMTPS_PORT"])
    # The certificate must also match the DNS name tests use for SNI and name checks.
    with (
        socket.create_connection((host, port), timeout=15) as raw,
        ctx.wrap_socket(raw, server_hostname=env["SMTPCHECK_IT_HOSTNAME"]) as tls,
    ):
        banner = tls.recv(512)
        if not banner.startswith(b"220"):
            raise SystemExit(f"mailcheck: smtps banner was {banner[:60]!r}")
    with smtplib.SMTP_SSL(host, port, timeout=15, context=ctx) as smtp:
        smtp.ehlo("mailcheck.smtpcheck.test")
        smtp.user, smtp.password = env["SMTPCHECK_IT_USER"], env["SMTPCHECK_IT_PASSWORD"]
        code, _ = smtp.auth("LOGIN", smtp.auth_login, initial_response_ok=False)
        if code != 235:
            raise SystemExit(f"mailcheck: smtps AUTH LOGIN answered {code}")
    return f"smtps {port}: implicit TLS ({env['SMTPCHECK_IT_HOSTNAME']} verified), LOGIN accepted"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wait", type=float, default=15.0)
    parser.add_argument("env_file", type=Path)
    args = parser.parse_args()
    env = read_env(args.env_file)
    deadline = time.monotonic() + args.wait
    for key in ("SMTPCHECK_IT_SUBMISSION_PORT", "SMTPCHECK_IT_SMTPS_PORT"):
        _wait_listening(env["SMTPCHECK_IT_HOST"], int(env[key]), deadline)
    ctx = ssl.create_default_context(cafile=env["SMTPCHECK_IT_CA"])
    try:
        print("mailcheck:", _check_submission(env, ctx))
        print("mailcheck:", _check_smtps(env, ctx))
    except (OSError, smtplib.SMTPException) as exc:
        print(f"mailcheck: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
