"""The sign-in choice in the probe modal and the sign-in messages, as plain dicts and text."""

from __future__ import annotations

from bot.oauth.errors import Problem, ProviderError, SignInFailed
from bot.oauth.service import SignInPrompt
from bot.oauth.settings import Provider
from handlers.blocks import check, modal
from handlers.views import read_form


def test_sign_in_choice_sits_before_the_username_and_dispatches_nothing() -> None:
    """Password first (the default), then the providers offered; no dispatch_action."""
    view = modal.probe_modal(modal.Prefill(), origin_channel=None, sign_in=("microsoft",))
    ids = [b["block_id"] for b in view["blocks"] if b["type"] == "input"]
    assert ids == ["email", "host", "port", "security", "signin", "username", "password"]
    block = next(b for b in view["blocks"] if b.get("block_id") == "signin")
    element = block["element"]
    assert element["type"] == "radio_buttons" and "dispatch_action" not in block
    assert [o["value"] for o in element["options"]] == ["password", "microsoft"]
    assert element["initial_option"]["value"] == "password"


def test_read_form_reads_the_choice() -> None:
    """The radio button's selected option becomes the form's sign_in."""
    values = {
        "signin": {"value": {"type": "radio_buttons", "selected_option": {"value": "google"}}}
    }
    assert read_form({"state": {"values": values}}).sign_in == "google"


def test_device_prompt_shows_code_link_and_minutes() -> None:
    """The device code, the link and the lifetime, escaped for mrkdwn."""
    prompt = SignInPrompt(
        provider=Provider.MICROSOFT,
        link="https://microsoft.com/devicelogin",
        expires_in=900,
        user_code="ABCD-1234",
    )
    text = check.sign_in_prompt(prompt)
    assert "*ABCD-1234*" in text and "https://microsoft.com/devicelogin" in text
    assert "15 minutes" in text


def test_google_prompt_escapes_the_link() -> None:
    """An & in the sign-in URL is escaped inside the mrkdwn link."""
    prompt = SignInPrompt(
        provider=Provider.GOOGLE, link="https://accounts.example/auth?a=1&b=2", expires_in=600
    )
    assert "<https://accounts.example/auth?a=1&amp;b=2|" in check.sign_in_prompt(prompt)


def test_failed_sign_in_text_names_the_code_and_articles() -> None:
    """The reason, the AADSTS code and the titles to read."""
    failure = SignInFailed(Problem.CONDITIONAL_ACCESS, ProviderError("invalid_grant", "53003"))
    text = check.sign_in_failed(failure, ["Sign-in blocked by Conditional Access"])
    assert "Conditional Access" in text and "AADSTS53003" in text
    assert "Read more: Sign-in blocked by Conditional Access" in text
