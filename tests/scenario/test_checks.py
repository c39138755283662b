"""The Slack flow through the real HTTP endpoint with a scripted probe:
command -> modal -> submission -> DM thread -> buttons."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from bot import messages
from bot.probe.model import Outcome
from bot.store import MemoryStore
from handlers.blocks import check, modal
from tests.support import slack_signing as signing
from tests.support.harness import HELPDESK, Running, form_values, running_bot
from tests.support.scripted import ScriptedProbe

CANARY = "Canary-pa55word-7f3e"


async def run_check(bot: Running, **fields: str | None) -> dict[str, Any]:
    """Open the modal from a channel, submit it, wait for the verdict; return the view."""
    view = await bot.open_modal(channel_id="C0GENERAL")
    values = {
        "host": "mail.example.com",
        "port": "587",
        "security": "auto",
        "username": "alice@example.com",
        "password": CANARY,
    }
    values.update(fields)
    status, text = await bot.submit(view, form_values(**values))
    assert (status, text) == (200, "")
    await bot.slack.wait_for("chat.postMessage", 3)
    return view


async def test_command_opens_the_modal(store: MemoryStore) -> None:
    """/smtpcheck acks at once and opens the probe modal with the DESIGN block ids."""
    async with running_bot(store, probe=ScriptedProbe()) as bot:
        view = await bot.open_modal(channel_id="C0GENERAL")
    ids = [b.get("block_id") for b in view["blocks"] if b["type"] == "input"]
    assert ids == ["email", "host", "port", "security", "username", "password"]
    carried = json.loads(view["private_metadata"])
    assert carried == {"origin": "C0GENERAL", "reply": bot.slack.hook_url + "commands/1"}


async def test_help_and_question_are_answered_in_the_ack(store: MemoryStore) -> None:
    """`help` shows usage and a question gets an article, both without a modal."""
    async with running_bot(store, probe=ScriptedProbe()) as bot:
        status, text = await bot.command("help")
        assert status == 200 and "/smtpcheck you@example.com" in text
        status, text = await bot.command("outlook keeps asking for my password")
        assert status == 200
        answer = json.loads(text)
        assert answer["blocks"] and answer["text"]
        assert not bot.slack.of("views.open")


async def test_submission_runs_the_check_into_the_dm_thread(store: MemoryStore) -> None:
    """Submit closes the modal; the DM gets a parent, updates, details and the verdict
    with buttons; the channel gets a private pointer through the command's response_url
    (never chat.postEphemeral); no password anywhere."""
    probe = ScriptedProbe()
    async with running_bot(store, probe=probe) as bot:
        await run_check(bot)
        slack = bot.slack
        assert slack.of("conversations.open")[0].params["users"] == "U0ALICE"
        parent, details, verdict = slack.of("chat.postMessage")
        assert parent.params["channel"] == "D0ALICE"
        assert parent.params["text"] == "Checking `mail.example.com:587` ..."
        ts = slack.of("chat.update")[-1].params["ts"]
        assert details.params["thread_ts"] == verdict.params["thread_ts"] == ts
        # The verdict notifies: it is also sent to the conversation, not only an edit.
        assert verdict.params.get("reply_broadcast") in (True, "1", "true")
        assert "reply_broadcast" not in details.params
        assert details.params["text"] == "Step by step: all 4 stages of the check"
        assert "Signed in successfully" in slack.of("chat.update")[-1].params["text"]
        buttons = verdict.params["blocks"][-1]["elements"]
        assert [b["text"]["text"] for b in buttons] == ["Run again", "Talk to a human"]
        check_id = buttons[0]["value"]
        record = await store.get_check(check_id)
        assert record is not None and record.outcome == "authenticated"
        assert not slack.of("chat.postEphemeral")
        pointer = slack.of("response_url")[0].params
        assert pointer["_path"] == "commands/1" and pointer["response_type"] == "ephemeral"
        assert "archives/D0ALICE" in pointer["text"] and "`mail.example.com:587`" in pointer["text"]
        assert probe.requests[0].password is not None
        assert probe.requests[0].password.reveal() == CANARY
        assert CANARY not in slack.everything()


async def test_failed_sign_in_gets_the_fix_button(store: MemoryStore) -> None:
    """A rejected AUTH shows the diagnosis and offers "Walk me through the fix", which
    posts the article's steps in the thread."""
    async with running_bot(store, probe=ScriptedProbe(Outcome.AUTH_REJECTED)) as bot:
        await run_check(bot)
        verdict = bot.slack.of("chat.postMessage")[-1].params
        assert "Check your username and password" in json.dumps(verdict["blocks"])
        details = bot.slack.of("chat.postMessage")[-2].params
        assert details["text"] == "Step by step: 4 stages, stopped at Sign in"
        fix = verdict["blocks"][-1]["elements"][0]
        assert fix["text"]["text"] == messages.BUTTON_FIX
        await bot.interact(signing.block_action(check.ACTION_FIX, fix["value"]))
        steps = (await bot.slack.wait_for("chat.postMessage", 4))[-1].params
        assert steps["thread_ts"] == verdict["thread_ts"]
        assert "Check your username and password" in steps["text"]


