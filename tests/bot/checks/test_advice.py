"""diagnose: every probe outcome and finding becomes plain words, a cause, articles and steps."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from bot.checks import advice as advice_module
from bot.checks.advice import WITHOUT_REPORT, Advice, diagnose, make_advise, unworded
from bot.probe.model import (
    Finding,
    Outcome,
    ProbeReport,
    Reply,
    Security,
    Stage,
    Status,
    StepResult,
)
from knowledge import KnowledgeBase, Match, explain_reply, get_knowledge, load_knowledge
from knowledge.loader import DEFAULT_ROOT

STAGE_OF = {
    Finding.POLICY_REFUSED: Stage.RESOLVE,
    Finding.DNS_NXDOMAIN: Stage.RESOLVE,
    Finding.DNS_NO_ADDRESS: Stage.RESOLVE,
    Finding.DNS_FAILURE: Stage.RESOLVE,
    Finding.CONNECT_REFUSED: Stage.CONNECT,
    Finding.CONNECT_TIMEOUT: Stage.CONNECT,
    Finding.CONNECT_UNREACHABLE: Stage.CONNECT,
    Finding.BANNER_TIMEOUT: Stage.BANNER,
    Finding.BANNER_REJECTED: Stage.BANNER,
    Finding.EHLO_REJECTED: Stage.EHLO,
    Finding.AUTH_NOT_OFFERED: Stage.EHLO,
    Finding.MECHANISM_NOT_OFFERED: Stage.AUTH,
    Finding.AUTH_REJECTED: Stage.AUTH,
    Finding.AUTH_TEMPORARY: Stage.AUTH,
}
OUTCOME_OF = {
    Finding.POLICY_REFUSED: Outcome.POLICY_REFUSED,
    Finding.DNS_NXDOMAIN: Outcome.DNS_ERROR,
    Finding.DNS_NO_ADDRESS: Outcome.DNS_ERROR,
    Finding.DNS_FAILURE: Outcome.DNS_ERROR,
    Finding.CONNECT_REFUSED: Outcome.CONNECT_ERROR,
    Finding.CONNECT_TIMEOUT: Outcome.CONNECT_ERROR,
    Finding.CONNECT_UNREACHABLE: Outcome.CONNECT_ERROR,
    Finding.AUTH_REJECTED: Outcome.AUTH_REJECTED,
    Finding.AUTH_TEMPORARY: Outcome.AUTH_REJECTED,
    Finding.STAGE_TIMEOUT: Outcome.TIMEOUT,
    Finding.DEADLINE_EXCEEDED: Outcome.TIMEOUT,
    Finding.PLAINTEXT_AUTH: Outcome.AUTHENTICATED,
}


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return get_knowledge()


def _report(
    finding: Finding | None,
    outcome: Outcome,
    *,
    host: str = "smtp.example.com",
    port: int = 587,
    reply: Reply | None = None,
    offered: tuple[str, ...] = ("PLAIN", "LOGIN"),
) -> ProbeReport:
    steps = [StepResult(stage=Stage.RESOLVE, status=Status.OK, elapsed_ms=1.0, detail="ok")]
    if finding is not None:
        status = Status.WARN if finding is Finding.PLAINTEXT_AUTH else Status.FAIL
        stage = STAGE_OF.get(finding, Stage.TLS)
        steps.append(
            StepResult(
                stage=stage, status=status, elapsed_ms=2.0, detail="x", reply=reply, finding=finding
            )
        )
    return ProbeReport(
        host=host,
        port=port,
        security=Security.STARTTLS,
        username="alice@example.com",
        outcome=outcome,
        steps=tuple(steps),
        mechanism="plain",
        auth_mechanisms=offered,
    )


def _check(diagnosis: Advice, kb: KnowledgeBase) -> None:
    assert diagnosis.summary and diagnosis.cause and diagnosis.next_steps
    assert diagnosis.articles and all(a.id in kb.articles for a in diagnosis.articles)
    assert "{" not in diagnosis.summary + " ".join(diagnosis.next_steps)
    assert set(diagnosis.as_dict()) == {"summary", "cause", "articles", "next_steps"}


REPORTED = [outcome for outcome in Outcome if outcome not in WITHOUT_REPORT]


def test_every_finding_has_an_entry(kb: KnowledgeBase) -> None:
    """The wording data covers every Finding and every Outcome the probe can produce."""
    assert set(kb.findings) == {finding.value for finding in Finding}
    assert set(kb.outcomes) == {outcome.value for outcome in REPORTED}
    assert unworded(kb) == ()


@pytest.mark.parametrize(
    ("section", "key"), [("findings", Finding.CERT_EXPIRED), ("outcomes", Outcome.REACHABLE)]
)
def test_a_missing_entry_is_named(tmp_path: Path, section: str, key: str) -> None:
    """Data that drops the wording of one finding or outcome still loads, but is caught here."""
    root = tmp_path / "data"
    shutil.copytree(DEFAULT_ROOT, root)
    path = root / "findings.yaml"
    data = yaml.safe_load(path.read_text())
    del data[section][key]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert unworded(load_knowledge(root)) == (f"{section}.{key}",)


@pytest.mark.parametrize("finding", list(Finding))
def test_every_finding_is_diagnosed(kb: KnowledgeBase, finding: Finding) -> None:
    """Each finding yields a summary naming the host, a cause, existing articles and steps."""
    outcome = OUTCOME_OF.get(finding, Outcome.TLS_ERROR)
    diagnosis = diagnose(_report(finding, outcome), kb)
    _check(diagnosis, kb)
    if finding is not Finding.PLAINTEXT_AUTH:
        assert "smtp.example.com" in diagnosis.summary or "host" not in kb.findings[finding].summary


@pytest.mark.parametrize("outcome", REPORTED)
def test_every_outcome_without_finding_is_diagnosed(kb: KnowledgeBase, outcome: Outcome) -> None:
    """An outcome with no step finding (success, invalid input...) still gets plain words."""
    _check(diagnose(_report(None, outcome), kb), kb)


def test_success_and_reachable(kb: KnowledgeBase) -> None:
    """Success says it works with the settings; reachable lists the offered mechanisms."""
    ok = diagnose(_report(None, Outcome.AUTHENTICATED), kb)
    assert ok.summary == "Login to smtp.example.com on port 587 works."
    reachable = diagnose(_report(None, Outcome.REACHABLE), kb)
    assert "PLAIN, LOGIN" in reachable.summary


def test_plaintext_success_warns(kb: KnowledgeBase) -> None:
    """A login that worked without encryption says both."""
    diagnosis = diagnose(_report(Finding.PLAINTEXT_AUTH, Outcome.AUTHENTICATED), kb)
    assert "works" in diagnosis.summary and "without encryption" in diagnosis.summary


def test_nxdomain_points_at_a_typo(kb: KnowledgeBase) -> None:
    """A name that does not exist is most likely mistyped."""
    diagnosis = diagnose(_report(Finding.DNS_NXDOMAIN, Outcome.DNS_ERROR, host="smpt.x.com"), kb)
    assert "does not exist" in diagnosis.summary
    assert "mistyped" in diagnosis.cause


@pytest.mark.parametrize("finding", [Finding.CONNECT_TIMEOUT, Finding.CONNECT_REFUSED])
def test_port_25_blocked(kb: KnowledgeBase, finding: Finding) -> None:
    """A timeout or refusal on port 25 is the blocked-port case, not a firewall guess."""
    diagnosis = diagnose(_report(finding, Outcome.CONNECT_ERROR, port=25), kb)
    assert diagnosis.articles[0].id == "port-25-blocked"
    assert "587" in diagnosis.next_steps[0]


def test_timeout_on_587_suggests_firewall(kb: KnowledgeBase) -> None:
    """A timeout on a submission port points at firewall, antivirus or VPN."""
    diagnosis = diagnose(_report(Finding.CONNECT_TIMEOUT, Outcome.CONNECT_ERROR), kb)
    assert diagnosis.articles[0].id == "firewall-antivirus"


def test_tls_mismatch_says_which_security(kb: KnowledgeBase) -> None:
    """Each direction of the TLS mode mismatch names the security to use."""
    starttls = diagnose(_report(Finding.TLS_ON_STARTTLS_PORT, Outcome.TLS_ERROR), kb)
    assert starttls.next_steps[0] == "Set encryption to STARTTLS for port 587."
    tls = diagnose(_report(Finding.STARTTLS_ON_TLS_PORT, Outcome.TLS_ERROR, port=465), kb)
    assert tls.next_steps[0] == "Set encryption to SSL/TLS for port 465."


@pytest.mark.parametrize(
    ("finding", "article"),
    [
        (Finding.CERT_UNTRUSTED, "tls-certificate"),
        (Finding.CERT_NAME_MISMATCH, "tls-certificate"),
        (Finding.CERT_EXPIRED, "tls-certificate"),
        (Finding.STARTTLS_MISSING, "starttls-required"),
        (Finding.AUTH_NOT_OFFERED, "auth-not-offered"),
    ],
)
def test_tls_and_auth_capability_findings(
    kb: KnowledgeBase, finding: Finding, article: str
) -> None:
    """Certificate problems, missing STARTTLS and missing AUTH each lead to their article."""
    diagnosis = diagnose(_report(finding, Outcome.TLS_ERROR), kb)
    assert diagnosis.articles[0].id == article


def test_mechanism_not_offered_lists_what_is(kb: KnowledgeBase) -> None:
    """The mechanism finding names the mechanism tried and the ones offered."""
    diagnosis = diagnose(_report(Finding.MECHANISM_NOT_OFFERED, Outcome.PROTOCOL_ERROR), kb)
    assert "PLAIN" in diagnosis.summary and "PLAIN, LOGIN" in diagnosis.summary


@pytest.mark.parametrize(
    ("host", "reply", "reply_id_article"),
    [
        (
            "smtp.gmail.com",
            Reply(code=535, enhanced="5.7.8", text="Username and Password not accepted."),
            "app-passwords",
        ),
        (
            "smtp.office365.com",
            Reply(
                code=535,
                enhanced="5.7.139",
                text="Authentication unsuccessful, SmtpClientAuthentication is disabled for "
                "the Tenant.",
            ),
            "m365-smtp-auth-disabled",
        ),
        (
            "smtp.example.com",
            Reply(code=535, enhanced="5.7.8", text="Error: authentication failed: generic failure"),
            None,
        ),
    ],
)
def test_auth_reply_families_use_explain(
    kb: KnowledgeBase, host: str, reply: Reply, reply_id_article: str | None
) -> None:
    """A refused login is explained from the server's own reply, provider taken from the host."""
    report = _report(Finding.AUTH_REJECTED, Outcome.AUTH_REJECTED, host=host, reply=reply)
    diagnosis = diagnose(report, kb)
    _check(diagnosis, kb)
    match = explain_reply(kb, f"{reply.code} {reply.enhanced} {reply.text}")
    assert diagnosis.cause == match[0].cause
    if reply_id_article is not None:
        assert diagnosis.articles[0].id == reply_id_article


