"""`smtpcheck discover`: a provider-directory hit loads no DNS or HTTP code; a miss does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
HEAVY = ("dns", "aiohttp", "aiosmtplib", "slack_bolt")
SCRIPT = """
import contextlib, io, sys
from bot.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    main(["discover", sys.argv[1], "--json"])
print(" ".join(sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[2:]))))
"""


@pytest.mark.parametrize(
    ("target", "loaded"),
    [
        ("alice@gmail.com", ""),  # the curated table
        ("t-online.de", ""),  # Thunderbird's ISPDB
        ("bob@unknown-company.example", "dns"),  # DNS asked (refused: no HTTP either)
    ],
)
def test_directory_hits_never_load_dnspython(target: str, loaded: str) -> None:
    """A known domain answers from the data alone; only an unknown one imports dnspython."""
    from tests.support.dns_server import dns_server

    with dns_server({}, refuse_all=True) as refusing:
        result = subprocess.run(  # noqa: S603 (our own interpreter, fixed script)
            [sys.executable, "-c", SCRIPT, target, *HEAVY],
            capture_output=True,
            text=True,
            cwd=REPO,
            env={
                "PYTHONPATH": str(REPO),
                "PATH": "/usr/bin:/bin",
                "SMTPCHECK_DNS_SERVERS": refusing.address,
            },
            check=True,
        )
    assert result.stdout.strip() == loaded