async def test_only_the_owner_can_use_the_buttons(store: MemoryStore) -> None:
    """Someone else clicking a check's button gets an ephemeral refusal, nothing else."""
    async with running_bot(store, probe=ScriptedProbe()) as bot:
        await run_check(bot)
        check_id = bot.slack.of("chat.postMessage")[-1].params["blocks"][-1]["elements"][0]["value"]
        posts = len(bot.slack.of("chat.postMessage"))
        hooks = len(bot.slack.of("response_url"))  # the pointer to the DM
        await bot.interact(signing.block_action(check.ACTION_HUMAN, check_id, user_id="U0MALLORY"))
        refusal = (await bot.slack.wait_for("response_url", hooks + 1))[-1].params
        assert refusal["response_type"] == "ephemeral"
        assert "belongs to <@U0ALICE>" in refusal["text"]
        assert len(bot.slack.of("chat.postMessage")) == posts


async def test_talk_to_a_human_posts_a_secret_free_summary(store: MemoryStore) -> None:
    """The helpdesk channel gets who, what server and the result, without the password;
    a second click does not post again."""
    async with running_bot(store, probe=ScriptedProbe(Outcome.AUTH_REJECTED)) as bot:
        await run_check(bot)
        check_id = bot.slack.of("chat.postMessage")[-1].params["blocks"][-1]["elements"][0]["value"]
        for _ in range(2):
            await bot.interact(signing.block_action(check.ACTION_HUMAN, check_id))
        await bot.slack.wait_for("chat.postMessage", 6)
        to_helpdesk = [
            c for c in bot.slack.of("chat.postMessage") if c.params["channel"] == HELPDESK
        ]
        assert len(to_helpdesk) == 1
        assert "mail.example.com:587" in to_helpdesk[0].params["text"]
        assert CANARY not in bot.slack.everything()


async def test_helpdesk_unset_says_so(store: MemoryStore) -> None:
    """Without SMTPCHECK_HELPDESK_CHANNEL the user is told nothing was passed on."""
    changes = {"helpdesk_channel": None}
    async with running_bot(store, probe=ScriptedProbe(), settings_changes=changes) as bot:
        await run_check(bot)
        check_id = bot.slack.of("chat.postMessage")[-1].params["blocks"][-1]["elements"][0]["value"]
        await bot.interact(signing.block_action(check.ACTION_HUMAN, check_id))
        reply = (await bot.slack.wait_for("chat.postMessage", 4))[-1].params
        assert reply["text"] == messages.HELPDESK_MISSING


