"""Pure Block Kit builders and parsers: plain dict assertions, no Slack."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.checks.advice import Advice
from bot.errors import InputError
from bot.probe.model import Outcome, ProbeReport, Reply, Security, Stage, Status, StepResult
from bot.store import CheckRecord, CheckState
from handlers.blocks import check, kit, modal
from handlers.commands import classify
from handlers.views import origin_channel, read_form, reply_url
from knowledge.model import ArticleRef
from tests.support.harness import form_values

RECORD = CheckRecord(
    check_id="chk-1",
    user_id="U0ALICE",
    host="mail.example.com",
    port=587,
    security="starttls",
    state=CheckState.DONE,
    created_at=1.0,
    updated_at=2.0,
    username="alice@example.com",
    outcome="auth_rejected",
    finding="auth_rejected",
)


def walk(value: Any) -> list[dict[str, Any]]:
    """Every dict nested anywhere in ``value``."""
    found: list[dict[str, Any]] = []
    if isinstance(value, dict):
        found.append(value)
        for item in value.values():
            found += walk(item)
    elif isinstance(value, list):
        for item in value:
            found += walk(item)
    return found


def report_with_banner(text: str, steps: int = 1) -> ProbeReport:
    reply = Reply(code=220, enhanced=None, text=text)
    step = StepResult(
        stage=Stage.BANNER, status=Status.OK, elapsed_ms=1.0, detail=text, reply=reply
    )
    return ProbeReport(
        host="mail.example.com",
        port=587,
        security=Security.STARTTLS,
        username=None,
        outcome=Outcome.AUTH_REJECTED,
        steps=(step,) * steps,
    )


def test_modal_has_the_design_block_ids_and_no_dispatching_element() -> None:
    """The modal holds exactly the six inputs, no buttons, no dispatch_action, and
    says the password is used once, never stored, and recommends an app password."""
    view = modal.probe_modal(modal.Prefill(), origin_channel="C0GENERAL")
    inputs = [b for b in view["blocks"] if b["type"] == "input"]
    assert [b["block_id"] for b in inputs] == list(modal.FIELD_BLOCKS)
    nested = walk(view)
    assert not [d for d in nested if d.get("type") in ("button", "actions", "overflow")]
    assert not [d for d in nested if "dispatch_action" in d or "dispatch_action_config" in d]
    text = json.dumps(view).lower()
    assert "used for this one check" in text and "never stored" in text
    assert "app password" in text
    assert len(view["title"]["text"]) <= 24 and len(view["blocks"]) <= kit.MODAL_BLOCKS_MAX


def test_private_metadata_carries_only_the_origin_channel() -> None:
    """private_metadata is the origin channel (and the opener's response_url) as JSON,
    within 3000 characters: no prefilled value; a malformed origin is dropped."""
    view = modal.probe_modal(modal.Prefill(host="h.example.com"), origin_channel="C1")
    assert json.loads(view["private_metadata"]) == {"origin": "C1"}
    assert origin_channel(view) == "C1"
    assert origin_channel({"private_metadata": "not json"}) is None
    assert origin_channel({"private_metadata": '{"origin": "C1 <!channel>"}'}) is None
    hook = "https://hooks.slack.com/commands/T1/2/x"
    view = modal.probe_modal(
        modal.Prefill(host="h.example.com", username="alice@example.com"),
        origin_channel="C1",
        response_url=hook,
    )
    assert json.loads(view["private_metadata"]) == {"origin": "C1", "reply": hook}
    assert reply_url(view, "https://slack.com/api/") == hook


def test_prefill_never_includes_a_password() -> None:
    """Prefilled values land in initial_value; the password input never has one."""
    prefill = modal.Prefill(
        email="a@example.com",
        host="smtp.example.com",
        port=465,
        security="tls",
        username="a@example.com",
    )
    view = modal.probe_modal(prefill, origin_channel=None)
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs["host"]["initial_value"] == "smtp.example.com"
    assert inputs["port"]["initial_value"] == "465"
    assert inputs["security"]["initial_option"]["value"] == "tls"
    assert "initial_value" not in inputs["password"]


def test_server_text_is_escaped_for_mrkdwn() -> None:
    """A banner cannot ping the channel, mention a user or plant a link."""
    hostile = "<!channel> <@U0BOSS> <https://evil.example|click> & `x`"
    _, body = check.steps_message(report_with_banner(hostile))
    rendered = json.dumps(body)
    assert "<!channel>" not in rendered and "<@U0BOSS>" not in rendered
    assert "<https://" not in rendered
    assert "&lt;!channel&gt;" in rendered and "&amp;" in rendered


def test_limits_hold_for_huge_server_text() -> None:
    """Section text, block count and button text stay inside Slack's limits."""
    report = report_with_banner("x" * 10_000, steps=200)
    for _, body in (
        check.steps_message(report),
        check.verdict_message(RECORD, report, Advice(summary="s" * 5000, cause="c")),
    ):
        assert len(body) <= kit.MESSAGE_BLOCKS_MAX
        for block in body:
            text = block.get("text", {}).get("text", "")
            assert len(text) <= kit.SECTION_MAX
            for element in block.get("elements", []):
                if element.get("type") == "button":
                    assert len(element["text"]["text"]) <= kit.BUTTON_TEXT_MAX
                    assert len(element["value"]) <= kit.BUTTON_VALUE_MAX


def test_verdict_buttons_carry_the_check_id_only() -> None:
    """Each button's value is the check id; a failed check offers the fix walkthrough."""
    advice = Advice(
        summary="Wrong password",
        cause="c",
        articles=(ArticleRef(id="check-credentials", title="Check it", summary="s"),),
    )
    _, body = check.verdict_message(RECORD, report_with_banner("hi"), advice)
    buttons = body[-1]["elements"]
    assert [b["action_id"] for b in buttons] == [
        check.ACTION_FIX,
        check.ACTION_AGAIN,
        check.ACTION_HUMAN,
    ]
    assert {b["value"] for b in buttons} == {"chk-1"}
    read = next(b for b in body if b.get("block_id") == "verdict-read")["elements"][0]
    assert [o["text"]["text"] for o in read["options"]] == ["Check it"]
    assert read["options"][0]["value"] == "article_open#check-credentials"


def test_escalation_summary_has_no_secret_fields() -> None:
    """The helpdesk summary names user, server, username and result only."""
    text, _ = check.escalation_message(RECORD, "Wrong password")
    assert "<@U0ALICE>" in text and "mail.example.com:587" in text
    assert "alice@example.com" in text and "password" in text.lower()  # "No password included"


@pytest.mark.parametrize(
    ("text", "kind", "value", "port"),
    [
        ("", "modal", "", None),
        ("help", "help", "", None),
        ("alice@example.com", "email", "alice@example.com", None),
        ("<mailto:alice@example.com|alice@example.com>", "email", "alice@example.com", None),
        ("smtp.example.com", "target", "smtp.example.com", None),
        ("smtp.example.com:465", "target", "smtp.example.com", 465),
        (
            "why does outlook keep asking for my password",
            "question",
            "why does outlook keep asking for my password",
            None,
        ),
        (
            "535 5.7.8 Username and Password not accepted",
            "question",
            "535 5.7.8 Username and Password not accepted",
            None,
        ),
    ],
)
def test_command_arguments_are_classified(
    text: str, kind: str, value: str, port: int | None
) -> None:
    """/smtpcheck arguments pick the modal, help, a prefill or a question."""
    args = classify(text)
    assert (args.kind, args.value, args.port) == (kind, value, port)


def test_form_wraps_the_password_and_splits_host_port() -> None:
    """The password is a Secret as soon as it is read; host:port in the host field is split."""
    view = {
        "state": {
            "values": form_values(
                host="smtp.example.com:465",
                security="auto",
                username="u@example.com",
                password="pw-1",
            )
        }
    }
    form = read_form(view)
    assert form.password is not None and "pw-1" not in repr(form)
    request = form.to_request(frozenset({465, 587}))
    assert (request.host, request.port) == ("smtp.example.com", 465)


def test_email_without_host_points_at_the_lookup() -> None:
    """An email with no server asks for the server and suggests /smtpcheck <email>."""
    form = read_form({"state": {"values": form_values(email="a@example.com")}})
    with pytest.raises(InputError) as caught:
        form.to_request(frozenset({587}))
    assert caught.value.field == "host" and "/smtpcheck a@example.com" in caught.value.reason


def test_triage_quotes_the_reply_line_short_redacted_and_inert() -> None:
    """The triage quote is the pasted line with the code (not the normalised excerpt),
    starting at the code when a long preamble comes first, clipped to one line, with
    credentials redacted and backticks unable to close the code span."""
    from handlers.blocks.turns import TRIAGE_QUOTE_MAX, reply_line, triage_quote
    from knowledge.model import Match

    match = Match(
        reply_id="x",
        code=535,
        enhanced="5.7.8",
        provider=None,
        cause="c",
        articles=(),
        excerpt="535 5.7.8 normalised",
    )
    assert reply_line("hello\n  535-5.7.8   Bad   creds\n535 5.7.8 more", match) == (
        "535-5.7.8 Bad creds"
    )
    preamble = "word " * 20
    assert reply_line(preamble + "535 5.7.8 nope", match) == "…535 5.7.8 nope"
    assert reply_line("nothing with the code", match) == "535 5.7.8 normalised"
    assert reply_line("port 15357 then 5.7.80 then 535 5.7.8 it", match) == (
        "port 15357 then 5.7.80 then 535 5.7.8 it"
    )
    quote = triage_quote("535 5.7.8 `x` password=hunter2 " + "y" * 400, match)
    assert quote.startswith("`535 5.7.8 'x' password=[redacted] y") and quote.endswith("…`")
    assert quote.count("`") == 2 and "hunter2" not in quote
    assert len(quote) == TRIAGE_QUOTE_MAX + 2


def test_feedback_value_keeps_the_token_whole_and_parses_back() -> None:
    """``vote#article#token``: a long article id is clipped, never the token, and the
    value stays within Slack's limit; old values without a token still parse."""
    from handlers.blocks import kit

    token = "Abc-_0123456789xy"
    long_id = "a" * 300
    value = kit.feedback_value(kit.VOTE_DOWN, long_id, token)
    assert len(value) <= kit.OPTION_VALUE_MAX and value.endswith("#" + token)
    vote, article, parsed = kit.parse_feedback_value(value)
    assert (vote, parsed) == ("down", token) and article and long_id.startswith(article)
    assert kit.parse_feedback_value(kit.feedback_value("up", None, token)) == ("up", None, token)
    assert kit.parse_feedback_value("down#app-passwords") == ("down", "app-passwords", None)
    assert kit.parse_feedback_value("up") == ("up", None, None)
