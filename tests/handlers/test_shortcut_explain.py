"""The Explain shortcut's text: cut pastes are named, 'nothing found' fits the paste."""

from __future__ import annotations

from bot import messages
from handlers.shortcuts import explanation
from knowledge import get_knowledge
from knowledge.paste import MAX_INPUT


def test_cut_paste_is_named_first() -> None:
    """A message longer than explain reads starts with the notice, then the explanation."""
    kb = get_knowledge()
    text = "535 5.7.8 Username and Password not accepted - gsmtp\n" + "x\n" * MAX_INPUT
    reply = explanation(kb, text)
    assert reply.startswith("_That paste was long, so I read only its beginning and its end")
    assert "first 5,000 and last 15,000 characters, at most 100 replies" in reply
    assert "535" in reply


def test_unknown_code_is_not_asked_for_again() -> None:
    """With a reply code present but unknown, the reply does not ask for the full error."""
    kb = get_knowledge()
    assert explanation(kb, "452 4.3.1 Insufficient system storage") == (
        messages.EXPLAIN_NOTHING_WITH_CODE
    )
    assert explanation(kb, "lunch at noon?") == messages.EXPLAIN_NOTHING