async def test_run_again_reopens_the_modal_without_the_password(store: MemoryStore) -> None:
    """ "Run again" opens the modal prefilled with host, port and username only."""
    async with running_bot(store, probe=ScriptedProbe()) as bot:
        await run_check(bot)
        check_id = bot.slack.of("chat.postMessage")[-1].params["blocks"][-1]["elements"][0]["value"]
        await bot.interact(signing.block_action(check.ACTION_AGAIN, check_id))
        view = (await bot.slack.wait_for("views.open", 2))[-1].params["view"]
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs["host"]["initial_value"] == "mail.example.com"
    assert inputs["port"]["initial_value"] == "587"
    assert inputs["username"]["initial_value"] == "alice@example.com"
    assert "initial_value" not in inputs["password"]


async def test_invalid_values_come_back_as_field_errors(store: MemoryStore) -> None:
    """A bad port and a URL-shaped host are reported on their own fields; nothing runs."""
    probe = ScriptedProbe()
    async with running_bot(store, probe=probe) as bot:
        view = await bot.open_modal()
        status, text = await bot.submit(view, form_values(host="mail.example.com", port="99x"))
        assert status == 200 and list(json.loads(text)["errors"]) == ["port"]
        status, text = await bot.submit(view, form_values(host="smtp://mail.example.com"))
        assert json.loads(text)["response_action"] == "errors"
        assert list(json.loads(text)["errors"]) == ["host"]
        status, text = await bot.submit(
            view, form_values(host="mail.example.com", username="bob", password=None)
        )
        assert list(json.loads(text)["errors"]) == ["password"]
    assert probe.requests == []


async def test_field_errors_read_as_sentences(store: MemoryStore) -> None:
    """Each inline error starts "The <field>" and goes on as a sentence: a username
    without a password says the password is missing, not "The password a username ..."."""
    async with running_bot(store, probe=ScriptedProbe(), extra_ports=(2526,)) as bot:
        view = await bot.open_modal()
        cases = {
            "password": form_values(host="mail.example.com", username="bob", password=None),
            "username": form_values(host="mail.example.com", username=None, password=CANARY),
        }
        for field, values in cases.items():
            _, text = await bot.submit(view, values)
            said = json.loads(text)["errors"][field]
            assert said.startswith(f"The {field} is missing: "), said
    async with running_bot(
        store, probe=ScriptedProbe(), settings_changes={"allowed_ports": frozenset({2526})}
    ) as bot:
        view = await bot.open_modal()
        _, text = await bot.submit(view, form_values(host="mail.example.com", port=None))
        said = json.loads(text)["errors"]["port"]
        assert said.startswith("The port is not given, and the default port 587 is"), said


async def test_double_submit_runs_one_check(store: MemoryStore) -> None:
    """Two deliveries of the same submission (view id + hash) start one probe."""
    probe = ScriptedProbe()
    async with running_bot(store, probe=probe) as bot:
        view = await bot.open_modal()
        values = form_values(host="mail.example.com", username="a@example.com", password=CANARY)
        results = await asyncio.gather(bot.submit(view, values), bot.submit(view, values))
        assert all(status == 200 for status, _ in results)
        await bot.slack.wait_for("chat.postMessage", 3)
        await asyncio.sleep(0.2)
    assert len(probe.requests) == 1


async def test_email_prefills_from_the_provider_table(store: MemoryStore) -> None:
    """/smtpcheck with a known provider's address opens the modal with its server filled
    in, without waiting on DNS."""
    async with running_bot(store, probe=ScriptedProbe()) as bot:
        view = await bot.open_modal("someone@gmail.com")
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs["host"]["initial_value"] == "smtp.gmail.com"
    assert inputs["username"]["initial_value"] == "someone@gmail.com"
    assert "initial_value" not in inputs["password"]


