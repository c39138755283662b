"""load_knowledge: the fixture tree loads, and every kind of bad data is one clear error."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.errors import KnowledgeError
from knowledge import KnowledgeBase, get_knowledge, load_knowledge
from knowledge.loader import DEFAULT_ROOT


def _edit_list(root: Path, file_name: str, index: int, **changes: Any) -> None:
    path = root / file_name
    data = yaml.safe_load(path.read_text())
    for key, value in changes.items():
        if value is _DELETE:
            del data[index][key]
        else:
            data[index][key] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def _edit_article(root: Path, article_id: str, **changes: Any) -> None:
    path = root / "articles" / f"{article_id}.yaml"
    data = yaml.safe_load(path.read_text())
    for key, value in changes.items():
        if value is _DELETE:
            del data[key]
        else:
            data[key] = value
    path.write_text(yaml.safe_dump(data, sort_keys=False))


_DELETE = object()


def _error(root: Path) -> KnowledgeError:
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(root)
    return caught.value


def test_fixture_tree_loads_into_typed_models(kb: KnowledgeBase) -> None:
    """The valid fixture tree loads: articles, providers, replies and clients are all there."""
    assert "check-credentials" in kb.articles
    article = kb.articles["app-passwords"]
    assert article.steps_for("gmail") != article.steps
    assert article.steps_for(None, "thunderbird") == article.steps
    gmail = kb.providers["gmail"]
    assert gmail.submission[0].port == 465 and gmail.submission[0].security == "tls"
    assert any(reply.code is None for reply in kb.replies)
    assert isinstance(kb.replies[0].pattern, re.Pattern)
    assert kb.clients["ios-mail"].aliases == ("iphone", "ipad")


def test_yaml_syntax_error_names_the_file(data_root: Path) -> None:
    """Broken YAML is reported with the file and the line, not a parser traceback."""
    (data_root / "providers.yaml").write_text("- id: gmail\n  name: [unclosed\n")
    error = _error(data_root)
    assert error.source == "providers.yaml"
    assert "not valid YAML" in error.reason


def test_missing_field(data_root: Path) -> None:
    """A missing required field names the entry and the field."""
    _edit_article(data_root, "reset-password", summary=_DELETE)
    error = _error(data_root)
    assert (error.source, error.entry) == ("articles/reset-password.yaml", "reset-password")
    assert "missing field 'summary'" in error.reason


def test_extra_field(data_root: Path) -> None:
    """An unknown field is refused (a typo like 'stesp' must not be silently ignored)."""
    _edit_list(data_root, "providers.yaml", 1, smtp_host="smtp.example.com")
    error = _error(data_root)
    assert (error.source, error.entry) == ("providers.yaml", "google-workspace")
    assert "unknown field(s): smtp_host" in error.reason


def test_wrongly_typed_field(data_root: Path) -> None:
    """A list where text belongs (or the reverse) is refused with both kinds named."""
    _edit_article(data_root, "check-credentials", steps="just one string")
    error = _error(data_root)
    assert error.entry == "check-credentials"
    assert "'steps' must be a list, not str" in error.reason


def test_empty_string(data_root: Path) -> None:
    """An empty or blank string is refused."""
    _edit_list(data_root, "clients.yaml", 0, name="   ")
    error = _error(data_root)
    assert (error.source, error.entry) == ("clients.yaml", "outlook")
    assert "'name' is empty" in error.reason


def test_entry_without_id_is_named_by_index(data_root: Path) -> None:
    """An entry whose id is missing is named by its position in the list."""
    _edit_list(data_root, "replies.yaml", 2, id=_DELETE)
    error = _error(data_root)
    assert (error.source, error.entry) == ("replies.yaml", "#2")


def test_id_must_equal_file_stem(data_root: Path) -> None:
    """An article's id must equal its file name, so links and files never disagree."""
    _edit_article(data_root, "reset-password", id="password-reset")
    error = _error(data_root)
    assert error.source == "articles/reset-password.yaml"
    assert "must equal the file name stem" in error.reason


@pytest.mark.parametrize("name", ["providers.yaml", "replies.yaml", "clients.yaml"])
def test_duplicate_ids_in_lists(data_root: Path, name: str) -> None:
    """Two entries with one id in providers, replies or clients are refused."""
    path = data_root / name
    data = yaml.safe_load(path.read_text())
    data.append(dict(data[0]))
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    error = _error(data_root)
    assert (error.source, error.entry) == (name, data[0]["id"])
    assert error.reason == "duplicate id"


