"""The default knowledge base of a process: from the knowledge cache when it holds it,
else loaded from the data files (and written to the cache).

Kept apart from ``knowledge.loader`` so that a start served from the cache imports only
``knowledge.cache`` and the classes the pickle names (``knowledge.model`` ...), not the
loader's parsing and validation modules (PyYAML, entries, asked questions, ISPDB and
FAQ readers): those load on a cache miss only.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Final

from knowledge import cache

if TYPE_CHECKING:
    from knowledge.model import KnowledgeBase

DEFAULT_ROOT: Final = Path(__file__).resolve().parent / "data"


@functools.cache
def cache_key() -> str | None:
    """The fingerprint the default knowledge is cached under; None: no cache."""
    if cache.cache_dir() is None:
        return None
    try:
        return cache.fingerprint(DEFAULT_ROOT)
    except OSError:
        return None


@functools.cache
def _default_knowledge() -> KnowledgeBase:
    from knowledge.model import KnowledgeBase

    key = cache_key()
    kb = None if key is None else cache.load("knowledge", key, KnowledgeBase)
    if kb is None:
        from knowledge.loader import load_knowledge  # a cache miss: parse and validate

        kb = load_knowledge(index=False)
        if key is not None:
            cache.store("knowledge", key, kb)
    return kb


def get_knowledge(*, index: bool = True) -> KnowledgeBase:
    """The default knowledge base, loaded and validated once per process; with its
    search index built unless ``index=False`` (a later call with ``True`` builds it).

    Both come from the user's knowledge cache when it holds them for exactly these data
    files and sources (``knowledge.cache``), and are written there otherwise."""
    kb = _default_knowledge()
    if index:
        from knowledge.search import warm_up

        warm_up(kb, cache_key=cache_key())  # idempotent: the index is kept per knowledge base
    return kb
