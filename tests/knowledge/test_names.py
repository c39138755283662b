"""Provider and client names found in text (knowledge.names), shared by search and chat."""

from __future__ import annotations

from knowledge import get_knowledge, search
from knowledge.names import first_phrase, phrase_index, provider_names
from knowledge.text import tokens


def test_provider_names_drop_the_distinguishing_part() -> None:
    """The bracketed or dashed part of a display name is not a name people type."""
    assert provider_names("Outlook.com / Hotmail") == ["Outlook.com ", " Hotmail"]
    assert provider_names("Zoho Mail (EU data centre)") == ["Zoho Mail  "]


def test_first_id_wins_an_equal_phrase_and_longest_wins_a_position() -> None:
    """Two ids with the same phrase: the data's first; at one position: the longest phrase."""
    index = phrase_index([("zoho", ["zoho"]), ("zoho-in", ["zoho"]), ("m365", ["exchange online"])])
    assert first_phrase(index, tokens("my zoho box")) == "zoho"
    assert first_phrase(index, tokens("exchange online")) == "m365"


def test_used_positions_are_marked() -> None:
    """With ``used``, every phrase found marks its word positions."""
    index = phrase_index([("gmail", ["gmail"]), ("outlook", ["outlook"])])
    used: set[int] = set()
    assert first_phrase(index, ["gmail", "in", "outlook"], used) == "gmail"
    assert used == {0, 2}


def test_search_names_the_provider_not_a_sibling_by_domain() -> None:
    """Naming zoho means Zoho, not Zoho India: a domain like zoho.in is not a name phrase."""
    result = search(get_knowledge(), "zoho mail will not send")
    assert result.provider == "zoho"
