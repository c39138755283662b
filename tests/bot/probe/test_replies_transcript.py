"""Server text is cleaned and bounded; the transcript never holds credentials."""

from __future__ import annotations

from bot.probe.replies import MAX_REPLY_TEXT, clean_text, parse_reply
from bot.probe.transcript import Transcript


def test_enhanced_code_is_split_from_multiline_text() -> None:
    """Gmail-style multi-line 535: enhanced code parsed once, lines joined into one text."""
    reply = parse_reply(
        535,
        "5.7.8 Username and Password not accepted. Learn more at\n"
        "5.7.8  https://support.google.com/mail/?p=BadCredentials x1-2.gsmtp",
    )
    assert (reply.code, reply.enhanced) == (535, "5.7.8")
    assert reply.text.startswith("Username and Password not accepted. Learn more at https://")
    assert "5.7.8" not in reply.text


def test_control_and_format_characters_are_removed_and_length_bounded() -> None:
    """ESC, NUL, bidi overrides and lone surrogates go; text is cut to the bound."""
    text = clean_text("a\x1b[31mb\x00c\u202ed\udcff" + "x" * 2000)
    assert "\x1b" not in text and "\x00" not in text and "\u202e" not in text
    assert "\udcff" not in text
    assert len(text) == MAX_REPLY_TEXT and text.endswith("…")


def test_auth_exchange_is_redacted() -> None:
    """AUTH PLAIN shows no blob; LOGIN username and password lines are left out entirely."""
    secrets: list[str] = []
    transcript = Transcript(secrets)
    transcript.encrypted = True
    transcript.client((b"AUTH", b"PLAIN", b"AGFsaWNlAHNlY3JldA=="))
    transcript.server(535, "5.7.8 no")
    transcript.client((b"AUTH", b"LOGIN", b"YWxpY2U="))
    transcript.server(334, "UGFzc3dvcmQ6")
    transcript.client((b"c2VjcmV0",))
    transcript.server(235, "2.7.0 ok")
    transcript.client((b"QUIT",))
    assert transcript.lines == (
        " ~> AUTH PLAIN [credentials removed]",
        "<~  535 5.7.8 no",
        " ~> AUTH LOGIN [credentials removed]",
        "<~  334 UGFzc3dvcmQ6",
        "<~  235 2.7.0 ok",
        " ~> QUIT",
    )


def test_echoed_secret_is_scrubbed_from_server_lines() -> None:
    """A secret form registered with the transcript is replaced in anything the server says."""
    transcript = Transcript(["hunter2-secret"])
    transcript.server(535, "bad password hunter2-secret")
    assert transcript.lines == ("<-  535 bad password [removed]",)
