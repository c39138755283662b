"""The probe's ``before_auth`` hook: awaited once, with the connected and resolved
addresses, before any credential leaves; if it raises, no AUTH is sent at all."""

from __future__ import annotations

import pytest

from bot.probe import Collaborators, build_request, run_probe
from bot.probe.model import AuthAttempt, AuthWithheld
from tests.bot.probe.conftest import ALL_PORTS, FAST
from tests.e2e.processes import wait_until
from tests.support.smtp_server import Script, fault_server


async def test_before_auth_runs_once_before_the_credentials_leave(settings: object) -> None:
    """The hook sees the address it is about to sign in to while the server has seen
    no AUTH yet; the AUTH follows."""
    seen: list[tuple[AuthAttempt, int]] = []
    async with fault_server(Script()) as server:

        async def before_auth(attempt: AuthAttempt) -> None:
            seen.append((attempt, server.auth_commands))

        request = build_request(
            host="127.0.0.1",
            port=server.port,
            security="none",
            username="Alice",
            password="pw-canary",
            allowed_ports=ALL_PORTS,
        )
        await run_probe(
            request,
            collaborators=Collaborators.from_settings(settings),  # type: ignore[arg-type]
            limits=FAST,
            before_auth=before_auth,
        )
        assert server.auth_commands == 1
    ((attempt, auth_before),) = seen
    assert auth_before == 0
    assert attempt.address == "127.0.0.1" and attempt.addresses == ("127.0.0.1",)
    assert attempt.username == "Alice" and attempt.port == server.port
    assert "pw-canary" not in repr(attempt)


async def test_a_failing_before_auth_sends_nothing(settings: object) -> None:
    """The hook refuses: run_probe raises AuthWithheld from it and the server saw no AUTH."""
    async with fault_server(Script()) as server:

        async def refuse(attempt: AuthAttempt) -> None:
            raise RuntimeError("budget spent")

        request = build_request(
            host="127.0.0.1",
            port=server.port,
            security="none",
            username="alice",
            password="pw",
            allowed_ports=ALL_PORTS,
        )
        with pytest.raises(AuthWithheld) as withheld:
            await run_probe(
                request,
                collaborators=Collaborators.from_settings(settings),  # type: ignore[arg-type]
                limits=FAST,
                before_auth=refuse,
            )
        assert isinstance(withheld.value.__cause__, RuntimeError)
        assert server.auth_commands == 0
        # The probe closed its socket (not leaked): the server sees the end of the session.
        await wait_until(lambda: server.closed == server.connections, "the server to see EOF")
