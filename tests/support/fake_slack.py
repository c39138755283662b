"""A fake Slack Web API (aiohttp, 127.0.0.1 port 0) that records every call.

Point the bot's ``SLACK_API_URL`` at ``FakeSlack.api_url``. Each call is kept as a
``Call`` (method, parameters as the client sent them, arrival time) so tests can
assert on exactly what reached "Slack", and search every byte of it for a canary.
``fail_next(method, retry_after=1)`` makes the next call to ``method`` answer 429
with ``Retry-After``, once.

Like Slack, ``chat.postEphemeral`` answers ``not_in_channel`` in a channel the bot is
not a member of (``joined``, plus every DM it opened): a DM between two people, or a
channel nobody invited it to; so do ``chat.postMessage`` and ``chat.update`` (the app
has no ``chat:write.public``), except in the bot's own DMs with people (any ``D``
channel but ``PEOPLE_DMS``). ``hook_url`` is a ``response_url`` base: what the bot
POSTs there is recorded as method ``response_url``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

BOT_USER = "U0BOT"
TEAM_ID = "T0TEST"
PERMALINK_BASE = "https://test.slack.invalid/archives/"
# Channels the bot was invited to in every test (the helpdesk, a general and a triage one).
JOINED = frozenset({"C0GENERAL", "C0HELPDESK", "C0TRIAGE"})
# DMs between people (not with the bot): the bot can post in none of them.
PEOPLE_DMS = frozenset({"D0ALICEBOB"})


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    params: dict[str, Any]
    raw: str  # the request body exactly as received
    at: float  # time.perf_counter() on arrival


@dataclass(slots=True)
class FakeSlack:
    calls: list[Call] = field(default_factory=list)
    api_url: str = ""
    hook_url: str = ""
    joined: set[str] = field(default_factory=lambda: set(JOINED))
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # users.info answers
    assistant_threads: set[tuple[str, str]] = field(default_factory=set)
    # Socket Mode: apps.connections.open points at /socket; envelopes put in the outbox
    # are sent to the connected client, and what it sends back is kept in socket_acks.
    socket_outbox: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _views: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _fail: dict[str, int] = field(default_factory=dict)
    _errors: dict[str, list[int]] = field(default_factory=dict)
    _stalls: dict[str, list[float]] = field(default_factory=dict)
    down: bool = False  # every call answers 503 (Slack unreachable, as far as the bot sees)
    auth_error: str | None = None  # auth.test answers {"ok": false, "error": auth_error}
    socket_url: str | None = None  # what apps.connections.open hands out (Socket Mode)
    _changed: asyncio.Condition | None = None
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None

    async def start(self) -> FakeSlack:
        """Listen on 127.0.0.1, port 0; sets ``api_url``."""
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_post("/api/{method}", self._handle)
        app.router.add_get("/api/{method}", self._handle)  # e.g. chat.getPermalink
        # response_url hooks (another Slack host: they keep working while the Web API is down)
        app.router.add_post("/respond/{path:.*}", self._hook)
        app.router.add_post("/hooks/{path:.*}", self._hook)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.api_url = f"http://127.0.0.1:{port}/api/"
        self.hook_url = f"http://127.0.0.1:{port}/hooks/"
        return self

    async def stop(self) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def fail_next(self, method: str, *, retry_after: int = 1) -> None:
        """Answer the next call to ``method`` with 429 and ``Retry-After``."""
        self._fail[method] = retry_after

    def error_next(self, method: str, *, status: int = 500, times: int = 1) -> None:
        """Answer the next ``times`` calls to ``method`` with HTTP ``status``."""
        self._errors.setdefault(method, []).extend([status] * times)

    def stall_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Hold the next ``times`` calls to ``method`` for ``seconds`` before answering
        (a client that gives up earlier never gets the answer)."""
        self._stalls.setdefault(method, []).extend([seconds] * times)

    def of(self, method: str) -> list[Call]:
        """Recorded calls to ``method``, oldest first."""
        return [call for call in self.calls if call.method == method]

    def everything(self) -> str:
        """Every recorded request body, for canary searches."""
        return "\n".join(call.raw for call in self.calls)

    async def wait_for(self, method: str, count: int = 1, within: float = 15.0) -> list[Call]:
        """Wait until ``method`` was called at least ``count`` times; return those calls."""
        assert self._changed is not None

        def enough() -> bool:
            return len(self.of(method)) >= count

        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(enough), within)
            except TimeoutError:
                seen = [call.method for call in self.calls]
                raise AssertionError(f"{method} x{count} never came; saw {seen}") from None
        return self.of(method)

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        # Some methods send their arguments in the query string, even on POST.
        body = await request.text() if request.method == "POST" else ""
        raw = "&".join(part for part in (request.query_string, body) if part)
        params: dict[str, Any] = dict(parse_qsl(request.query_string))
        if request.content_type == "application/json":
            params.update(json.loads(body) if body else {})
        else:
            params.update(parse_qsl(body))
            for key in ("blocks", "view"):
                if isinstance(params.get(key), str):
                    params[key] = json.loads(params[key])
        if self.down:
            self.calls.append(Call(f"{method}#down", params, raw, time.perf_counter()))
            return web.json_response({"ok": False, "error": "service_unavailable"}, status=503)
        if self._stalls.get(method):
            seconds = self._stalls[method].pop(0)
            self.calls.append(Call(f"{method}#stalled", params, raw, time.perf_counter()))
            with contextlib.suppress(TimeoutError):  # stop() ends every stall
                await asyncio.wait_for(self._stopping.wait(), seconds)
        if self._errors.get(method):
            status = self._errors[method].pop(0)
            self.calls.append(Call(f"{method}#{status}", params, raw, time.perf_counter()))
            return web.json_response({"ok": False, "error": "internal_error"}, status=status)
        if method in self._fail:
            retry_after = self._fail.pop(method)
            self.calls.append(Call(f"{method}#429", params, raw, time.perf_counter()))
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(retry_after)},
            )
        self.calls.append(Call(method, params, raw, time.perf_counter()))
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()
        return web.json_response(self._answer(method, params))

    @property
    def response_url(self) -> str:
        return self.api_url.replace("/api/", "/respond/1")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        """A Socket Mode connection: hello, then the outbox's envelopes; acks recorded."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1})

        async def send() -> None:
            while True:
                await ws.send_json(await self.socket_outbox.get())

        sender = asyncio.create_task(send())
        try:
            async for message in ws:
                if message.type == web.WSMsgType.TEXT:
                    self.socket_acks.append(json.loads(message.data))
                    assert self._changed is not None
                    async with self._changed:
                        self._changed.notify_all()
        finally:
            sender.cancel()
        return ws

    async def _hook(self, request: web.Request) -> web.Response:
        """A ``response_url`` POST (JSON), recorded as method ``response_url``;
        ``error_next("response_url")`` and ``stall_next("response_url", s)`` apply."""
        body = await request.text()
        params = json.loads(body) if body else {}
        params["_path"] = request.match_info["path"]
        if self._stalls.get("response_url"):
            seconds = self._stalls["response_url"].pop(0)
            self.calls.append(Call("response_url#stalled", params, body, time.perf_counter()))
            with contextlib.suppress(TimeoutError):  # stop() ends every stall
                await asyncio.wait_for(self._stopping.wait(), seconds)
            return web.Response(text="ok")  # too late: the bot gave up on it
        if self._errors.get("response_url"):
            status = self._errors["response_url"].pop(0)
            self.calls.append(Call(f"response_url#{status}", params, body, time.perf_counter()))
            return web.Response(status=status, text="expired_url")
        self.calls.append(Call("response_url", params, body, time.perf_counter()))
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()
        return web.Response(text="ok")

    def may_post(self, channel: str) -> bool:
        """Whether Slack would let the bot post in ``channel`` (a member, or its own DM)."""
        return channel in self.joined or (channel.startswith("D") and channel not in PEOPLE_DMS)

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test" and self.auth_error is not None:
            return {"ok": False, "error": self.auth_error}
        if method == "apps.connections.open" and self.socket_url is not None:
            return {"ok": True, "url": self.socket_url}
        if method == "auth.test":
            return {
                "ok": True,
                "user_id": BOT_USER,
                "bot_id": "B0BOT",
                "team_id": TEAM_ID,
                "team": "test",
                "user": "smtpcheck",
                "url": "https://test.slack.invalid/",
            }
        if method == "conversations.open":
            users = str(params.get("users", "U0NOBODY"))
            dm = "D" + users.split(",")[0].lstrip("U")
            self.joined.add(dm)
            return {"ok": True, "channel": {"id": dm}}
        if method in ("chat.postMessage", "chat.update") and not self.may_post(
            str(params.get("channel"))
        ):
            return {"ok": False, "error": "not_in_channel"}
        if method in ("chat.postMessage", "chat.update"):
            ts = params.get("ts") or f"1700000000.{next(self._ts):06d}"
            return {
                "ok": True,
                "channel": params.get("channel"),
                "ts": ts,
                "message": {"text": params.get("text", ""), "ts": ts},
            }
        if method == "chat.postEphemeral":
            if str(params.get("channel")) not in self.joined:
                return {"ok": False, "error": "not_in_channel"}
            return {"ok": True, "message_ts": f"1700000001.{next(self._ts):06d}"}
        if method == "chat.getPermalink":
            channel, ts = params.get("channel"), str(params.get("message_ts", ""))
            return {
                "ok": True,
                "channel": channel,
                "permalink": f"{PERMALINK_BASE}{channel}/p{ts.replace('.', '')}",
            }
        if method in ("views.open", "views.update", "views.push", "views.publish"):
            view = params.get("view")
            view = json.loads(view) if isinstance(view, str) else dict(view or {})
            view_id = params.get("view_id") or f"V{next(self._views):04d}"
            view.update({"id": view_id, "hash": f"hash-{view_id}"})
            return {"ok": True, "view": view}
        if method == "apps.connections.open":
            return {
                "ok": True,
                "url": self.api_url.replace("http://", "ws://")[: -len("api/")] + "socket",
            }
        if method == "users.info":
            user = str(params.get("user", ""))
            found = self.users.get(user, {"tz": "UTC", "tz_offset": 0})
            return {"ok": True, "user": {"id": user, **found}}
        if method.startswith("assistant.threads."):
            # Slack accepts these only in assistant threads the test declared.
            thread = (params.get("channel_id"), params.get("thread_ts"))
            if thread not in self.assistant_threads:
                return {"ok": False, "error": "invalid_thread"}
            return {"ok": True}
        return {"ok": False, "error": "unknown_method"}
