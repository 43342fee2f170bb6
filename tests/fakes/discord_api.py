"""A fake Discord on 127.0.0.1: the REST API (v10 JSON shapes) and a gateway WebSocket.

It enforces what the real Discord enforces and a bot can get wrong: the 3-second acknowledgement,
one acknowledgement per interaction, 2,000 characters of content, 5 action rows of 5 buttons,
100-character custom ids and 80-character labels. Every breach is answered with Discord's error and
recorded in ``violations`` so a test can assert there were none.

Members are driven in Errbot's style::

    member = fake.member(1001)
    await member.slash("optout start")
    msg = await member.pop_message()
    await member.press("Pro")
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

ACK_DEADLINE = 3.0  # seconds Discord waits for an interaction's first response
CONTENT_LIMIT = 2000
ROWS_LIMIT = 5
BUTTONS_PER_ROW = 5
CUSTOM_ID_LIMIT = 100
LABEL_LIMIT = 80
EPHEMERAL = 1 << 6
LOADING = 1 << 7
MANAGE_GUILD = 1 << 5
MEMBER_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 31)  # view channel, send messages, use app commands
ADMIN_PERMISSIONS = MEMBER_PERMISSIONS | MANAGE_GUILD
STAMP = "2026-11-22T12:00:00.000000+00:00"

_ids = itertools.count(1_300_000_000_000_000_000)


def snowflake() -> int:
    return next(_ids)


@dataclass
class FakeMessage:
    id: int
    channel_id: int
    content: str
    components: list[dict[str, Any]]
    flags: int = 0
    # Who can see it: a member id for an ephemeral message or a DM, None for everyone in the channel.
    visible_to: int | None = None
    edits: int = 0

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    def buttons(self) -> list[dict[str, Any]]:
        return [c for row in self.components for c in row.get("components", [])]

    def labels(self) -> list[str]:
        return [b.get("label", "") for b in self.buttons()]

    def button(self, label: str) -> dict[str, Any] | None:
        return next((b for b in self.buttons() if b.get("label") == label), None)

    def snapshot(self) -> FakeMessage:
        return FakeMessage(self.id, self.channel_id, self.content, json.loads(json.dumps(self.components)),
                           self.flags, self.visible_to, self.edits)


@dataclass
class Interaction:
    """One interaction as the fake sent it, and what the bot did with it."""

    id: int
    token: str
    kind: str  # "command" or "component"
    member_id: int
    channel_id: int
    message_id: int | None = None  # the pressed message
    sent_at: float = 0.0
    acked_at: float | None = None
    ack_type: int | None = None
    response_message_id: int | None = None
    errors: list[str] = field(default_factory=list)
    acked: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def ack_seconds(self) -> float | None:
        return None if self.acked_at is None else self.acked_at - self.sent_at


class FakeDiscord:
    """The fake API and gateway. ``base_url`` is what the bot gets as DISCORD_API_BASE_URL."""

    def __init__(self, token: str, *, ack_deadline: float = ACK_DEADLINE) -> None:
        self.token = token
        self.ack_deadline = ack_deadline
        self.app_id = snowflake()
        self.bot_id = self.app_id
        self.guild_id = snowflake()
        self.channel_id = snowflake()  # #general, where members run commands
        self.news_channel_id = snowflake()  # #news, for announcements
        self.messages: dict[int, FakeMessage] = {}
        self.interactions: dict[int, Interaction] = {}
        self._by_token: dict[str, Interaction] = {}
        self.members: dict[int, FakeMember] = {}
        self.dm_channels: dict[int, int] = {}  # channel id -> member id
        self.closed_dms: set[int] = set()
        self.syncs: list[tuple[str, list[dict[str, Any]]]] = []
        self.commands: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, int]] = []
        self.violations: list[str] = []
        # Waits (seconds) of the next requests answered with a global 429, as Discord does past ~50 a second.
        self.global_limit_next: list[float] = []
        self.identifies = 0
        self._sockets: list[_Gateway] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    # Lifecycle --------------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", "/api/v10/{path:.*}", self._rest)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        for gw in list(self._sockets):
            await gw.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def sync_count(self, scope: str | None = None) -> int:
        return sum(1 for s, _ in self.syncs if scope is None or s == scope)

    def ack_times(self) -> list[float]:
        return [i.ack_seconds for i in self.interactions.values() if i.ack_seconds is not None]

    def member(self, user_id: int, *, admin: bool = False, in_dm: bool = False, locale: str = "en-US") -> FakeMember:
        member = FakeMember(self, user_id, admin=admin, in_dm=in_dm, locale=locale)
        self.members[user_id] = member
        return member

    async def wait_identified(self, count: int = 1, within: float = 20.0) -> None:
        deadline = time.monotonic() + within
        while self.identifies < count or not any(gw.identified and not gw.ws.closed for gw in self._sockets):
            if time.monotonic() > deadline:
                raise AssertionError(f"the bot did not connect to the fake gateway ({self.identifies} IDENTIFY)")
            await asyncio.sleep(0.02)

    def _live(self, guild_id: int | None = None) -> _Gateway | None:
        """The connection an event goes to: with shards, the one Discord's rule names (DMs go to shard 0)."""
        live = [gw for gw in self._sockets if gw.identified and not gw.ws.closed]
        sharded = [gw for gw in live if gw.shard is not None]
        if sharded:
            count = sharded[0].shard[1]
            wanted = (guild_id >> 22) % count if guild_id else 0
            owner = [gw for gw in sharded if gw.shard[0] == wanted]
            return owner[-1] if owner else None
        return live[-1] if live else None

    @property
    def shards(self) -> list[tuple[int, int]]:
        """The (shard id, shard count) of every live sharded connection."""
        return sorted(gw.shard for gw in self._sockets if gw.shard and gw.identified and not gw.ws.closed)

    # Payloads ---------------------------------------------------------------------------------
    def user_json(self, user_id: int, *, bot: bool = False) -> dict[str, Any]:
        return {"id": str(user_id), "username": f"user{user_id}" if not bot else "optout", "discriminator": "0",
                "global_name": None, "avatar": None, "bot": bot, "public_flags": 0, "flags": 0}

    def _channel_json(self, channel_id: int, name: str) -> dict[str, Any]:
        return {"id": str(channel_id), "type": 0, "name": name, "guild_id": str(self.guild_id), "position": 0,
                "permission_overwrites": [], "parent_id": None, "nsfw": False, "topic": None,
                "last_message_id": None, "rate_limit_per_user": 0, "flags": 0}

    def guild_json(self) -> dict[str, Any]:
        everyone = {"id": str(self.guild_id), "name": "@everyone", "permissions": str(MEMBER_PERMISSIONS),
                    "position": 0, "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0}
        return {
            "id": str(self.guild_id), "name": "Privacy Club", "icon": None, "owner_id": "1", "roles": [everyone],
            "channels": [self._channel_json(self.channel_id, "general"), self._channel_json(self.news_channel_id, "news")],
            "members": [], "member_count": 2, "features": [], "emojis": [], "stickers": [], "threads": [],
            "stage_instances": [], "guild_scheduled_events": [], "voice_states": [], "presences": [],
            "large": False, "unavailable": False, "premium_tier": 0, "mfa_level": 0, "verification_level": 0,
            "explicit_content_filter": 0, "default_message_notifications": 0, "system_channel_flags": 0,
            "preferred_locale": "en-US", "nsfw_level": 0, "joined_at": STAMP, "afk_timeout": 300,
        }

    def message_json(self, msg: FakeMessage) -> dict[str, Any]:
        return {
            "id": str(msg.id), "channel_id": str(msg.channel_id), "author": self.user_json(self.bot_id, bot=True),
            "content": msg.content, "timestamp": STAMP, "edited_timestamp": STAMP if msg.edits else None,
            "tts": False, "mention_everyone": False, "mentions": [], "mention_roles": [], "attachments": [],
            "embeds": [], "pinned": False, "type": 0, "flags": msg.flags, "components": msg.components,
            "application_id": str(self.app_id),
        }

    # Limits -----------------------------------------------------------------------------------
    def check_message(self, body: dict[str, Any]) -> list[str]:
        problems = []
        content = body.get("content") or ""
        if len(content) > CONTENT_LIMIT:
            problems.append(f"content is {len(content)} characters (limit {CONTENT_LIMIT})")
        rows = body.get("components") or []
        if len(rows) > ROWS_LIMIT:
            problems.append(f"{len(rows)} action rows (limit {ROWS_LIMIT})")
        seen: set[str] = set()
        for row in rows:
            buttons = row.get("components", [])
            if row.get("type") != 1 or not buttons:
                problems.append("a top-level component is not a non-empty action row")
            if len(buttons) > BUTTONS_PER_ROW:
                problems.append(f"{len(buttons)} buttons in a row (limit {BUTTONS_PER_ROW})")
            for b in buttons:
                if len(b.get("label") or "") > LABEL_LIMIT:
                    problems.append(f"label of {len(b['label'])} characters (limit {LABEL_LIMIT})")
                if b.get("style") == 5:
                    if not b.get("url"):
                        problems.append("link button without url")
                    continue
                cid = b.get("custom_id") or ""
                if not cid or len(cid) > CUSTOM_ID_LIMIT:
                    problems.append(f"custom_id of {len(cid)} characters (limit {CUSTOM_ID_LIMIT}): {cid!r}")
                if cid in seen:
                    problems.append(f"duplicate custom_id {cid!r}")
                seen.add(cid)
        if not content and not rows and "content" in body:
            problems.append("empty message")
        return problems

    # REST -------------------------------------------------------------------------------------
    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["path"]
        body: Any = None
        if request.can_read_body:
            raw = await request.read()
            body = json.loads(raw) if raw and request.content_type == "application/json" else None
        webhook = path.startswith(("/webhooks/", "/interactions/"))
        if not webhook and request.headers.get("Authorization") != f"Bot {self.token}":
            return self._record(request, path, _json({"message": "401: Unauthorized", "code": 0}, 401))
        if self.global_limit_next and not webhook:
            # Discord's global rate limit (per bot, every route): a 429 with "global" set, for any request.
            wait = self.global_limit_next.pop(0)
            limited = _json({"message": "You are being rate limited.", "retry_after": wait, "global": True}, 429)
            # Via: discord.py takes a 429 without it for Cloudflare's ban.
            limited.headers.update({"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global",
                                    "Retry-After": str(wait), "Via": "1.1 google"})
            return self._record(request, path, limited)
        try:
            response = await self._route(request.method, path, body, request)
        except _Refused as exc:
            response = _json({"message": exc.message, "code": exc.code}, exc.status)
        return self._record(request, path, response)

    def _record(self, request: web.Request, path: str, response: web.Response) -> web.Response:
        self.requests.append((request.method, path, response.status))
        return response

    async def _route(self, method: str, path: str, body: Any, request: web.Request) -> web.Response:
        parts = path.strip("/").split("/")
        if (method, path) == ("GET", "/users/@me"):
            return _json(self.user_json(self.bot_id, bot=True))
        if (method, path) == ("GET", "/oauth2/applications/@me"):
            return _json({"id": str(self.app_id), "name": "Opt-Out Assistant", "description": "", "icon": None,
                          "bot_public": True, "bot_require_code_grant": False, "verify_key": "0" * 64,
                          "owner": self.user_json(1), "flags": 0, "team": None})
        if (method, path) == ("GET", "/gateway/bot"):
            return _json({"url": self.gateway_url, "shards": 1, "session_start_limit": {
                "total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}})
        if method == "PUT" and parts[0] == "applications" and parts[-1] == "commands":
            scope = parts[3] if len(parts) == 5 else "global"
            return _json(self._sync(scope, body))
        if method == "GET" and parts[0] == "applications" and parts[-1] == "commands":
            return _json(list(self.commands.values()))
        if (method, path) == ("POST", "/users/@me/channels"):
            member_id = int(body["recipient_id"])
            channel_id = next((c for c, m in self.dm_channels.items() if m == member_id), None) or snowflake()
            self.dm_channels[channel_id] = member_id
            return _json({"id": str(channel_id), "type": 1, "last_message_id": None, "flags": 0,
                          "recipients": [self.user_json(member_id)]})
        if method == "POST" and parts[0] == "channels" and parts[-1] == "messages":
            return self._channel_message(int(parts[1]), body)
        if method == "POST" and parts[0] == "interactions" and parts[-1] == "callback":
            return self._callback(int(parts[1]), parts[2], body, request)
        if parts[0] == "webhooks" and len(parts) >= 3:
            return self._webhook(method, parts, body)
        raise _Refused(404, 0, f"404: Not Found ({method} {path})")

    def _sync(self, scope: str, commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
        self.syncs.append((scope, commands))
        out = []
        for command in commands:
            stored = {**command, "id": str(snowflake()), "application_id": str(self.app_id), "version": str(snowflake())}
            if scope != "global":
                stored["guild_id"] = scope
            self.commands[command["name"]] = stored
            out.append(stored)
        return out

    def _new_message(self, channel_id: int, body: dict[str, Any], *, visible_to: int | None, flags: int = 0) -> FakeMessage:
        # The "thinking…" placeholder of a deferred command is the one message allowed to be empty.
        problems = [] if flags & LOADING else self.check_message(body)
        if problems:
            self.violations.extend(problems)
            raise _Refused(400, 50035, f"Invalid Form Body: {'; '.join(problems)}")
        flags |= int(body.get("flags") or 0)
        msg = FakeMessage(snowflake(), channel_id, body.get("content") or "", body.get("components") or [], flags,
                          visible_to if (flags & EPHEMERAL or channel_id in self.dm_channels) else None)
        self.messages[msg.id] = msg
        self._notify(msg)
        return msg

    def _edit(self, msg: FakeMessage, body: dict[str, Any]) -> FakeMessage:
        problems = self.check_message({"content": body.get("content", msg.content), **{
            k: v for k, v in body.items() if k == "components"}})
        if problems:
            self.violations.extend(problems)
            raise _Refused(400, 50035, f"Invalid Form Body: {'; '.join(problems)}")
        if "content" in body:
            msg.content = body["content"] or ""
        if "components" in body:
            msg.components = body["components"] or []
        msg.flags &= ~LOADING
        msg.edits += 1
        self._notify(msg)
        return msg

    def _notify(self, msg: FakeMessage) -> None:
        if msg.flags & LOADING:
            return  # the "thinking…" placeholder; its edit is what the member reads
        if msg.visible_to is not None:
            audience = [self.members[msg.visible_to]] if msg.visible_to in self.members else []
        else:
            audience = list(self.members.values())
        for member in audience:
            if member.can_see(msg):
                if msg.id not in member.seen:
                    member.seen[msg.id] = None
                member.inbox.put_nowait(msg.snapshot())

    def _channel_message(self, channel_id: int, body: dict[str, Any]) -> web.Response:
        if channel_id in self.dm_channels:
            member_id = self.dm_channels[channel_id]
            if member_id in self.closed_dms:
                raise _Refused(403, 50007, "Cannot send messages to this user")
            return _json(self.message_json(self._new_message(channel_id, body, visible_to=member_id)))
        if channel_id not in (self.channel_id, self.news_channel_id):
            raise _Refused(404, 10003, "Unknown Channel")
        return _json(self.message_json(self._new_message(channel_id, body, visible_to=None)))

    def _callback(self, interaction_id: int, token: str, body: dict[str, Any], request: web.Request) -> web.Response:
        inter = self.interactions.get(interaction_id)
        if inter is None or inter.token != token:
            raise _Refused(404, 10062, "Unknown interaction")
        now = time.monotonic()
        if inter.acked_at is not None:
            inter.errors.append("second acknowledgement")
            self.violations.append(f"interaction {inter.id}: acknowledged twice")
            raise _Refused(400, 40060, "Interaction has already been acknowledged.")
        if now - inter.sent_at > self.ack_deadline:
            inter.errors.append("late acknowledgement")
            self.violations.append(f"interaction {inter.id}: acknowledged after {now - inter.sent_at:.2f} s")
            raise _Refused(404, 10062, "Unknown interaction")
        kind, data = body.get("type"), body.get("data") or {}
        if kind in (6, 7) and inter.kind != "component":
            raise _Refused(400, 50035, "Invalid Form Body: type 6/7 only answers a component")
        message: FakeMessage | None = None
        if kind == 4:
            message = self._new_message(inter.channel_id, data, visible_to=inter.member_id)
        elif kind == 5:
            message = self._new_message(inter.channel_id, data, visible_to=inter.member_id, flags=LOADING)
        elif kind == 7:
            message = self._edit(self.messages[inter.message_id], data)  # type: ignore[index]
        elif kind == 6:
            message = self.messages[inter.message_id]  # type: ignore[index]
        else:
            raise _Refused(400, 50035, f"Invalid Form Body: unknown response type {kind}")
        inter.acked_at, inter.ack_type, inter.response_message_id = now, kind, message.id
        inter.acked.set()
        if request.query.get("with_response") not in ("1", "true"):
            return web.Response(status=204)
        return _json({
            "interaction": {"id": str(inter.id), "type": 2 if inter.kind == "command" else 3,
                            "response_message_id": str(message.id), "response_message_loading": kind == 5,
                            "response_message_ephemeral": message.ephemeral},
            "resource": {"type": kind, "message": self.message_json(message)},
        })

    def _webhook(self, method: str, parts: list[str], body: dict[str, Any]) -> web.Response:
        inter = self._by_token.get(parts[2])
        if inter is None or parts[1] != str(self.app_id):
            raise _Refused(404, 10015, "Unknown Webhook")
        if inter.acked_at is None:
            self.violations.append(f"interaction {inter.id}: follow-up before acknowledgement")
            raise _Refused(404, 10015, "Unknown Webhook")
        if method == "POST" and len(parts) == 3:
            msg = self._new_message(inter.channel_id, body, visible_to=inter.member_id)
            return _json(self.message_json(msg))
        if len(parts) == 5 and parts[3] == "messages":
            target = inter.response_message_id if parts[4] == "@original" else int(parts[4])
            msg = self.messages.get(target)  # type: ignore[arg-type]
            if msg is None:
                raise _Refused(404, 10008, "Unknown Message")
            if method == "PATCH":
                return _json(self.message_json(self._edit(msg, body)))
            if method == "GET":
                return _json(self.message_json(msg))
        raise _Refused(405, 0, "405: Method Not Allowed")

    # Gateway ----------------------------------------------------------------------------------
    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        gw = _Gateway(ws, zlib.compressobj() if request.query.get("compress") == "zlib-stream" else None)
        self._sockets.append(gw)
        await gw.send({"op": 10, "d": {"heartbeat_interval": 41250}})
        async for frame in ws:
            if frame.type != WSMsgType.TEXT:
                break
            payload = json.loads(frame.data)
            op = payload.get("op")
            if op == 1:
                await gw.send({"op": 11})
            elif op == 2:
                if payload["d"].get("token") != self.token:
                    await ws.close(code=4004, message=b"Authentication failed.")
                    break
                self.identifies += 1
                shard = payload["d"].get("shard")  # [id, count] from a sharded client
                gw.shard = tuple(shard) if shard else None
                await gw.dispatch("READY", {
                    **({"shard": shard} if shard else {}),
                    "v": 10, "user": self.user_json(self.bot_id, bot=True), "session_id": f"s{snowflake()}",
                    "resume_gateway_url": self.gateway_url, "guilds": [{"id": str(self.guild_id), "unavailable": True}],
                    "application": {"id": str(self.app_id), "flags": 0}, "private_channels": [], "relationships": [],
                })
                await gw.dispatch("GUILD_CREATE", self.guild_json())
                gw.identified = True
            elif op == 6:
                await gw.send({"op": 9, "d": False})  # sessions are not kept: identify again
        self._sockets.remove(gw)
        return ws

    async def dispatch_interaction(self, payload: dict[str, Any], inter: Interaction) -> Interaction:
        gw = self._live(int(payload["guild_id"]) if payload.get("guild_id") else None)
        if gw is None:
            raise AssertionError("no bot is connected to the fake gateway")
        self.interactions[inter.id] = inter
        self._by_token[inter.token] = inter
        inter.sent_at = time.monotonic()
        await gw.dispatch("INTERACTION_CREATE", payload)
        return inter


class _Gateway:
    def __init__(self, ws: web.WebSocketResponse, deflate: Any) -> None:
        self.ws = ws
        self.deflate = deflate
        self.seq = 0
        self.identified = False
        self.shard: tuple[int, int] | None = None
        self._lock = asyncio.Lock()

    async def send(self, payload: dict[str, Any]) -> None:
        data = json.dumps(payload)
        async with self._lock:  # one zlib stream: frames must go out in the order they are compressed
            if self.deflate is None:
                await self.ws.send_str(data)
            else:
                await self.ws.send_bytes(self.deflate.compress(data.encode()) + self.deflate.flush(zlib.Z_SYNC_FLUSH))

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        self.seq += 1
        await self.send({"op": 0, "t": event, "s": self.seq, "d": data})


class _Refused(Exception):
    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def _json(data: Any, status: int = 200) -> web.Response:
    # discord.py parses a body as JSON only when Content-Type is exactly application/json.
    return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"})


class FakeMember:
    """A server member (or a DM user) who runs slash commands and presses buttons."""

    def __init__(self, fake: FakeDiscord, user_id: int, *, admin: bool, in_dm: bool, locale: str = "en-US") -> None:
        self.fake = fake
        self.id = user_id
        self.locale = locale  # the member's client language, sent with each interaction
        self.admin = admin
        self.in_dm = in_dm
        self.inbox: asyncio.Queue[FakeMessage] = asyncio.Queue()
        self.seen: dict[int, None] = {}  # ids of the messages this member has seen, in order
        self.dm_channel = snowflake()
        if in_dm:
            fake.dm_channels[self.dm_channel] = user_id

    @property
    def channel_id(self) -> int:
        return self.dm_channel if self.in_dm else self.fake.channel_id

    def can_see(self, msg: FakeMessage) -> bool:
        if msg.visible_to is not None:
            return msg.visible_to == self.id
        return not self.in_dm and msg.channel_id in (self.fake.channel_id, self.fake.news_channel_id)

    def _base(self, kind: int, data: dict[str, Any]) -> tuple[dict[str, Any], Interaction]:
        inter = Interaction(snowflake(), f"tok-{snowflake()}", "command" if kind == 2 else "component", self.id, self.channel_id)
        payload: dict[str, Any] = {
            "id": str(inter.id), "application_id": str(self.fake.app_id), "type": kind, "data": data,
            "token": inter.token, "version": 1, "locale": self.locale, "entitlements": [],
            "app_permissions": str(ADMIN_PERMISSIONS), "attachment_size_limit": 10 * 1024 * 1024,
        }
        user = self.fake.user_json(self.id)
        if self.in_dm:
            payload.update(channel_id=str(self.dm_channel), user=user, context=1,
                           channel={"id": str(self.dm_channel), "type": 1, "recipients": [user], "flags": 0},
                           authorizing_integration_owners={"0": str(self.fake.guild_id)})
        else:
            payload.update(
                guild_id=str(self.fake.guild_id), channel_id=str(self.fake.channel_id), context=0,
                guild={"id": str(self.fake.guild_id), "locale": "en-US", "features": []}, guild_locale="en-US",
                channel=self.fake._channel_json(self.fake.channel_id, "general"),
                authorizing_integration_owners={"0": str(self.fake.guild_id)},
                member={"user": user, "roles": [], "joined_at": STAMP, "deaf": False, "mute": False, "flags": 0,
                        "pending": False, "nick": None, "avatar": None,
                        "permissions": str(ADMIN_PERMISSIONS if self.admin else MEMBER_PERMISSIONS)},
            )
        return payload, inter

    async def slash(self, line: str, **options: Any) -> Interaction:
        """Run a slash command such as ``"optout start"`` or ``"optout-admin reminders on"``."""
        words = line.split()
        leaf: list[dict[str, Any]] = []
        resolved: dict[str, Any] = {}
        for name, value in options.items():
            if isinstance(value, FakeChannel):
                leaf.append({"name": name, "type": 7, "value": str(value.id)})
                resolved.setdefault("channels", {})[str(value.id)] = {
                    **self.fake._channel_json(value.id, value.name), "permissions": str(ADMIN_PERMISSIONS)}
            else:
                leaf.append({"name": name, "type": 3, "value": value})
        opts = leaf
        for depth, word in reversed(list(enumerate(words[1:], start=1))):
            opts = [{"name": word, "type": 1 if depth == len(words) - 1 else 2, "options": opts}]
        command = self.fake.commands.get(words[0], {})
        data = {"id": command.get("id", str(snowflake())), "name": words[0], "type": 1, "options": opts}
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        if resolved:
            data["resolved"] = resolved
        payload, inter = self._base(2, data)
        return await self.fake.dispatch_interaction(payload, inter)

    def latest_with(self, label: str) -> FakeMessage:
        """Return the newest message this member can see that has a button labelled ``label``."""
        for message_id in sorted(self.seen, reverse=True):
            msg = self.fake.messages[message_id]
            if msg.button(label) is not None:
                return msg
        raise AssertionError(f"member {self.id} sees no button {label!r}")

    async def press(self, label: str, message: FakeMessage | None = None) -> Interaction:
        """Press the button labelled ``label`` on ``message`` (default: the newest message that has one).

        A snapshot may be passed, to press a button of a message as it was earlier (an old button).
        """
        msg = message or self.latest_with(label)
        button = msg.button(label)
        if button is None:
            raise AssertionError(f"no button {label!r} on message {msg.id}: {msg.labels()}")
        return await self.press_custom_id(button["custom_id"], msg)

    async def press_custom_id(self, custom_id: str, message: FakeMessage) -> Interaction:
        """Press a button with this custom id on ``message`` (a tampered client can send any id)."""
        msg = message.snapshot()
        if all(b.get("custom_id") != custom_id for b in msg.buttons()):
            for b in msg.buttons()[:1]:
                b["custom_id"] = custom_id
        payload, inter = self._base(3, {"custom_id": custom_id, "component_type": 2})
        payload["message"] = self.fake.message_json(msg)
        inter.message_id = message.id
        return await self.fake.dispatch_interaction(payload, inter)

    async def pop_message(self, within: float = 10.0) -> FakeMessage:
        """Return the next message (or edit of one) this member saw, waiting up to ``within`` seconds."""
        try:
            return await asyncio.wait_for(self.inbox.get(), within)
        except TimeoutError:
            raise AssertionError(f"member {self.id} got no message within {within} s") from None

    def pending(self) -> int:
        return self.inbox.qsize()


@dataclass(frozen=True)
class FakeChannel:
    id: int
    name: str