def test_duplicate_article_ids_across_folders(data_root: Path) -> None:
    """Articles may live in sub-folders, but an id may exist only once."""
    (data_root / "articles" / "gmail").mkdir()
    original = data_root / "articles" / "app-passwords.yaml"
    (data_root / "articles" / "gmail" / "app-passwords.yaml").write_text(original.read_text())
    error = _error(data_root)
    assert error.entry == "app-passwords"
    assert "duplicate id" in error.reason


def test_dangling_related_id(data_root: Path) -> None:
    """A related id that names no article is refused."""
    _edit_article(data_root, "check-credentials", related=["reset-password", "no-such-article"])
    error = _error(data_root)
    assert error.entry == "check-credentials"
    assert "related id 'no-such-article' does not exist" in error.reason


def test_dangling_reply_article_id(data_root: Path) -> None:
    """A reply pointing at a missing article is refused."""
    _edit_list(data_root, "replies.yaml", 0, articles=["app-passwords", "ghost"])
    error = _error(data_root)
    assert (error.source, error.entry) == ("replies.yaml", "gmail-app-password-required")
    assert "article id 'ghost' does not exist" in error.reason


def test_unknown_variant_key(data_root: Path) -> None:
    """A variant key must be a provider id or a client id."""
    _edit_article(data_root, "app-passwords", variants={"gmial": {"steps": ["x"]}})
    error = _error(data_root)
    assert error.entry == "app-passwords"
    assert "variant key 'gmial'" in error.reason


def test_client_variant_key_is_accepted(data_root: Path) -> None:
    """Client ids are valid variant keys too."""
    _edit_article(data_root, "check-credentials", variants={"thunderbird": {"steps": ["a"]}})
    kb = load_knowledge(data_root)
    assert kb.articles["check-credentials"].steps_for("thunderbird") == ("a",)


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [("Username (and", "not a valid regular expression"), ("(a+)+$", "can hang matching")],
)
def test_bad_regex(data_root: Path, pattern: str, reason: str) -> None:
    """A pattern that does not compile, or has the catastrophic nested-repeat shape, is refused."""
    _edit_list(data_root, "replies.yaml", 1, pattern=pattern)
    error = _error(data_root)
    assert error.entry == "gmail-bad-credentials"
    assert reason in error.reason


@pytest.mark.parametrize(
    ("submission", "reason"),
    [
        ({"host": "smtp.gmail.com", "port": 587, "security": "ssl"}, "'security' must be one of"),
        ({"host": "smtp.gmail.com", "port": 70000, "security": "tls"}, "between 1 and 65535"),
        ({"host": "smtp.gmail.com", "port": "587", "security": "tls"}, "whole number, not str"),
        ({"host": "smtp.gmail.com", "port": True, "security": "tls"}, "whole number, not bool"),
    ],
)
def test_bad_security_or_port(data_root: Path, submission: dict[str, Any], reason: str) -> None:
    """Submission security must be starttls|tls and the port a real port number."""
    _edit_list(data_root, "providers.yaml", 0, submission=[submission])
    error = _error(data_root)
    assert (error.source, error.entry) == ("providers.yaml", "gmail")
    assert reason in error.reason


def test_unknown_provider_in_replies(data_root: Path) -> None:
    """A reply naming a provider that providers.yaml lacks is refused."""
    _edit_list(data_root, "replies.yaml", 0, provider="gmale")
    error = _error(data_root)
    assert (error.source, error.entry) == ("replies.yaml", "gmail-app-password-required")
    assert "provider 'gmale' is not in providers.yaml" in error.reason


def test_bad_enhanced_code_and_reply_code(data_root: Path) -> None:
    """An enhanced code must look like 5.7.8 and a reply code lie in 200..599."""
    _edit_list(data_root, "replies.yaml", 0, enhanced="5.7")
    assert "must look like 5.7.8" in _error(data_root).reason
    _edit_list(data_root, "replies.yaml", 0, enhanced="5.7.9", code=999)
    assert "between 200 and 599" in _error(data_root).reason


