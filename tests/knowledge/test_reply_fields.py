"""replies.yaml's optional fields: 'role' and 'evidence' are validated and do what they say."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.errors import KnowledgeError
from knowledge import explain_reply, load_knowledge
from knowledge.model import PatternRole


def _add_reply(root: Path, **fields: object) -> None:
    path = root / "replies.yaml"
    replies = yaml.safe_load(path.read_text(encoding="utf-8"))
    entry: dict[str, object] = {
        "id": "acme-refused",
        "code": 535,
        "enhanced": None,
        "pattern": "Acme says no",
        "provider": None,
        "cause": "Acme refused the login.",
        "articles": ["check-credentials"],
    }
    entry.update(fields)
    path.write_text(yaml.safe_dump([entry, *replies], allow_unicode=True), encoding="utf-8")


def test_role_defaults_to_reply_and_is_read(data_root: Path) -> None:
    """Without 'role' a pattern is a reply; 'role: wrapper' is kept."""
    _add_reply(data_root, role="wrapper")
    kb = load_knowledge(data_root)
    roles = {reply.id: reply.role for reply in kb.replies}
    assert roles["acme-refused"] is PatternRole.WRAPPER
    assert roles["gmail-bad-credentials"] is PatternRole.REPLY


def test_unknown_role_is_rejected(data_root: Path) -> None:
    """A role outside reply/fallback/wrapper/family names the entry and the choices."""
    _add_reply(data_root, role="guess")
    with pytest.raises(KnowledgeError, match=r"acme-refused.*'role' must be one of"):
        load_knowledge(data_root)


def test_bad_evidence_regex_is_rejected(data_root: Path) -> None:
    """Evidence is a regular expression and is compiled at load."""
    _add_reply(data_root, evidence="acme(")
    with pytest.raises(KnowledgeError, match="acme-refused"):
        load_knowledge(data_root)


def test_evidence_gates_the_match(data_root: Path) -> None:
    """A pattern with evidence matches only when the paste shows it, anywhere in the paste."""
    _add_reply(data_root, evidence=r"smtp\.acme\.example")
    kb = load_knowledge(data_root)
    assert [m.reply_id for m in explain_reply(kb, "535 Acme says no")] == ["generic-535"]
    found = explain_reply(kb, "connecting to smtp.acme.example:587\n\n535 Acme says no")
    assert [m.reply_id for m in found] == ["acme-refused"]


def test_hosted_in_evidence_stands_for_the_shared_list_of_hosts(data_root: Path) -> None:
    """``{hosted}`` is knowledge.text's clouds and web hosts, the list the search's steering
    reads questions with; the rest of the evidence is still checked as written."""
    _add_reply(data_root, evidence=r"{hosted}|acme panel")
    kb = load_knowledge(data_root)
    for shown in ("on a DigitalOcean droplet", "our cPanel account", "the acme panel"):
        found = explain_reply(kb, f"{shown}\n\n535 Acme says no")
        assert [m.reply_id for m in found] == ["acme-refused"], shown
    assert [m.reply_id for m in explain_reply(kb, "my laptop\n\n535 Acme says no")] == [
        "generic-535"
    ]
    _add_reply(data_root, id="acme-broken", evidence=r"{hosted}|(a+)+")
    with pytest.raises(KnowledgeError, match=r"acme-broken.*can hang matching"):
        load_knowledge(data_root)
