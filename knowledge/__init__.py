"""The knowledge base and its engines: load, search, explain, discover.

Imports neither Slack nor the probe; usable from the CLI, the bot and tests alike.

``search`` and ``CONFIDENCE_FLOOR`` (numpy, BM25: over a third of this package's import
time) load on first use, so a one-shot ``smtpcheck discover`` never pays for them.
"""

import sys
import types
from importlib import import_module
from typing import TYPE_CHECKING, Any

from knowledge.discover import discover_settings, provider_for_domain, provider_for_host
from knowledge.explain import explain_reply
from knowledge.loader import get_knowledge, load_knowledge
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

if TYPE_CHECKING:
    from knowledge.search import CONFIDENCE_FLOOR, search

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

_LAZY = frozenset({"search", "CONFIDENCE_FLOOR"})  # from knowledge.search


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module("knowledge.search"), name)
        globals()[name] = value  # the next lookup is a plain module attribute
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Package(types.ModuleType):
    """Keeps ``knowledge.search`` the function, as the eager import always made it.

    Importing the submodule ``knowledge.search`` binds it on the package under the same
    name; without this, whichever code imported the submodule first would turn
    ``from knowledge import search`` into the module.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "search" and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
