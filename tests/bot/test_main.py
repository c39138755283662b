"""Start-up configuration errors stop ``python -m bot`` with one clear line."""

from __future__ import annotations

import pytest

from bot.__main__ import EXIT_CONFIG, main


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"SLACK_BOT_TOKEN": "not-a-token", "SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_SIGNING_SECRET": "s"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "xoxb-1-2"}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_BOT_TOKEN": "xoxb-1-2", "SLACK_SIGNING_SECRET": "s", "PORT": "http"}, "PORT"),
    ],
)
def test_bad_configuration_exits_2_with_one_line(
    environ: dict[str, str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing or malformed variable prints one line naming it and exits 2."""
    assert main(environ) == EXIT_CONFIG
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and named in err
    assert "xoxb-1-2" not in err
