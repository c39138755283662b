"""Sign in with Microsoft / Google from Slack, through the signed HTTP endpoint.

Real parts on loopback: the bot's HTTP server, the fake Slack Web API, the fake
identity provider and an aiosmtpd server taking XOAUTH2. The user's browser is
played by the test: for Google it follows the sign-in link to the fake provider and
brings the redirect back to the bot's callback.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import pytest

from bot.logs import install_redaction
from bot.oauth.settings import GOOGLE_CALLBACK_PATH
from bot.store import MemoryStore, RedisStore
from bot.store.base import Store
from tests.bot.store.support import drop_namespace, dump_keys, redis_client, require_redis
from tests.support.harness import Running, form_values, running_bot
from tests.support.oauth import (
    REFRESH_TOKEN,
    USER_CODE,
    FakeIdentityProvider,
    RunningXOAuth2,
    identity_provider,
    leaked,
    xoauth2_server,
)
from tests.support.smtp_server import USER, Certs, make_certs

PUBLIC_URL = "https://smtpcheck.example.test"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("oauth-scenario-certs"))


@asynccontextmanager
async def oauth_bot(
    store: Store, certs: Certs, **idp_options: Any
) -> AsyncIterator[tuple[Running, FakeIdentityProvider, RunningXOAuth2]]:
    async with (
        identity_provider(**idp_options) as idp,
        xoauth2_server(certs.good) as smtp,
    ):
        changes = {"ca_file": certs.ca_file, "oauth": idp.settings(public_url=PUBLIC_URL)}
        async with running_bot(
            store, advise=None, settings_changes=changes, extra_ports=(smtp.port,)
        ) as bot:
            yield bot, idp, smtp


async def submit(
    bot: Running, smtp: RunningXOAuth2, sign_in: str, view_id: str = "V0001", **extra: str | None
) -> None:
    view = await bot.open_modal(channel_id="C0GENERAL")
    choice = next(b for b in view["blocks"] if b.get("block_id") == "signin")
    assert sign_in in [o["value"] for o in choice["element"]["options"]]
    values = form_values(host="127.0.0.1", port=str(smtp.port), username=USER, **extra)
    values["signin"] = {"value": {"type": "radio_buttons", "selected_option": {"value": sign_in}}}
    status, text = await bot.submit(view, values, view_id=view_id)
    assert (status, text) == (200, "")


async def test_microsoft_device_code_in_the_dm_then_the_verdict(
    store: MemoryStore, certs: Certs
) -> None:
    """The code and link come privately in the check's DM thread; then one XOAUTH2 AUTH
    and the usual verdict with buttons."""
    async with oauth_bot(store, certs, polls=["authorization_pending", "token"]) as (
        bot,
        idp,
        smtp,
    ):
        await submit(bot, smtp, "microsoft")
        posts = await bot.slack.wait_for("chat.postMessage", 4)
    parent, prompt = posts[0].params, posts[1].params
    assert parent["channel"] == "D0ALICE"
    assert prompt["channel"] == "D0ALICE" and prompt["thread_ts"] == posts[2].params["thread_ts"]
    assert USER_CODE in prompt["text"] and "https://microsoft.com/devicelogin" in prompt["text"]
    assert idp.polled == ["authorization_pending", "token"]
    assert (smtp.handler.attempts, smtp.handler.accepted) == (1, 1)
    assert "Signed in successfully" in bot.slack.of("chat.update")[-1].params["text"]
    verdict = posts[-1].params
    assert verdict["blocks"][-1]["elements"][0]["text"]["text"] == "Run again"
    assert leaked(bot.slack.everything()) == []


async def test_google_sign_in_link_and_callback(store: MemoryStore, certs: Certs) -> None:
    """The link goes to the DM; the browser's trip through Google ends at the bot's
    callback; the state works once only."""
    async with oauth_bot(store, certs) as (bot, idp, smtp):
        await submit(bot, smtp, "google")
        prompt = (await bot.slack.wait_for("chat.postMessage", 2))[1].params
        link = re.search(r"<(http[^|>]+)\|", prompt["text"])
        assert link is not None and prompt["channel"] == "D0ALICE"
        url = link.group(1).replace("&amp;", "&")
        async with bot.session.get(url, allow_redirects=False) as google:
            location = google.headers["Location"]
        redirect = urlsplit(location)
        assert f"{redirect.scheme}://{redirect.netloc}{redirect.path}" == (
            PUBLIC_URL + GOOGLE_CALLBACK_PATH
        )
        # The load balancer's public URL leads to this process's server.
        callback = bot.url.replace("/slack/events", f"{redirect.path}?{redirect.query}")
        async with bot.session.get(callback) as page:
            assert page.status == 200 and "go back to Slack" in await page.text()
        await bot.slack.wait_for("chat.postMessage", 4)
        async with bot.session.get(callback) as again:
            assert again.status == 400  # single use
    assert idp.redeemed == 1 and smtp.handler.accepted == 1
    assert leaked(bot.slack.everything()) == []


async def test_forged_or_unknown_state_changes_nothing(store: MemoryStore, certs: Certs) -> None:
    """A callback with a state the bot never issued is refused and no token is asked for."""
    async with oauth_bot(store, certs) as (bot, idp, _):
        url = bot.url.replace("/slack/events", f"{GOOGLE_CALLBACK_PATH}?state=forged&code=x")
        async with bot.session.get(url) as page:
            assert page.status == 400
    assert idp.redeemed == 0


async def test_denied_consent_is_explained_and_nothing_probed(
    store: MemoryStore, certs: Certs
) -> None:
    """access_denied: the thread says why, no AUTH was sent, the record says so."""
    async with oauth_bot(store, certs, polls=["access_denied"]) as (bot, _, smtp):
        await submit(bot, smtp, "microsoft")
        posts = await bot.slack.wait_for("chat.postMessage", 3)
    assert "Sign-in failed" in posts[-1].params["text"]
    assert "declined" in posts[-1].params["text"]
    assert smtp.handler.attempts == 0
    records = await store.list_checks("U0ALICE")
    assert records[0].outcome == "sign_in_failed"


async def test_admin_consent_error_names_the_article(store: MemoryStore, certs: Certs) -> None:
    """AADSTS90094 from the token endpoint: admin consent, with the article's title."""
    async with oauth_bot(
        store, certs, polls=["invalid_grant"], description="AADSTS90094: admin consent"
    ) as (bot, _, smtp):
        await submit(bot, smtp, "microsoft")
        posts = await bot.slack.wait_for("chat.postMessage", 3)
    text = posts[-1].params["text"]
    assert "administrator" in text and "AADSTS90094" in text and "Need admin approval" in text


