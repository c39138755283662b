"""The ISPDB importer on a fixture tree of config-v1.1 files, and the loader's checks."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from bot.errors import KnowledgeError
from knowledge import KnowledgeBase, get_knowledge, load_knowledge
from knowledge.tools import import_ispdb
from tests.knowledge.conftest import FIXTURE_ROOT

XML_TREE = Path(__file__).parent / "fixtures" / "ispdb"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
SHIPPED_COMMIT = "c6ad79659b5fc321d1593ec4c277815b83e5dec5"


def _convert(path: Path, commit: str | None = COMMIT) -> dict[str, Any]:
    found_commit, files = import_ispdb.read_sources(path, commit)
    return import_ispdb.convert(found_commit, files)


def test_importer_output_is_the_committed_fixture_and_stable() -> None:
    """The fixture tree converts to exactly the fixture ispdb.json, byte for byte, every time."""
    first = import_ispdb.dump(_convert(XML_TREE))
    assert first == import_ispdb.dump(_convert(XML_TREE))
    assert first == (FIXTURE_ROOT / "ispdb.json").read_text(encoding="utf-8")


def test_importer_keeps_what_discovery_needs() -> None:
    """Ids from file names, every domain (lower case), MX hints, servers; no SMTP, no entry."""
    document = _convert(XML_TREE)
    assert document["source"] == {
        "repository": "https://github.com/thunderbird/autoconfig",
        "commit": COMMIT,
        "license": "MPL-2.0",
    }
    providers = {p["id"]: p for p in document["providers"]}
    assert sorted(providers) == [
        "example-isp.test",
        "oauthonly.test",
        "plainmail.test",
        "templated.test",
    ]  # incoming-only.test has no SMTP server; two files share an emailProvider id
    isp = providers["example-isp.test"]
    assert isp["domains"] == ["example-isp.example", "example-isp.test", "mx.example-isp.net"]
    assert isp["mx"] == ["mx.example-isp.net"]
    assert isp["smtp"][1] == {
        "host": "smtp.example-isp.test",
        "port": 465,
        "security": "tls",
        "username": "%EMAILADDRESS%",
        "auth": ["password-cleartext"],
    }
    assert providers["templated.test"]["smtp"][0]["host"] == "mail.%EMAILDOMAIN%"


def _git(*args: str) -> str:
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args]
    done = subprocess.run(command, check=True, capture_output=True)  # noqa: S603 (fixed git argv)
    return done.stdout.decode().strip()


def test_importer_reads_a_git_checkout_and_a_bare_repository(tmp_path: Path) -> None:
    """A checkout's HEAD, or a bare git dir at a commit, is recorded as the source commit."""
    work = tmp_path / "autoconfig"
    shutil.copytree(XML_TREE, work)
    _git("-C", str(work), "init", "-q")
    _git("-C", str(work), "add", ".")
    _git("-C", str(work), "commit", "-qm", "fixture")
    commit = _git("-C", str(work), "rev-parse", "HEAD")
    from_checkout = _convert(work, None)
    assert from_checkout["source"]["commit"] == commit
    bare = tmp_path / "bare.git"
    _git("clone", "-q", "--bare", str(work), str(bare))
    assert _convert(bare, None) == from_checkout