def test_bad_enumerations(data_root: Path) -> None:
    """app_password and oauth take only their documented values."""
    _edit_list(data_root, "providers.yaml", 2, oauth="maybe")
    error = _error(data_root)
    assert error.entry == "microsoft365"
    assert "'oauth' must be one of" in error.reason


def test_missing_file(data_root: Path) -> None:
    """A missing data file is named."""
    (data_root / "clients.yaml").unlink()
    error = _error(data_root)
    assert (error.source, error.reason) == ("clients.yaml", "file is missing")


def test_error_message_names_file_and_entry(data_root: Path) -> None:
    """The exception text itself reads '<file> [<entry>]: <reason>'."""
    _edit_list(data_root, "replies.yaml", 0, provider="gmale")
    assert str(_error(data_root)).startswith("replies.yaml [gmail-app-password-required]: ")


@pytest.mark.skipif(
    not (DEFAULT_ROOT / "providers.yaml").exists(), reason="the real data has not landed yet"
)
def test_real_data_loads_and_is_cached() -> None:
    """The shipped knowledge base validates, and get_knowledge() loads it once."""
    kb = get_knowledge()
    assert kb is get_knowledge()
    assert len(kb.providers) >= 12
    assert len(kb.replies) >= 30


_LIST_CASES = [
    ("providers.yaml", {"submission": []}, "'submission' must be a non-empty list"),
    (
        "providers.yaml",
        {"submission": [{"host": "smtp", "port": 587, "security": "tls"}]},
        "not a host name",
    ),
    ("providers.yaml", {"links": ["ftp://example.com"]}, "not an http(s) URL"),
    ("providers.yaml", {"domains": "gmail.com"}, "'domains' must be a list, not str"),
    ("providers.yaml", {"id": "Gmail"}, "lower-case letters, digits and dashes"),
    ("providers.yaml", {"name": 7}, "'name' must be text, not int"),
    ("replies.yaml", {"articles": []}, "'articles' needs at least 1 item(s)"),
    ("replies.yaml", {"pattern": "a" * 801}, "longer than 800 characters"),
    ("clients.yaml", {"id": "gmail"}, "also a provider id"),
]


@pytest.mark.parametrize(("name", "changes", "reason"), _LIST_CASES)
def test_each_list_entry_problem_has_its_own_reason(
    data_root: Path, name: str, changes: dict[str, Any], reason: str
) -> None:
    """Every list-entry check raises a KnowledgeError whose reason says which rule failed."""
    _edit_list(data_root, name, 0, **changes)
    assert reason in _error(data_root).reason


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"variants": ["gmail"]}, "'variants' must be a mapping"),
        ({"variants": {1: {"steps": ["x"]}}}, "'variants' key 1 must be"),
        ({"variants": {"gmail": {"steps": []}}}, "needs at least 1 item(s)"),
        ({"variants": {"gmail": "step"}}, "must be a mapping of fields, not str"),
    ],
)
def test_each_variant_problem_has_its_own_reason(
    data_root: Path, changes: dict[str, Any], reason: str
) -> None:
    """Malformed article variants are refused with a reason naming the rule."""
    _edit_article(data_root, "app-passwords", **changes)
    assert reason in _error(data_root).reason


def test_file_and_folder_problems_have_their_own_reasons(data_root: Path) -> None:
    """A list file that is not a list, and an empty or missing article folder, are named."""
    (data_root / "clients.yaml").write_text("id: outlook\n")
    assert _error(data_root).reason == "must be a list of entries"
    for path in (data_root / "articles").glob("*.yaml"):
        path.unlink()
    assert _error(data_root).reason == "holds no article"
    (data_root / "articles").rmdir()
    assert _error(data_root).reason == "folder is missing"


