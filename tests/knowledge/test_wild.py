"""wild.yaml is tuning material: real pastes from threads outside the corpus and its split.

Like ``asked.yaml`` (see ``test_asked.py``), every wild source must hash into the dev
range of the corpus split rule and must not be a thread of ``dev.yaml``, ``test.yaml``
or ``asked.yaml`` in any URL spelling, so that tuning on wild can never touch a held-out
thread. ``test.yaml`` is read for its ``source`` fields only; failures report counts,
never items.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml

from knowledge import KnowledgeBase
from knowledge.asked import ASKED_FILE
from knowledge.evaluation import REAL_ROOT, ItemKind, Split, load_real
from knowledge.loader import DEFAULT_ROOT
from tests.knowledge.test_asked import HELD_OUT_BELOW, thread_key

WILD_FILE = REAL_ROOT / "wild.yaml"


def _split_hash(source: str) -> int:
    # the corpus split rule (eval/real/README.md), not a security use
    return int(hashlib.sha1(source.encode()).hexdigest(), 16) % 100  # noqa: S324


def _sources(path: Path) -> list[str]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return [str(item["source"]) for item in data if isinstance(item, dict) and "source" in item]


def test_wild_sources_are_never_held_out_or_other_corpus_threads() -> None:
    wild = _sources(WILD_FILE)
    assert len(wild) >= 40
    held_out = sum(_split_hash(source) < HELD_OUT_BELOW for source in wild)
    others = {
        thread_key(s)
        for path in (REAL_ROOT / "dev.yaml", REAL_ROOT / "test.yaml", DEFAULT_ROOT / ASKED_FILE)
        for s in _sources(path)
    }
    shared = sum(thread_key(source) in others for source in wild)
    assert (held_out, shared) == (0, 0), (
        f"{held_out} wild source(s) hash into the held-out split and {shared} are threads of "
        "dev.yaml, test.yaml or asked.yaml; use other threads"
    )


def test_wild_threads_are_each_used_once() -> None:
    """One paste per thread: a thread pasted twice would count its wording double."""
    keys = [thread_key(source) for source in _sources(WILD_FILE)]
    assert len(keys) == len(set(keys))


def test_wild_loads_as_pastes_with_known_articles(real_kb: KnowledgeBase) -> None:
    """The evaluation loader reads it like dev (every field, known article ids); it holds
    pastes only, so its explain column is meaningful and its ask rows stay empty."""
    items = load_real(real_kb, Split.WILD)
    assert len(items) >= 40
    assert {item.kind for item in items} == {ItemKind.ERROR}
