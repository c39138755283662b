"""smtpcheck ask / explain / discover, run in-process with the real knowledge base."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import io
import json
import os
from collections.abc import Sequence

import pytest

from bot.config import Settings
from knowledge import get_knowledge
from tests.support.dns_server import dns_server

GMAIL_REPLY = "535-5.7.8 Username and Password not accepted.\n535 5.7.8 BadCredentials - gsmtp"


def _main(argv: Sequence[str]) -> int:
    """bot.cli.main when every subcommand module exists; else the same path for ours only."""
    if importlib.util.find_spec("bot.cli.probe") is not None:
        from bot.cli import main

        return main(list(argv))
    from bot.cli import knowledge

    parser = argparse.ArgumentParser(prog="smtpcheck")
    knowledge.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    code: int = asyncio.run(args.handler(args, Settings.from_env(os.environ)))
    return code


def _json(capsys: pytest.CaptureFixture[str], argv: Sequence[str]) -> tuple[int, dict[str, object]]:
    code = _main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_ask_json_lists_answers_best_first(capsys: pytest.CaptureFixture[str]) -> None:
    """ask --json gives answers with id, title and score, best first."""
    code, data = _json(capsys, ["ask", "outlook keeps asking for my password"])
    assert code == 0
    answers = data["answers"]
    assert isinstance(answers, list) and answers
    assert set(answers[0]) == {"id", "title", "score"}
    scores = [a["score"] for a in answers]
    assert scores == sorted(scores, reverse=True)


def test_ask_human_shows_summary_and_steps(capsys: pytest.CaptureFixture[str]) -> None:
    """Human output shows the best article's title, summary and first numbered steps."""
    assert _main(["ask", "which port should I use for smtp"]) == 0
    out = capsys.readouterr().out
    assert "[ports-and-encryption]" in out
    assert " 1. " in out


def test_ask_off_topic_says_it_is_unsure(capsys: pytest.CaptureFixture[str]) -> None:
    """An off-topic question is flagged as unsure (or finds nothing), never presented as sure."""
    code = _main(["ask", "what's the weather in Paris tomorrow"])
    out = capsys.readouterr().out
    assert code == 1 or "Not sure" in out


def test_explain_json(capsys: pytest.CaptureFixture[str]) -> None:
    """explain --json gives code, enhanced code, provider, cause and articles per match."""
    code, data = _json(capsys, ["explain", GMAIL_REPLY])
    assert code == 0
    (match,) = data["matches"]  # type: ignore[misc]
    assert match["code"] == 535 and match["enhanced"] == "5.7.8"
    assert match["provider"] == "gmail"
    assert match["cause"] and match["articles"]


def test_explain_reads_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """'-' (or no text) reads the error from standard input."""
    monkeypatch.setattr("sys.stdin", io.StringIO("454 4.7.0 Too many login attempts\n"))
    assert _main(["explain", "-"]) == 0
    assert "454 4.7.0" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO(GMAIL_REPLY))
    assert _main(["explain"]) == 0


def test_explain_nothing_matched(capsys: pytest.CaptureFixture[str]) -> None:
    """Unknown text exits 1 and says plainly that nothing was recognised."""
    assert _main(["explain", "the printer is out of paper"]) == 1
    assert "nothing is guessed" in capsys.readouterr().out
    code, data = _json(capsys, ["explain", "the printer is out of paper"])
    assert (code, data["matches"]) == (1, [])


