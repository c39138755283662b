"""``findings.yaml``: the wording of every live-check finding and outcome, validated."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from bot.errors import KnowledgeError
from knowledge.entries import Entry, read_yaml
from knowledge.model import (
    TEMPLATE_FIELDS,
    Wording,
)

FINDINGS_FILE: Final = "findings.yaml"
FINDINGS_SECTIONS: Final = frozenset({"findings", "outcomes"})
WORDING_FIELDS: Final = frozenset({"summary", "cause", "articles", "next_steps"})
FINDING_FIELDS: Final = WORDING_FIELDS | {"ports"}
OUTCOME_ALIAS_FIELDS: Final = frozenset({"finding"})
_RESULT_KEY: Final = re.compile(r"[a-z][a-z0-9_]*")


def _check_template(entry: Entry, name: str, text: str) -> str:
    """``text`` if every ``{field}`` in it is a documented one, used plainly."""
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:  # a lone "{" or "}"
        entry.fail(f"'{name}' is not a valid template ({exc}); write a brace as {{{{ or }}}}")
    for _, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in TEMPLATE_FIELDS or spec or conversion:
            allowed = " ".join(f"{{{known}}}" for known in sorted(TEMPLATE_FIELDS))
            entry.fail(f"'{name}' names {{{field}}}; the template fields are {allowed}")
    return text


def _parse_wording(entry: Entry, ports: Mapping[int, Wording]) -> Wording:
    for name in WORDING_FIELDS:
        entry.require(name)
    return Wording(
        summary=_check_template(entry, "summary", entry.text("summary")),
        cause=_check_template(entry, "cause", entry.text("cause")),
        articles=entry.texts("articles", min_items=1),
        next_steps=tuple(
            _check_template(entry, f"next_steps[{i}]", step)
            for i, step in enumerate(entry.texts("next_steps", min_items=1))
        ),
        ports=MappingProxyType(dict(ports)),
    )


def _parse_finding(key: str, data: object) -> Wording:
    entry = Entry(FINDINGS_FILE, f"findings.{key}", data, FINDING_FIELDS)
    raw_ports = entry.data.get("ports") or {}
    if not isinstance(raw_ports, dict):
        entry.fail("'ports' must be a mapping of port number to {summary, cause, ...}")
    ports: dict[int, Wording] = {}
    for port, twin in raw_ports.items():
        number = entry.integer(f"ports.{port}", port, 1, 65535)
        twin_entry = Entry(FINDINGS_FILE, f"findings.{key}.ports.{number}", twin, WORDING_FIELDS)
        ports[number] = _parse_wording(twin_entry, {})
    return _parse_wording(entry, ports)


def _section(data: Mapping[Any, Any], name: str) -> dict[str, object]:
    raw = data.get(name)
    if not isinstance(raw, dict) or not raw:
        raise KnowledgeError(
            source=FINDINGS_FILE, entry=None, reason=f"'{name}' must be a non-empty mapping"
        )
    for key in raw:
        if not isinstance(key, str) or not _RESULT_KEY.fullmatch(key):
            raise KnowledgeError(
                source=FINDINGS_FILE,
                entry=f"{name}.{key}",
                reason="key must be a lower-case value like 'auth_rejected'",
            )
    return raw


def load_findings(root: Path) -> tuple[dict[str, Wording], dict[str, Wording]]:
    """The wording of live-check results: (by finding value, by outcome value)."""
    path = root / FINDINGS_FILE
    if not path.is_file():
        raise KnowledgeError(source=FINDINGS_FILE, entry=None, reason="file is missing")
    data = read_yaml(path, FINDINGS_FILE)
    if not isinstance(data, dict):
        raise KnowledgeError(
            source=FINDINGS_FILE, entry=None, reason="must be a mapping with findings and outcomes"
        )
    extra = sorted(str(key) for key in data if key not in FINDINGS_SECTIONS)
    if extra:
        raise KnowledgeError(
            source=FINDINGS_FILE, entry=None, reason=f"unknown section(s): {', '.join(extra)}"
        )
    findings = {key: _parse_finding(key, raw) for key, raw in _section(data, "findings").items()}
    outcomes: dict[str, Wording] = {}
    for key, raw in _section(data, "outcomes").items():
        if isinstance(raw, dict) and "finding" in raw:
            alias = Entry(FINDINGS_FILE, f"outcomes.{key}", raw, OUTCOME_ALIAS_FIELDS)
            target = alias.text("finding")
            if target not in findings:
                alias.fail(f"'finding' {target!r} is not a key under findings")
            outcomes[key] = findings[target]
        else:
            outcomes[key] = _parse_wording(
                Entry(FINDINGS_FILE, f"outcomes.{key}", raw, WORDING_FIELDS), {}
            )
    return findings, outcomes
