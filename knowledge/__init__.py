"""The knowledge base and its engines: load, search, explain, discover.

Imports neither Slack nor the probe; usable from the CLI, the bot and tests alike.
"""

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
