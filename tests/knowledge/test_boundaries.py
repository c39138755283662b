"""Knowledge imports neither Slack nor the probe nor an HTTP client; gateway data is validated."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.errors import KnowledgeError
from knowledge import KnowledgeBase, load_knowledge, provider_for_host


def test_knowledge_loads_no_probe_no_slack_no_http() -> None:
    """A fresh interpreter importing knowledge (discovery included) loads none of them, nor
    numpy: search loads on first use and stays the function once its module is imported."""
    code = (
        "import sys, knowledge, knowledge.discover, knowledge.autoconfig; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('slack_bolt', 'slack_sdk', 'aiohttp', 'aiosmtplib', 'numpy') "
        "or m.startswith('bot.probe')]; "
        "assert not bad, bad; "
        "from knowledge import search, CONFIDENCE_FLOOR; import knowledge.search; "
        "assert callable(search) and knowledge.search is search and 0 < CONFIDENCE_FLOOR < 1"
    )
    result = subprocess.run(  # noqa: S603 (fixed argv: this interpreter and a literal snippet)
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert result.returncode == 0, result.stderr


def test_provider_for_host_knows_ispdb_hosts(kb: KnowledgeBase) -> None:
    """A host from a pasted error or a check maps to its ISPDB provider too."""
    found = provider_for_host(kb, "SMTP.example-isp.test.")
    assert found is not None and found.id == "example-isp.test"
    mx = provider_for_host(kb, "in7.mx.example-isp.net")
    assert mx is not None and mx.id == "example-isp.test"


def _edit(root: Path, change: object) -> KnowledgeError:
    path = root / "discovery.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(root)
    assert caught.value.source == "discovery.yaml"
    return caught.value


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d["gateways"][0].update(mx=["pphosted.com"]), "must look like *.example.com"),
        (lambda d: d["gateways"][0].update(mx=[]), "needs at least 1"),
        (lambda d: d["gateways"].append(dict(d["gateways"][0])), "duplicate id"),
        (lambda d: d["gateway"].update(ask="Ask {boss}"), "may only name"),
        (lambda d: d["problems"].pop("refused"), "missing field 'refused'"),
        (lambda d: d["notes"].update(extra="x"), "unknown field(s): extra"),
    ],
)
def test_bad_discovery_data_is_one_clear_error(
    data_root: Path, change: object, reason: str
) -> None:
    """Gateway globs, templates and wording are checked at load, one sentence each."""
    assert reason in _edit(data_root, change).reason