def _edit_findings(root: Path, edit: Callable[[dict[str, Any]], None]) -> None:
    path = root / "findings.yaml"
    data = yaml.safe_load(path.read_text())
    edit(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_findings_load_with_port_twins_and_aliases(kb: KnowledgeBase) -> None:
    """Findings and outcomes load as frozen wordings; twins by port, aliases share the object."""
    timeout = kb.findings["connect_timeout"]
    assert timeout.articles == ("firewall-antivirus", "ports-and-encryption")
    assert timeout.on_port(25).articles == ("port-25-blocked",)
    assert timeout.on_port(587) is timeout
    assert kb.outcomes["connect_error"] is timeout
    assert kb.outcomes["authenticated"].ports == {}
    with pytest.raises(AttributeError):
        timeout.summary = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        kb.findings["new"] = timeout  # type: ignore[index]


_FINDINGS_CASES: list[tuple[Callable[[dict[str, Any]], None], str | None, str]] = [
    (
        lambda d: d["findings"]["auth_rejected"].update(summary="{user} was refused."),
        "findings.auth_rejected",
        "names {user}; the template fields are {host} {mechanism} {offered} {port} {security}",
    ),
    (
        lambda d: d["findings"]["auth_rejected"].update(cause="Refused by {host!r}."),
        "findings.auth_rejected",
        "'cause' names {host}",
    ),
    (
        lambda d: d["findings"]["auth_rejected"].update(next_steps=["Try {port:>5}."]),
        "findings.auth_rejected",
        "'next_steps[0]' names {port}",
    ),
    (
        lambda d: d["findings"]["auth_rejected"].update(summary="{host.__class__} refused."),
        "findings.auth_rejected",
        "names {host.__class__}",
    ),
    (
        lambda d: d["findings"]["auth_rejected"].update(summary="Refused {host."),
        "findings.auth_rejected",
        "'summary' is not a valid template",
    ),
    (
        lambda d: d["findings"]["auth_rejected"].update(why="because"),
        "findings.auth_rejected",
        "unknown field(s): why",
    ),
    (
        lambda d: d["findings"]["connect_timeout"]["ports"][25].update(ports={}),
        "findings.connect_timeout.ports.25",
        "unknown field(s): ports",
    ),
    (
        lambda d: d["outcomes"]["authenticated"].update(ports={25: {}}),
        "outcomes.authenticated",
        "unknown field(s): ports",
    ),
    (
        lambda d: d["findings"]["auth_rejected"].pop("cause"),
        "findings.auth_rejected",
        "missing field 'cause'",
    ),
    (
        lambda d: d["findings"]["auth_rejected"].update(articles=["no-such-article"]),
        "findings.auth_rejected",
        "article id 'no-such-article' does not exist",
    ),
    (
        lambda d: d["findings"]["connect_timeout"]["ports"][25].update(articles=["nope"]),
        "findings.connect_timeout.ports.25",
        "article id 'nope' does not exist",
    ),
    (
        lambda d: d["findings"]["connect_timeout"]["ports"].update({70000: {}}),
        "findings.connect_timeout",
        "'ports.70000' must be between 1 and 65535",
    ),
    (
        lambda d: d["outcomes"].update(timeout={"finding": "deadline_exceeded"}),
        "outcomes.timeout",
        "'finding' 'deadline_exceeded' is not a key under findings",
    ),
    (
        lambda d: d["outcomes"].update(timeout={"finding": "auth_rejected", "summary": "x"}),
        "outcomes.timeout",
        "unknown field(s): summary",
    ),
    (
        lambda d: d["findings"].update({"Auth-Rejected": d["findings"]["auth_rejected"]}),
        "findings.Auth-Rejected",
        "key must be a lower-case value",
    ),
    (lambda d: d.update(results={}), None, "unknown section(s): results"),
    (lambda d: d.pop("outcomes"), None, "'outcomes' must be a non-empty mapping"),
]


@pytest.mark.parametrize(("edit", "entry", "reason"), _FINDINGS_CASES)
def test_each_findings_problem_has_its_own_reason(
    data_root: Path, edit: Callable[[dict[str, Any]], None], entry: str | None, reason: str
) -> None:
    """Bad wording data is refused with the entry named and a reason naming the rule."""
    _edit_findings(data_root, edit)
    error = _error(data_root)
    assert (error.source, error.entry) == ("findings.yaml", entry)
    assert reason in error.reason


def test_findings_file_problems(data_root: Path) -> None:
    """A findings file that is missing or not a mapping is named."""
    path = data_root / "findings.yaml"
    path.write_text("- connect_timeout\n")
    assert _error(data_root).reason == "must be a mapping with findings and outcomes"
    path.unlink()
    assert _error(data_root).reason == "file is missing"


# -- faq.yaml ----------------------------------------------------------------------------


def test_every_shipped_article_has_a_written_question() -> None:
    """FAQ labels are data: each article asks a question that fits a button and says
    who can fix it."""
    from knowledge import get_knowledge
    from knowledge.model import FixedBy

    kb = get_knowledge()
    assert set(kb.faq) == set(kb.articles)
    for entry in kb.faq.values():
        assert entry.question.endswith("?") and len(entry.question) <= 75
        assert entry.fixed_by in set(FixedBy)
    assert kb.faq["m365-smtp-auth-disabled"].fixed_by is FixedBy.ADMIN


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("no-such-article: {question: 'Why?', fixed_by: user}", "no article has this id"),
        ("{article}: {question: 'why is it broken?', fixed_by: user}", "capital letter"),
        ("{article}: {question: 'Why is it broken', fixed_by: user}", "end with '?'"),
        ("{article}: {question: 'W" + "y" * 80 + "?', fixed_by: user}", "a button shows 75"),
        ("{article}: {question: 'Why?', fixed_by: nobody}", "'fixed_by' must be one of"),
        ("{article}: {question: 'Why?'}", "missing field 'fixed_by'"),
        ("{article}: {question: 'Why?', fixed_by: user, extra: 1}", "unknown field(s): extra"),
    ],
)
def test_bad_faq_entries_are_refused_with_their_reason(
    tmp_path: Path, entry: str, reason: str
) -> None:
    """Each faq.yaml rule has its own clear reason naming the file and entry."""
    import shutil

    from knowledge.loader import DEFAULT_ROOT, load_knowledge

    root = tmp_path / "data"
    shutil.copytree(DEFAULT_ROOT, root)
    (root / "faq.yaml").write_text(entry.replace("{article}", "app-passwords") + "\n")
    with pytest.raises(KnowledgeError) as raised:
        load_knowledge(root)
    assert raised.value.source == "faq.yaml" and reason in str(raised.value)


