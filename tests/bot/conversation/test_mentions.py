"""The conversation reads a message with knowledge.mentions: the same names as the search."""

from __future__ import annotations

from bot.conversation.context import observe
from knowledge import get_knowledge, search
from knowledge.mentions import find_mentions


def test_observe_and_search_name_the_same_provider_and_client() -> None:
    """One copy of the detection: observe, find_mentions and search agree."""
    kb = get_knowledge()
    for text in (
        "I send from bob@qq.com with thunderbird",
        "my iphone will not send through smtp.163.com",
        "网易邮箱 on my samsung phone",
        "outlook 2019 and gmail",
    ):
        seen = observe(kb, text)
        found = find_mentions(kb, text)
        result = search(kb, text)
        assert (seen.provider, seen.client) == (found.provider, found.client), text
        assert (result.provider, result.client) == (found.provider, found.client), text
        assert seen.provider is not None and seen.client is not None, text


def test_a_word_containing_a_name_is_not_that_name() -> None:
    """ "kiosk" holds "ios" but names no client, and is a question, not a set-up."""
    kb = get_knowledge()
    assert observe(kb, "the kiosk in our lobby cannot send mail").client is None
    assert observe(kb, "I use gmail").setup_only
    assert not observe(kb, "the kiosk in our lobby cannot send mail").setup_only
