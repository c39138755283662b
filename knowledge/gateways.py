"""``data/discovery.yaml``: discovery's wording and the filtering gateways, validated."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

from bot.errors import KnowledgeError
from knowledge.directory import glob_matches
from knowledge.entries import HOST, Entry, read_yaml
from knowledge.model import DiscoveryWording, Gateway, Problem

DISCOVERY_FILE: Final = "discovery.yaml"
TOP_FIELDS: Final = frozenset({"notes", "problems", "gateway", "gateways"})
NOTE_FIELDS: Final = frozenset({"oauth_only", "plaintext_only"})
GATEWAY_LINES: Final = ("hidden", "settings", "ask")
GATEWAY_FIELDS: Final = frozenset({"id", "name", "mx"})
_PLACEHOLDERS: Final = {"domain": "x", "provider": "x", "gateway": "x"}


def _template(entry: Entry, name: str, *, gateway: bool = False) -> str:
    text = entry.text(name)
    allowed = dict(_PLACEHOLDERS) if gateway else {"domain": "x", "provider": "x"}
    try:
        text.format(**allowed)
    except (KeyError, IndexError, ValueError) as exc:
        entry.fail(f"'{name}' may only name {{{'}, {'.join(allowed)}}} ({exc})")
    return text


def load_discovery(root: Path) -> tuple[tuple[Gateway, ...], DiscoveryWording]:
    path = root / DISCOVERY_FILE
    if not path.is_file():
        raise KnowledgeError(source=DISCOVERY_FILE, entry=None, reason="file is missing")
    top = Entry(DISCOVERY_FILE, "#file", read_yaml(path, DISCOVERY_FILE), TOP_FIELDS)
    notes = Entry(DISCOVERY_FILE, "notes", top.require("notes"), NOTE_FIELDS)
    problems = Entry(
        DISCOVERY_FILE, "problems", top.require("problems"), frozenset(p.value for p in Problem)
    )
    said = Entry(DISCOVERY_FILE, "gateway", top.require("gateway"), frozenset(GATEWAY_LINES))
    wording = DiscoveryWording(
        oauth_only=_template(notes, "oauth_only"),
        plaintext_only=_template(notes, "plaintext_only"),
        problems={p.value: _template(problems, p.value) for p in Problem},
        gateway=tuple(_template(said, name, gateway=True) for name in GATEWAY_LINES),
    )
    raw = top.require("gateways")
    if not isinstance(raw, list) or not raw:
        top.fail("'gateways' must be a non-empty list of {id, name, mx}")
    gateways: dict[str, Gateway] = {}
    for index, item in enumerate(raw):
        entry = Entry(DISCOVERY_FILE, f"gateways#{index}", item, GATEWAY_FIELDS)
        globs = tuple(glob.lower() for glob in entry.texts("mx", min_items=1))
        for glob in globs:
            if not glob.startswith("*.") or not HOST.fullmatch(glob[2:]) or "." not in glob[2:]:
                entry.fail(f"'mx' glob {glob!r} must look like *.example.com")
        gateway = Gateway(id=entry.ident(), name=entry.text("name"), mx=globs)
        if gateway.id in gateways:
            entry.fail("duplicate id")
        gateways[gateway.id] = gateway
    return tuple(gateways.values()), wording


def gateway_for_mx(gateways: Sequence[Gateway], mx_host: str) -> Gateway | None:
    """The gateway an MX host belongs to (``*.x.com`` also matches ``x.com`` itself)."""
    host = mx_host.lower().rstrip(".")
    for gateway in gateways:
        for glob in gateway.mx:
            if glob_matches(host, glob) or host == glob[2:]:
                return gateway
    return None