# -- asked.yaml --------------------------------------------------------------------------

_ASKED_OK = "{article: app-passwords, question: 'gmail wont take my pasword', source: 'https://example.org/t/1'}"


def test_asked_questions_are_appended_to_their_article(data_root: Path) -> None:
    """Each asked.yaml question joins its article's questions, after the written ones."""
    before = load_knowledge(data_root, index=False).articles["app-passwords"].questions
    (data_root / "asked.yaml").write_text(f"- {_ASKED_OK}\n")
    after = load_knowledge(data_root, index=False).articles
    assert after["app-passwords"].questions == (*before, "gmail wont take my pasword")
    assert (
        after["reset-password"] == load_knowledge(data_root, index=False).articles["reset-password"]
    )


@pytest.mark.parametrize(
    ("entries", "entry", "reason"),
    [
        (
            ["{article: no-such, question: 'why?', source: 'https://example.org/t/2'}"],
            "#0",
            "article id 'no-such' does not exist",
        ),
        (
            ["{article: app-passwords, question: '  ', source: 'https://example.org/t/2'}"],
            "#0",
            "'question' is empty",
        ),
        (
            [_ASKED_OK, _ASKED_OK.replace("pasword", "PASWORD ")],
            "#1",
            "duplicate question (also in #0)",
        ),
        (
            [
                "{article: app-passwords, question: 'How do I create an APP password',"
                " source: 'https://example.org/t/3'}"
            ],
            "#0",
            "duplicate question (also in articles/app-passwords)",
        ),
        (["{article: app-passwords, question: 'why?'}"], "#0", "missing field 'source'"),
        (
            ["{article: app-passwords, question: 'why?', source: 'forum thread'}"],
            "#0",
            "is not an http(s) URL",
        ),
        (
            ["{article: app-passwords, question: 'why?', source: 'https://a.b/c', ok: 1}"],
            "#0",
            "unknown field(s): ok",
        ),
    ],
)
def test_bad_asked_entries_are_refused_with_their_reason(
    data_root: Path, entries: list[str], entry: str, reason: str
) -> None:
    """Unknown article, empty text, duplicate, missing or bad source: one clear error each,
    naming asked.yaml and the entry."""
    (data_root / "asked.yaml").write_text("".join(f"- {line}\n" for line in entries))
    error = _error(data_root)
    assert (error.source, error.entry) == ("asked.yaml", entry)
    assert reason in error.reason


def test_asked_file_must_be_a_list(data_root: Path) -> None:
    (data_root / "asked.yaml").write_text("app-passwords: why?\n")
    error = _error(data_root)
    assert (error.source, error.reason) == ("asked.yaml", "must be a list of entries")
