"""The probe's plan without a network: stage order, mechanism choice, limits and deadline."""

from __future__ import annotations

import pytest

from bot.probe.model import Finding, Mechanism, Security, Stage
from bot.probe.plan import (
    DEFAULT_LIMITS,
    DNS_MARGIN,
    MIN_QUIT_BUDGET,
    Action,
    Deadline,
    Limits,
    actions,
    choose_mechanism,
    keeps_dialogue,
)
from bot.resolver import DNS_LIFETIME


def test_starttls_says_ehlo_again_after_the_upgrade() -> None:
    """STARTTLS: banner, EHLO, STARTTLS, a second EHLO, then AUTH."""
    assert actions(Security.STARTTLS) == (
        Action.RESOLVE,
        Action.CONNECT,
        Action.BANNER,
        Action.EHLO,
        Action.STARTTLS,
        Action.EHLO,
        Action.AUTH,
    )


def test_implicit_tls_handshakes_before_the_greeting() -> None:
    """Implicit TLS: the handshake (with the greeting) comes right after connect, one EHLO."""
    assert actions(Security.TLS) == (
        Action.RESOLVE,
        Action.CONNECT,
        Action.IMPLICIT_TLS,
        Action.EHLO,
        Action.AUTH,
    )


def test_security_none_says_so_before_auth() -> None:
    """security none: no STARTTLS, a tls-off step right before AUTH."""
    assert actions(Security.NONE) == (
        Action.RESOLVE,
        Action.CONNECT,
        Action.BANNER,
        Action.EHLO,
        Action.TLS_OFF,
        Action.AUTH,
    )


def test_auth_comes_after_tls_in_every_mode() -> None:
    """No plan reaches AUTH before its TLS action (or the explicit tls-off)."""
    for security, tls in (
        (Security.STARTTLS, Action.STARTTLS),
        (Security.TLS, Action.IMPLICIT_TLS),
        (Security.NONE, Action.TLS_OFF),
    ):
        plan = actions(security)
        assert plan.count(Action.AUTH) == 1
        assert plan.index(tls) < plan.index(Action.AUTH)


def test_auto_must_be_resolved_first() -> None:
    """security auto has no plan: the request's effective security is asked for."""
    with pytest.raises(ValueError, match="effective_security"):
        actions(Security.AUTO)


def test_auto_prefers_plain_over_tls_and_cram_md5_in_clear() -> None:
    """Auto picks PLAIN over TLS, CRAM-MD5 in the clear, matching names case-insensitively."""
    offered = ("LOGIN", "PLAIN", "CRAM-MD5")
    assert choose_mechanism(Mechanism.AUTO, offered, over_tls=True) is Mechanism.PLAIN
    assert choose_mechanism(Mechanism.AUTO, offered, over_tls=False) is Mechanism.CRAM_MD5
    assert choose_mechanism(Mechanism.AUTO, ("login",), over_tls=True) is Mechanism.LOGIN


def test_auto_never_picks_xoauth2_and_may_find_nothing() -> None:
    """XOAUTH2 alone (or nothing usable) gives no mechanism for auto."""
    assert choose_mechanism(Mechanism.AUTO, ("XOAUTH2", "GSSAPI"), over_tls=True) is None


def test_an_explicit_choice_is_used_only_when_offered() -> None:
    """An explicit mechanism is tried only if the server offers it, never swapped for another."""
    assert choose_mechanism(Mechanism.LOGIN, ("PLAIN", "LOGIN"), over_tls=True) is Mechanism.LOGIN
    assert choose_mechanism(Mechanism.XOAUTH2, ("PLAIN",), over_tls=True) is None


def test_dialogue_stays_in_step_after_a_reply_or_our_own_decision() -> None:
    """QUIT makes sense after a complete reply or a decision of ours, not after a drop."""
    assert keeps_dialogue(Finding.AUTH_REJECTED, has_reply=True)
    assert keeps_dialogue(Finding.STARTTLS_MISSING, has_reply=False)
    assert keeps_dialogue(Finding.MECHANISM_NOT_OFFERED, has_reply=False)
    assert not keeps_dialogue(Finding.STAGE_TIMEOUT, has_reply=False)
    assert not keeps_dialogue(Finding.CONNECTION_LOST, has_reply=False)


def test_every_stage_has_a_limit() -> None:
    """EHLO and AUTH use the command limit; every other stage its own."""
    limits = Limits(dns=1, connect=2, banner=3, command=4, tls=5, quit=6)
    assert {stage: limits.for_stage(stage) for stage in Stage} == {
        Stage.RESOLVE: 1,
        Stage.CONNECT: 2,
        Stage.BANNER: 3,
        Stage.EHLO: 4,
        Stage.TLS: 5,
        Stage.AUTH: 4,
        Stage.QUIT: 6,
    }
    assert Limits() == DEFAULT_LIMITS


def test_a_stage_never_runs_past_the_deadline() -> None:
    """A stage gets min(its limit, time left), never negative."""
    deadline = Deadline.starting(30.0, now=100.0)
    assert deadline.ends == 130.0
    assert deadline.budget(10.0, now=100.0) == 10.0
    assert deadline.budget(10.0, now=125.0) == 5.0
    assert deadline.budget(10.0, now=131.0) == 0.0
    assert deadline.guard > deadline.seconds


def test_a_timeout_at_the_end_is_the_deadlines() -> None:
    """Only a timeout with (almost) nothing left is reported as the deadline running out."""
    deadline = Deadline.starting(30.0, now=0.0)
    assert deadline.cut(now=30.0)
    assert not deadline.cut(now=29.0)


def test_dns_lifetime_is_never_zero() -> None:
    """dnspython reads a lifetime of 0 as no limit, so the plan never hands it one; it ends
    DNS_MARGIN before the stage does, so DNS reports its own timeout."""
    deadline = Deadline.starting(1.0, now=0.0)
    assert 0 < deadline.dns_lifetime(5.0, now=2.0) < 0.01
    assert 0 < deadline.dns_lifetime(5.0, now=0.96) < 0.01
    assert deadline.dns_lifetime(5.0, now=0.5) == pytest.approx(0.5 - DNS_MARGIN)
    assert deadline.dns_lifetime(0.3, now=0.0) == pytest.approx(0.3 - DNS_MARGIN)


def test_default_dns_limit_is_the_resolvers_lifetime() -> None:
    """The probe's resolve stage allows one lookup as bot.resolver times it: a query, one retry."""
    assert DEFAULT_LIMITS.dns == DNS_LIFETIME


def test_quit_is_skipped_when_too_little_time_is_left() -> None:
    """QUIT gets its budget, or None when less than MIN_QUIT_BUDGET is left."""
    deadline = Deadline.starting(10.0, now=0.0)
    assert deadline.quit_budget(2.0, now=0.0) == 2.0
    assert deadline.quit_budget(2.0, now=10.0 - MIN_QUIT_BUDGET / 2) is None


def test_outcomes_of_checks_without_a_report_keep_their_stored_values() -> None:
    """INTERRUPTED and CRASHED carry the strings check records already hold; exit code 3."""
    from bot.probe.model import Outcome

    assert (Outcome.INTERRUPTED.value, Outcome.CRASHED.value) == ("interrupted", "error")
    assert Outcome.INTERRUPTED.exit_code == Outcome.CRASHED.exit_code == 3