async def test_email_prefills_from_thunderbirds_ispdb(store: MemoryStore) -> None:
    """An ISPDB-only domain (free.fr) prefills its server, and the username in ISPDB's form
    (the part before the @), without waiting on DNS."""
    async with running_bot(store, probe=ScriptedProbe()) as bot:
        view = await bot.open_modal("jean.dupont@free.fr")
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs["host"]["initial_value"] == "smtp.free.fr"
    assert inputs["port"]["initial_value"] == "465"
    assert inputs["username"]["initial_value"] == "jean.dupont"
    assert "Free" in str(view["blocks"][0])


async def test_oauth_only_provider_is_said_in_the_modal(store: MemoryStore) -> None:
    """An ISPDB provider that takes only OAuth (hotmail.co.jp): the modal's note says so."""
    async with running_bot(store, probe=ScriptedProbe()) as bot:
        view = await bot.open_modal("someone@hotmail.co.jp")
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs["host"]["initial_value"] == "smtp-mail.outlook.com"
    assert "accepts only OAuth sign-in" in str(view["blocks"][0])


async def test_unknown_domain_still_opens_the_modal_in_time(store: MemoryStore) -> None:
    """When discovery cannot finish (DNS unreachable) the modal opens within the
    trigger window with what is known."""
    async with running_bot(store, probe=ScriptedProbe()) as bot:
        started = asyncio.get_running_loop().time()
        view = await bot.open_modal("someone@unknown-domain.example")
        elapsed = asyncio.get_running_loop().time() - started
    inputs = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert inputs["username"]["initial_value"] == "someone@unknown-domain.example"
    assert elapsed < 2.5


async def test_home_tab_is_published_and_opens_the_modal(store: MemoryStore) -> None:
    """Opening App Home publishes it; its button opens the probe modal."""
    event = {"type": "app_home_opened", "user": "U0ALICE", "channel": "D0ALICE", "tab": "home"}
    async with running_bot(store, probe=ScriptedProbe()) as bot:
        await bot.event(event)
        home = (await bot.slack.wait_for("views.publish"))[0].params
        assert home["user_id"] == "U0ALICE"
        await bot.interact(signing.block_action("home_start_check", ""))
        view = (await bot.slack.wait_for("views.open"))[0].params["view"]
    assert view["callback_id"] == modal.MODAL_CALLBACK


def outside_code_spans(text: str) -> str:
    """``text`` with every inline code span removed."""
    return re.sub(r"`[^`]*`", "", text)


async def test_server_text_is_escaped_and_code_spanned_everywhere(store: MemoryStore) -> None:
    """A hostile banner and mechanism names never reach a message, its text fallback or
    the helpdesk summary outside a code span, and never unescaped (no ping, no link)."""
    hostile = ScriptedProbe(
        Outcome.REACHABLE,
        banner="<!channel> see http://evil.example/x",
        mechanisms=("PLAIN", "<@U0ADMIN>", "evil.example"),
    )
    async with running_bot(store, probe=hostile, advise=None) as bot:
        await run_check(bot, username=None, password=None)
        verdict = bot.slack.of("chat.postMessage")[-1].params
        human = next(
            b for b in verdict["blocks"][-1]["elements"] if b["action_id"] == "check_human"
        )
        await bot.interact(signing.block_action(check.ACTION_HUMAN, human["value"]))
        await bot.slack.wait_for("chat.postMessage", 5)
        sent = bot.slack.of("chat.postMessage") + bot.slack.of("chat.update")
        assert any(c.params.get("channel") == HELPDESK for c in sent)
        for call in sent:
            params = call.params
            texts = [
                str(params.get("text", "")),
                *re.findall(r'"text": "((?:[^"\\]|\\.)*)"', json.dumps(params.get("blocks") or [])),
            ]
            for text in texts:
                assert "<!channel>" not in text and "<@U0ADMIN>" not in text
                assert "evil.example" not in outside_code_spans(text), text
        assert "&lt;!channel&gt;" in json.dumps([c.params for c in sent])