def test_importer_refuses_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No commit, hostile XML, a broken server: one line naming the file, exit 2, no output."""
    assert import_ispdb.main([str(XML_TREE), "--output", str(tmp_path / "out.json")]) == 2
    assert "--commit" in capsys.readouterr().err
    (tmp_path / "lol.test.xml").write_bytes(
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><clientConfig>&a;</clientConfig>'
    )
    code = import_ispdb.main([str(tmp_path), "--commit", COMMIT, "--output", str(tmp_path / "o")])
    assert code == 2 and "lol.test.xml: not a valid config-v1.1 document" in capsys.readouterr().err
    (tmp_path / "lol.test.xml").write_text(
        '<clientConfig><emailProvider id="x"><domain>x.test</domain>'
        '<outgoingServer type="smtp"><hostname>h.x.test</hostname></outgoingServer>'
        "</emailProvider></clientConfig>"
    )
    code = import_ispdb.main([str(tmp_path), "--commit", COMMIT, "--output", str(tmp_path / "o")])
    assert code == 2 and "lacks hostname, port or socketType" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_loader_turns_entries_into_ranked_providers(kb: KnowledgeBase) -> None:
    """Encrypted servers first, plaintext kept last; username in words; OAuth-only flagged."""
    isp = kb.provider("example-isp.test")
    assert isp is not None and isp.source == "ispdb"
    assert [(s.host, s.port, s.security) for s in isp.submission] == [
        ("smtp.example-isp.test", 465, "tls"),
        ("smtp.example-isp.test", 587, "starttls"),
        ("plain.example-isp.test", 25, "none"),
    ]
    assert isp.username == "your full email address"
    assert isp.mx == ("*.mx.example-isp.net",)
    oauth = kb.provider("oauthonly.test")
    assert oauth is not None and oauth.oauth_only
    templated = kb.provider("templated.test")
    assert templated is not None
    assert templated.username == "your address with a dot in place of the @"
    assert kb.directory.ispdb_commit == COMMIT


def test_curated_table_wins_a_shared_domain(kb: KnowledgeBase) -> None:
    """gmail.com is in both: the curated provider answers; ISPDB's other domains stay ISPDB's."""
    gmail = kb.provider_for_domain("GMAIL.com")
    assert gmail is not None and gmail.id == "gmail" and gmail.source == "provider"
    other = kb.provider_for_domain("oauthonly.test")
    assert other is not None and other.id == "oauthonly.test"
    host = kb.provider_for_submission_host("smtp.example-isp.test")
    assert host is not None and host.id == "example-isp.test"
    assert kb.provider_for_submission_host("mail.%emaildomain%") is None


def _break(root: Path, change: Any) -> KnowledgeError:
    path = root / "ispdb.json"
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(root)
    assert caught.value.source == "ispdb.json"
    return caught.value


def _server(document: dict[str, Any], **changes: Any) -> None:
    document["providers"][0]["smtp"][0].update(changes)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda d: d.update(format=2), "'format' must be 1"),
        (lambda d: d["source"].update(commit="main"), "40-hex-digit"),
        (lambda d: d["source"].update(license="MIT"), "must be MPL-2.0"),
        (lambda d: _server(d, port=0), "between 1 and 65535"),
        (lambda d: _server(d, security="ssl"), "'security' must be one of"),
        (lambda d: _server(d, auth=["magic"]), "unknown method(s): magic"),
        (lambda d: _server(d, host="not a host"), "is not a host name"),
        (lambda d: d["providers"][0].update(mx=["elsewhere.test"]), "'mx' hint must also"),
        (lambda d: d["providers"][0].update(domains=[]), "'domains' needs at least 1"),
        (lambda d: d["providers"][0].update(id="gmail"), "already a provider id"),
        (lambda d: d["providers"][0].update(extra=1), "unknown field(s): extra"),
    ],
)
def test_loader_refuses_a_bad_snapshot(data_root: Path, change: Any, reason: str) -> None:
    """Every kind of bad ISPDB data stops loading with one sentence naming the problem."""
    assert reason in _break(data_root, change).reason


def test_not_json_is_one_clear_error(data_root: Path) -> None:
    """A truncated file is reported as invalid JSON, not a traceback."""
    (data_root / "ispdb.json").write_text('{"format": 1, ')
    with pytest.raises(KnowledgeError, match="not valid JSON"):
        load_knowledge(data_root)


def test_shipped_snapshot_is_pinned_and_licensed() -> None:
    """The shipped data: the pinned commit, ~960 domains, the MPL-2.0 notice beside it."""
    kb = get_knowledge()
    assert kb.directory.ispdb_commit == SHIPPED_COMMIT
    assert len(kb.directory.ispdb) > 150
    assert sum(len(p.domains) for p in kb.directory.ispdb.values()) > 900
    notice = (Path(import_ispdb.DEFAULT_OUTPUT).parent / "ISPDB-LICENSE").read_text()
    assert SHIPPED_COMMIT in notice and "Mozilla Public License Version 2.0" in notice
    telekom = kb.provider_for_domain("t-online.de")
    assert telekom is not None and telekom.submission[0].host == "securesmtp.t-online.de"
