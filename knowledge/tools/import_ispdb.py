"""Convert Thunderbird's ISPDB (``thunderbird/autoconfig``, MPL-2.0) into ``data/ispdb.json``.

Usage::

    python -m knowledge.tools.import_ispdb PATH [--commit SHA] [--output FILE]

``PATH`` is a checkout of the repository (its ``ispdb/`` folder is read), a folder of
config-v1.1 ``*.xml`` files, or a bare git directory (read at ``--commit``, default
``HEAD``, with ``git show``). The commit is stored in the output so the data says
exactly what it was made from; a plain folder needs ``--commit``.

Only what smtpcheck uses is kept: per provider its id, display name, every
``<domain>`` (with the ones that follow an "MX" comment marked as MX hints) and
every ``<outgoingServer type="smtp">``: host, port, security (``tls`` for SSL,
``starttls``, ``none`` for plain), username template and authentication methods.
The output is deterministic (sorted, fixed formatting) so a refresh diff shows
only what changed upstream. The input is trusted local data, but it is parsed
with defusedxml all the same (no entities, no external references).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET  # types only; parsing goes through defusedxml
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Final

import defusedxml.ElementTree as SafeET

DEFAULT_OUTPUT: Final = Path(__file__).resolve().parent.parent / "data" / "ispdb.json"
REPOSITORY: Final = "https://github.com/thunderbird/autoconfig"
FORMAT: Final = 1
SOCKET_TYPES: Final = {"SSL": "tls", "STARTTLS": "starttls", "plain": "none"}
_COMMIT: Final = re.compile(r"[0-9a-f]{40}")
_MX_COMMENT: Final = re.compile(r"\bMX\b")


class ImportError_(Exception):
    """The input cannot be converted; the message says which file and why."""


def read_sources(path: Path, commit: str | None) -> tuple[str, list[tuple[str, bytes]]]:
    """``(commit, [(file name, bytes)])`` from a checkout, a folder or a bare git dir."""
    if (path / "objects").is_dir() and (path / "HEAD").is_file():
        return _from_git(path, commit or "HEAD")
    folder = path / "ispdb" if (path / "ispdb").is_dir() else path
    files = sorted(folder.glob("*.xml"))
    if not files:
        raise ImportError_(f"{path}: no ispdb/*.xml files found")
    if commit is None and (path / ".git").exists():
        commit = _git(["-C", str(path), "rev-parse", "HEAD"]).decode().strip()
    if commit is None or not _COMMIT.fullmatch(commit):
        raise ImportError_("give the source commit (40 hex digits) with --commit")
    return commit, [(f.name, f.read_bytes()) for f in files]


def _git(args: Sequence[str]) -> bytes:
    try:
        return subprocess.run(["git", *args], check=True, capture_output=True).stdout  # noqa: S603, S607
    except (OSError, subprocess.CalledProcessError) as exc:
        raise ImportError_(f"git {' '.join(args)} failed: {exc}") from None


def _from_git(git_dir: Path, rev: str) -> tuple[str, list[tuple[str, bytes]]]:
    base = ["--git-dir", str(git_dir)]
    commit = _git([*base, "rev-parse", "--verify", f"{rev}^{{commit}}"]).decode().strip()
    names = _git([*base, "ls-tree", "--name-only", commit, "ispdb/"]).decode().split("\n")
    files = sorted(n for n in names if n.endswith(".xml"))
    if not files:
        raise ImportError_(f"{git_dir}: no ispdb/*.xml files at {commit}")
    return commit, [(Path(n).name, _git([*base, "show", f"{commit}:{n}"])) for n in files]


def _text(element: ET.Element, tag: str) -> str | None:
    found = element.find(tag)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def _domains(provider: ET.Element) -> Iterator[tuple[str, bool]]:
    """Each ``<domain>`` and whether an "MX" comment introduced it."""
    mx_run = False
    for child in provider:
        if not isinstance(child.tag, str):  # a comment (its tag is the ET.Comment factory)
            mx_run = bool(_MX_COMMENT.search(child.text or ""))
        elif child.tag == "domain":
            if child.text and child.text.strip():
                yield child.text.strip().lower().rstrip("."), mx_run
        else:
            mx_run = False


def _servers(name: str, provider: ET.Element) -> list[dict[str, Any]]:
    servers = []
    for server in provider.iter("outgoingServer"):
        if server.get("type") != "smtp":
            continue
        host, port, socket_type = (_text(server, t) for t in ("hostname", "port", "socketType"))
        if not host or not port or not port.isdigit() or socket_type not in SOCKET_TYPES:
            raise ImportError_(f"{name}: an smtp server lacks hostname, port or socketType")
        auth = [a.text.strip() for a in server.iter("authentication") if a.text and a.text.strip()]
        servers.append(
            {
                # Lower case, but a %EMAILDOMAIN% template stays recognisable.
                "host": host.lower().rstrip(".").replace("%emaildomain%", "%EMAILDOMAIN%"),
                "port": int(port),
                "security": SOCKET_TYPES[socket_type],
                "username": _text(server, "username") or "",
                "auth": auth,
            }
        )
    return servers


def convert_file(name: str, data: bytes) -> dict[str, Any] | None:
    """One config-v1.1 document as a provider entry; None when it has no SMTP server."""
    parser = SafeET.DefusedXMLParser(target=ET.TreeBuilder(insert_comments=True))
    try:
        parser.feed(data)
        root = parser.close()
    except (ET.ParseError, ValueError) as exc:  # defusedxml's refusals are ValueErrors
        raise ImportError_(f"{name}: not a valid config-v1.1 document: {exc}") from None
    provider = root.find("emailProvider")
    if root.tag != "clientConfig" or provider is None:
        raise ImportError_(f"{name}: no <clientConfig><emailProvider>")
    domains: dict[str, bool] = {}
    for domain, is_mx in _domains(provider):
        domains[domain] = domains.get(domain, False) or is_mx
    servers = _servers(name, provider)
    if not domains or not servers:
        return None
    return {
        # The file name, not emailProvider/@id: six Zoho regions share id="zoho.com".
        "id": name.removesuffix(".xml").lower(),
        "name": _text(provider, "displayName") or _text(provider, "displayShortName") or "",
        "domains": sorted(domains),  # Thunderbird looks every one up, MX hints too
        "mx": sorted(d for d, mx in domains.items() if mx),
        "smtp": servers,
    }


def convert(commit: str, files: Iterable[tuple[str, bytes]]) -> dict[str, Any]:
    providers: dict[str, dict[str, Any]] = {}
    for name, data in files:
        entry = convert_file(name, data)
        if entry is None:
            continue
        if entry["id"] in providers:
            raise ImportError_(f"{name}: provider id {entry['id']!r} appears twice")
        providers[entry["id"]] = entry
    return {
        "format": FORMAT,
        "source": {"repository": REPOSITORY, "commit": commit, "license": "MPL-2.0"},
        "providers": [providers[key] for key in sorted(providers)],
    }


def dump(document: dict[str, Any]) -> str:
    """Stable text: one provider per line, keys sorted, so diffs read line by line."""
    head = {k: v for k, v in document.items() if k != "providers"}
    lines = [json.dumps(p, sort_keys=True, ensure_ascii=False) for p in document["providers"]]
    body = ",\n".join("  " + line for line in lines)
    opening = json.dumps(head, sort_keys=True, ensure_ascii=False)[:-1]
    return f'{opening}, "providers": [\n{body}\n]}}\n'


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="import_ispdb", description=__doc__.split("\n")[0])
    parser.add_argument("path", type=Path, help="checkout, folder of *.xml, or bare git dir")
    parser.add_argument("--commit", help="source commit (default: the checkout's HEAD)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = parser.parse_args(argv)
    try:
        commit, files = read_sources(args.path, args.commit)
        document = convert(commit, files)
    except ImportError_ as exc:
        print(f"import_ispdb: {exc}", file=sys.stderr)
        return 2
    args.output.write_text(dump(document), encoding="utf-8")
    count = sum(len(p["domains"]) for p in document["providers"])
    print(f"{len(document['providers'])} providers, {count} domains, commit {commit}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