async def test_long_arguments_are_clipped_to_the_modal_fields(store: MemoryStore) -> None:
    """`/smtpcheck` with a host or address longer than its field allows opens a modal
    Slack accepts (every value within its max_length) that says what was shortened."""
    host = "a" * 60 + "." + "b" * 400 + ".example.com"
    email = "c" * 400 + "@unknown-domain.example"
    async with running_bot(store, probe=ScriptedProbe()) as bot:
        for typed, field in ((f"{host}:587", "Outgoing mail server"), (email, "Your email")):
            view = await bot.open_modal(typed)
            for block in view["blocks"]:
                element = block.get("element", {})
                if "initial_value" in element:
                    assert len(element["initial_value"]) <= element["max_length"]
            assert "shortened it" in view["blocks"][0]["text"]["text"]
            assert field in view["blocks"][0]["text"]["text"]


async def test_a_check_from_a_channel_the_bot_is_not_in_still_reports(store: MemoryStore) -> None:
    """Started from a channel the bot never joined (where Slack answers postEphemeral
    with not_in_channel), the pointer still arrives, through the command's response_url
    carried in the modal's metadata; the DM gets the whole check; the user sees no error."""
    async with running_bot(store, probe=ScriptedProbe()) as bot:
        view = await bot.open_modal(channel_id="C0NOTJOINED")
        values = form_values(host="mail.example.com", port="587", security="auto")
        status, text = await bot.submit(view, values)
        assert (status, text) == (200, "")
        await bot.slack.wait_for("chat.postMessage", 3)
        assert not bot.slack.of("chat.postEphemeral")
        assert all(c.params["channel"] == "D0ALICE" for c in bot.slack.of("chat.postMessage"))
        pointer = (await bot.slack.wait_for("response_url"))[0].params
        assert "archives/D0ALICE" in pointer["text"]


async def test_a_forged_or_missing_reply_url_is_not_used(store: MemoryStore) -> None:
    """A response_url in the metadata that is not Slack's (here a listener on another
    loopback port) is never POSTed to, and a modal without one still runs the check
    into the DM (which notifies)."""
    from aiohttp import web

    received: list[str] = []

    async def record(request: web.Request) -> web.Response:
        received.append(await request.text())
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/{path:.*}", record)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    elsewhere = f"http://127.0.0.1:{runner.addresses[0][1]}/hooks/1"
    async with running_bot(store, probe=ScriptedProbe()) as bot:
        view = await bot.open_modal(channel_id="C0NOTJOINED")
        forged = json.loads(view["private_metadata"])
        for n, reply in enumerate((elsewhere, None)):
            forged["reply"] = reply
            values = form_values(host=f"mail{n}.example.com", port="587", security="auto")
            changed = {**view, "private_metadata": json.dumps(forged)}
            status, _ = await bot.submit(changed, values, view_id=f"VF{n}")
            assert status == 200
            await bot.slack.wait_for("chat.postMessage", 3 * (n + 1))
        assert not bot.slack.of("response_url") and not bot.slack.of("chat.postEphemeral")
    await runner.cleanup()
    assert received == []


def test_only_slack_response_urls_are_trusted() -> None:
    """Slack's hook hosts (https) and the configured Web API's own host pass; any other
    host, scheme, credentials, query or oversized value does not."""
    from bot.runtime.private import trusted_response_url

    api = "http://127.0.0.1:4321/api/"
    good = ["https://hooks.slack.com/commands/T1/2/abc", "http://127.0.0.1:4321/hooks/x/1"]
    assert [trusted_response_url(u, api) for u in good] == good
    bad = [
        None,
        42,
        "http://hooks.slack.com/commands/T1/2/abc",
        "https://hooks.slack.com.evil.example/commands/1",
        "https://user:pw@hooks.slack.com/commands/1",
        "https://hooks.slack.com/commands/1?x=1",
        "http://127.0.0.1:4322/hooks/x/1",
        "https://hooks.slack.com/" + "a" * 600,
        "https://hooks.slack.com/a b",
    ]
    assert all(trusted_response_url(u, api) is None for u in bad)