def test_discover_known_domain(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """discover gmail.com answers from the provider table, DNS not needed."""
    with dns_server({}) as server:
        monkeypatch.setenv("SMTPCHECK_DNS_SERVERS", server.address)
        code, data = _json(capsys, ["discover", "alice@gmail.com"])
    assert code == 0
    assert data["provider"] == "gmail"
    candidates = data["candidates"]
    assert isinstance(candidates, list)
    assert candidates[0] == {
        "host": "smtp.gmail.com",
        "port": 465,
        "security": "tls",
        "source": "provider",
    }
    gmail = get_knowledge().providers["gmail"]
    assert data["provider_links"] == list(gmail.links) and gmail.links
    assert data["provider_checked"] == gmail.checked.isoformat()


def test_discover_shows_the_providers_rule_links_and_date(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Human output: the provider's own rule, its help pages and when they were checked;
    an ISPDB-only provider has neither links nor a checked date of ours."""
    with dns_server({}, refuse_all=True) as server:
        monkeypatch.setenv("SMTPCHECK_DNS_SERVERS", server.address)
        assert _main(["discover", "alice@gmail.com"]) == 0
        gmail = capsys.readouterr().out
        assert _main(["discover", "someone@t-online.de"]) == 0
        ispdb = capsys.readouterr().out
    facts = get_knowledge().providers["gmail"]
    assert f"Note: {facts.notes}" in gmail
    assert all(f"Help: {link}" in gmail for link in facts.links)
    assert gmail.rstrip().endswith(f"(provider facts checked {facts.checked.isoformat()})")
    assert "Help:" not in ispdb and "checked" not in ispdb


def test_discover_uses_configured_dns(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """discover asks SMTPCHECK_DNS_SERVERS: an MX at Microsoft 365 names the provider."""
    zone = {("contoso.test.", "MX"): ["0 contoso-test.mail.protection.outlook.com."]}
    with dns_server(zone) as server:
        monkeypatch.setenv("SMTPCHECK_DNS_SERVERS", server.address)
        assert _main(["discover", "contoso.test"]) == 0
    out = capsys.readouterr().out
    assert "[microsoft365]" in out
    assert "smtp.office365.com:587  STARTTLS" in out


def test_discover_bad_input(capsys: pytest.CaptureFixture[str]) -> None:
    """A bad address exits 2 with the field named on stderr."""
    assert _main(["discover", "not an address"]) == 2
    assert "email:" in capsys.readouterr().err


def test_discover_ispdb_domain_in_json(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An ISPDB-only domain answers from the snapshot with source "ispdb", DNS refusing."""
    with dns_server({}, refuse_all=True) as server:
        monkeypatch.setenv("SMTPCHECK_DNS_SERVERS", server.address)
        code, data = _json(capsys, ["discover", "someone@t-online.de"])
    assert code == 0 and data["provider"] == "t-online.de" and data["complete"] is True
    assert data["candidates"] == [
        {"host": "securesmtp.t-online.de", "port": 465, "security": "tls", "source": "ispdb"},
        {"host": "securesmtp.t-online.de", "port": 587, "security": "starttls", "source": "ispdb"},
    ]
    assert data["username"] == "your full email address" and data["gateway"] is None


def test_discover_refused_dns_is_incomplete(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A resolver answering REFUSED: complete false, problem "refused", and said in words."""
    with dns_server({}, refuse_all=True) as server:
        monkeypatch.setenv("SMTPCHECK_DNS_SERVERS", server.address)
        code, data = _json(capsys, ["discover", "bob@unknown-company.test"])
        assert code == 0 and data["complete"] is False and data["problem"] == "refused"
        assert _main(["discover", "unknown-company.test"]) == 0
    out = capsys.readouterr().out
    assert "refused to answer" in out and "incomplete" in out


def test_discover_names_a_filtering_gateway(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An MX at Mimecast: gateway named, no provider, and the advice printed."""
    zone = {("corp.test.", "MX"): ["10 eu-smtp-inbound-1.mimecast.com."]}
    with dns_server(zone) as server:
        monkeypatch.setenv("SMTPCHECK_DNS_SERVERS", server.address)
        code, data = _json(capsys, ["discover", "corp.test"])
        assert code == 0 and data["gateway"] == "Mimecast" and data["provider"] is None
        assert _main(["discover", "corp.test"]) == 0
    out = capsys.readouterr().out
    assert "Filtering gateway: Mimecast" in out and "Ask IT" in out


def test_article_prints_every_step_and_related(capsys: pytest.CaptureFixture[str]) -> None:
    """`article ID` prints the title, summary, all steps numbered, and the related ids."""
    from knowledge import get_knowledge

    article = get_knowledge().articles["app-passwords"]
    assert _main(["article", "app-passwords"]) == 0
    out = capsys.readouterr().out
    assert f"{article.title}  [app-passwords]" in out
    for number, step in enumerate(article.steps, start=1):
        assert f"{number:>2}. {step}" in out
    assert all(f"[{related}]" in out for related in article.related)


def test_article_json_and_variant(capsys: pytest.CaptureFixture[str]) -> None:
    """--json gives the whole article; --for picks a provider's or client's own steps."""
    from knowledge import get_knowledge

    article = get_knowledge().articles["authorization-code-cn"]
    code, data = _json(capsys, ["article", "authorization-code-cn", "--for", "qq"])
    assert code == 0
    assert data["steps"] == list(article.variants["qq"])
    assert data["variant"] == "qq"
    assert data["related"] == [
        {"id": r, "title": get_knowledge().articles[r].title} for r in article.related
    ]
    code, data = _json(capsys, ["article", "authorization-code-cn"])
    assert data["steps"] == list(article.steps) and data["variant"] is None


def test_article_unknown_and_invalid(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown id is exit 1 with a hint; a malformed id or --for value is exit 2."""
    assert _main(["article", "no-such-article"]) == 1
    err = capsys.readouterr().err
    assert "no article with id 'no-such-article'" in err and "smtpcheck ask" in err
    assert _main(["article", "Bad Id!"]) == 2
    assert "is not an article id" in capsys.readouterr().err
    assert _main(["article", "app-passwords", "--for", "nobody"]) == 2
    assert "is not a provider or client id" in capsys.readouterr().err


def test_article_unknown_id_suggests_close_ids(capsys: pytest.CaptureFixture[str]) -> None:
    """A near miss ("app-password") names the ids it probably meant."""
    assert _main(["article", "app-password"]) == 1
    assert "did you mean app-passwords" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "code", "outcome", "field"),
    [
        (["article", "tls-certificat"], 1, "not_found", "id"),
        (["article", "Bad Id!"], 2, "invalid_input", "id"),
        (["article", "app-passwords", "--for", "nobody"], 2, "invalid_input", "for"),
        (["ask", "why", "--limit", "0"], 2, "invalid_input", "limit"),
        (["ask", "  "], 2, "invalid_input", "question"),
        (["explain", ""], 2, "invalid_input", "text"),
        (["discover", "not an address"], 2, "invalid_input", "email"),
        (["discover", "user@-bad-.com"], 2, "invalid_input", "email"),
    ],
)
def test_refusals_with_json_are_json_documents(
    capsys: pytest.CaptureFixture[str], argv: list[str], code: int, outcome: str, field: str
) -> None:
    """A script that asked for --json gets a document on stdout, not an empty one."""
    got, data = _json(capsys, argv)
    assert got == code
    assert data["outcome"] == outcome and data["error"]["field"] == field  # type: ignore[index]


def test_ask_names_the_article_command_for_the_rest(capsys: pytest.CaptureFixture[str]) -> None:
    """When steps are left out, ask says which command prints them, and that command works."""
    assert _main(["ask", "qq mail smtp says please enter your authorization code"]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if "more step(s) in the article" in x)
    command = line.split("`")[1].split()
    assert command[:3] == ["smtpcheck", "article", "authorization-code-cn"]
    assert _main(command[1:]) == 0
    assert "authorization-code-cn" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["probe", "--json"], "the following arguments are required: host"),
        (["ask", "why", "--bogus", "--json"], "unrecognized arguments: --bogus"),
    ],
)
def test_argument_errors_with_json_are_json_documents(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    """argparse's own refusals keep the --json contract: exit 2 and the same document."""
    from bot.cli import main

    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    data = json.loads(capsys.readouterr().out)
    assert data == {"outcome": "invalid_input", "error": {"field": "arguments", "message": message}}


def test_ctrl_c_while_the_command_line_is_still_loading_is_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Ctrl-C in the first moments (modules importing under build_parser): no traceback."""
    import bot.cli

    def interrupted(command: str | None = None) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(bot.cli, "build_parser", interrupted)
    assert bot.cli.main(["explain", "535"]) == 130
    assert capsys.readouterr().err == "smtpcheck: interrupted\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["ask", "why does gmail refuse my password"],
        ["article", "app-passwords"],
        ["explain", "535 5.7.8 Username and Password not accepted"],
        ["discover", "alice@example.com"],
        ["probe", "127.0.0.1", "--port", "587"],
    ],
)
def test_broken_knowledge_with_json_is_a_document_and_exit_3(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    """Knowledge data that fails to load: exit 3, one stderr line, and a script that asked
    for --json gets a ``knowledge_error`` document rather than nothing to parse."""
    from bot.cli import knowledge as cli_knowledge
    from bot.errors import KnowledgeError

    def broken(**_: object) -> None:
        raise KnowledgeError(source="replies.yaml", entry="smtp-535", reason="bad pattern")

    monkeypatch.setattr(cli_knowledge, "get_knowledge", broken)
    code, data = _json(capsys, argv)
    assert code == 3
    assert data["outcome"] == "knowledge_error"
    assert "replies.yaml" in data["error"]["message"]  # type: ignore[index]