def test_temporary_454(kb: KnowledgeBase) -> None:
    """454 too many attempts leads to waiting, not to retrying."""
    reply = Reply(
        code=454, enhanced="4.7.0", text="Too many login attempts, please try again later."
    )
    report = _report(Finding.AUTH_TEMPORARY, Outcome.AUTH_REJECTED, reply=reply)
    diagnosis = diagnose(report, kb)
    assert diagnosis.articles[0].id == "rate-limited"


def test_unknown_auth_reply_falls_back_to_generic_advice(kb: KnowledgeBase) -> None:
    """An AUTH reply no pattern knows still gets the generic credentials advice."""
    reply = Reply(code=599, enhanced=None, text="zzz")
    report = _report(Finding.AUTH_REJECTED, Outcome.AUTH_REJECTED, reply=reply)
    diagnosis = diagnose(report, kb)
    assert diagnosis.articles[0].id == "check-credentials"
    assert "refused the username or password" in diagnosis.summary


def test_server_text_is_inserted_once(kb: KnowledgeBase) -> None:
    """Template fields in server-supplied values stay literal: values are never re-interpreted."""
    report = _report(
        Finding.MECHANISM_NOT_OFFERED, Outcome.PROTOCOL_ERROR, offered=("{host}", "{0}{port!r}")
    )
    diagnosis = diagnose(report, kb)
    assert diagnosis.summary.endswith("(it offers: {host}, {0}{port!r}).")


def test_the_reply_is_explained_once(kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch) -> None:
    """The advice runs explain_reply once; its match gives both the cause and the reply id."""
    calls: list[str] = []

    def counting(kb: KnowledgeBase, text: str, *, provider: str | None = None) -> tuple[Match, ...]:
        calls.append(text)
        return explain_reply(kb, text, provider=provider)

    monkeypatch.setattr(advice_module, "explain_reply", counting)
    reply = Reply(code=535, enhanced="5.7.8", text="Username and Password not accepted.")
    report = _report(
        Finding.AUTH_REJECTED, Outcome.AUTH_REJECTED, host="smtp.gmail.com", reply=reply
    )
    advice = make_advise(kb)(report)
    assert len(calls) == 1
    match = explain_reply(kb, calls[0], provider="gmail")[0]
    assert (advice.reply_id, advice.cause) == (match.reply_id, match.cause)
    assert [a.title for a in advice.articles] == [kb.articles[i].title for i in match.articles]
