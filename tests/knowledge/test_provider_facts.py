"""Provider facts carry the date they were checked, and the loader refuses a bad one."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.errors import KnowledgeError
from knowledge import get_knowledge, load_knowledge


def _set_checked(root: Path, value: Any) -> None:
    path = root / "providers.yaml"
    data = yaml.safe_load(path.read_text())
    if value is None:
        del data[0]["checked"]
    else:
        data[0]["checked"] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


def test_every_real_provider_is_dated() -> None:
    """Each provider in the shipped data says when its facts were last checked."""
    today = datetime.datetime.now(datetime.UTC).date()
    for provider in get_knowledge().providers.values():
        assert datetime.date(2024, 1, 1) <= provider.checked <= today, provider.id


def test_date_may_be_quoted_text(data_root: Path) -> None:
    """A quoted '2026-01-31' is read as the same date as an unquoted one."""
    _set_checked(data_root, "2026-01-31")
    assert load_knowledge(data_root).providers["gmail"].checked == datetime.date(2026, 1, 31)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "missing field 'checked'"),
        ("last week", "'checked' 'last week' is not a date written YYYY-MM-DD"),
        (20260131, "'checked' must be a date written YYYY-MM-DD"),
        ("2999-01-01", "'checked' 2999-01-01 is in the future"),
    ],
)
def test_bad_checked_date_is_refused(data_root: Path, value: Any, reason: str) -> None:
    """Missing, unreadable or future dates are one clear error naming the provider."""
    _set_checked(data_root, value)
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(data_root)
    assert (caught.value.source, caught.value.entry) == ("providers.yaml", "gmail")
    assert caught.value.reason == reason


def test_outlook_com_is_oauth_only() -> None:
    """Personal Outlook.com accounts lost password SMTP in September 2024: no app passwords."""
    outlook = get_knowledge().providers["outlook-com"]
    assert (outlook.oauth, outlook.app_password) == ("required", "none")