async def test_sign_in_with_a_typed_password_is_refused_in_the_modal(
    store: MemoryStore, certs: Certs
) -> None:
    """A password typed next to "Sign in with Microsoft" is a field error; nothing starts."""
    async with oauth_bot(store, certs) as (bot, idp, smtp):
        view = await bot.open_modal(channel_id="C0GENERAL")
        values = form_values(
            host="127.0.0.1", port=str(smtp.port), username=USER, password="Canary-typed-pw"
        )
        values["signin"] = {
            "value": {"type": "radio_buttons", "selected_option": {"value": "microsoft"}}
        }
        status, text = await bot.submit(view, values)
    assert status == 200 and '"password"' in text and "errors" in text
    assert idp.polled == [] and not bot.slack.of("chat.postMessage")


async def test_no_client_settings_no_sign_in_choice(store: MemoryStore) -> None:
    """Without SMTPCHECK_MS_CLIENT_ID or the Google settings the modal has no choice."""
    async with running_bot(store) as bot:
        view = await bot.open_modal(channel_id="C0GENERAL")
    ids = [b.get("block_id") for b in view["blocks"] if b["type"] == "input"]
    assert ids == ["email", "host", "port", "security", "username", "password"]


async def test_google_is_offered_only_for_google_hosts(store: MemoryStore, certs: Certs) -> None:
    """/smtpcheck smtp.gmail.com offers Google only; smtp.office365.com Microsoft only."""
    async with oauth_bot(store, certs) as (bot, _, _):
        options = {}
        for host in ("smtp.gmail.com:587", "smtp.office365.com:587"):
            view = await bot.open_modal(host)
            block = next(b for b in view["blocks"] if b.get("block_id") == "signin")
            options[host] = [o["value"] for o in block["element"]["options"]]
    assert options == {
        "smtp.gmail.com:587": ["password", "google"],
        "smtp.office365.com:587": ["password", "microsoft"],
    }


async def test_canaries_absent_from_logs_redis_and_slack(
    certs: Certs, caplog: pytest.LogCaptureFixture
) -> None:
    """Token, refresh token, authorization code, device code and client secret: in no
    DEBUG log line, no Redis key or value, no Slack call (both providers)."""
    require_redis()
    install_redaction()
    caplog.set_level(logging.DEBUG)
    namespace = f"test-oauth-{uuid.uuid4().hex}"
    store = RedisStore(redis_client(), namespace=namespace)
    try:
        async with oauth_bot(store, certs) as (bot, idp, smtp):
            await submit(bot, smtp, "microsoft")
            await bot.slack.wait_for("chat.postMessage", 4)
            await submit(bot, smtp, "google", view_id="V0002", email=None)
            await bot.slack.wait_for("chat.postMessage", 6)
            prompt = bot.slack.of("chat.postMessage")[-1].params["text"]
            link = re.search(r"<(http[^|>]+)\|", prompt)
            assert link is not None
            async with bot.session.get(
                link.group(1).replace("&amp;", "&"), allow_redirects=False
            ) as google:
                redirect = urlsplit(google.headers["Location"])
            callback = bot.url.replace("/slack/events", f"{redirect.path}?{redirect.query}")
            async with bot.session.get(callback) as page:
                assert page.status == 200
            await bot.slack.wait_for("chat.postMessage", 8)
            dump = await dump_keys(redis_client(), f"{namespace}:*")
        assert smtp.handler.accepted == 2 and idp.redeemed == 1
        assert "oauth-state:" in dump  # the state is there, as a hash only
        assert leaked(f"a {REFRESH_TOKEN} b") == [REFRESH_TOKEN]  # the search itself works
        assert leaked(dump) == []
        assert leaked(bot.slack.everything()) == []
        assert leaked(caplog.text) == []
    finally:
        await store.close()
        await drop_namespace(namespace)
