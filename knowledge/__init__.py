"""The knowledge base and its engines: load, search, explain, discover.

Imports neither Slack nor the probe; usable from the CLI, the bot and tests alike.
Names are loaded on first use (module ``__getattr__``), so ``explain`` does not
pay for the search index or the DNS resolver it never uses.
"""

from __future__ import annotations

import sys
import types
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from knowledge.default import get_knowledge
    from knowledge.discover import discover_settings, provider_for_domain, provider_for_host
    from knowledge.explain import explain_reply
    from knowledge.loader import load_knowledge
    from knowledge.model import (
        Answer,
        Article,
        Candidate,
        Client,
        Discovery,
        KnowledgeBase,
        Match,
        Provider,
        ReplyPattern,
        SearchResult,
        Submission,
    )
    from knowledge.search import CONFIDENCE_FLOOR, search

_MODEL = (
    "Answer Article Candidate Client Discovery KnowledgeBase Match Provider ReplyPattern "
    "SearchResult Submission"
)
_HOME: dict[str, str] = {
    **dict.fromkeys(_MODEL.split(), "knowledge.model"),
    "CONFIDENCE_FLOOR": "knowledge.search",
    "search": "knowledge.search",
    "discover_settings": "knowledge.discover",
    "provider_for_domain": "knowledge.discover",
    "provider_for_host": "knowledge.discover",
    "explain_reply": "knowledge.explain",
    "get_knowledge": "knowledge.default",
    "load_knowledge": "knowledge.loader",
}

__all__ = [
    "CONFIDENCE_FLOOR",
    "Answer",
    "Article",
    "Candidate",
    "Client",
    "Discovery",
    "KnowledgeBase",
    "Match",
    "Provider",
    "ReplyPattern",
    "SearchResult",
    "Submission",
    "discover_settings",
    "explain_reply",
    "get_knowledge",
    "load_knowledge",
    "provider_for_domain",
    "provider_for_host",
    "search",
]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value  # the next lookup is a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


class _Package(types.ModuleType):
    """Keeps ``knowledge.search`` the function when the submodule of that name loads.

    Importing ``knowledge.search`` makes Python set the package attribute ``search`` to
    the submodule; an eager ``__init__`` used to rebind it to the function afterwards.
    Loaded lazily, the package rebinds it here instead, so ``from knowledge import
    search`` is the function however the submodule was first imported.
    """

    def __setattr__(self, name: str, value: object) -> None:
        if name == "search" and isinstance(value, types.ModuleType):
            value = value.search
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
