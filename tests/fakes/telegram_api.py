"""A fake Telegram Bot API on 127.0.0.1: real HTTP, Telegram's JSON shapes and Telegram's checks.

The bot under test talks to it exactly as to api.telegram.org (python-telegram-bot with
``base_url=fake.base_url``); tests play users through a small driver in Errbot's style::

    async with FakeBotAPI() as fake:
        user = fake.user(42)
        await user.send("/start")
        reply = await user.pop_message()
        await user.press("Pro")

Inline mode (``FakeBotAPI(inline_queries=True)``): ``user.inline_query("chatgpt")`` asks the bot as typing
``@bot chatgpt`` does, ``user.send_inline_result(query, result_id, to=friend)`` puts the chosen card in a
chat with ``friend`` (and, with ``inline_feedback=True``, tells the bot in a chosen_inline_result), and
``friend.open_link(url)`` follows a t.me deep link as a tap on a card's button does.

What it checks, as Telegram does: the token (401), message text 1..4096 characters after entity
parsing, Telegram's HTML subset (allowed tags, nesting, escaped ``<`` and ``&``), callback data of
1..64 bytes, answering a callback query at most once, editing only messages that exist. What it
can inject: users who blocked the bot (403), 429 with ``retry_after``, dropped connections; and,
with ``flood_limit=30``, Telegram's flood limit: more than 30 messages sent or edited a second are
answered 429 (opt-in, so that tests of other things are not slowed by it).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import ClientError, ClientSession, ClientTimeout, web

T = TypeVar("T")

DEFAULT_TOKEN = "7007007007:AAF-fake-token-for-tests-0123456789abcdef"
MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
MAX_TOAST = 200
# Parameters that PTB sends as plain strings; every other value is itself JSON.
_STRING_FIELDS = {
    "text", "parse_mode", "callback_query_id", "url", "secret_token", "inline_message_id", "ip_address",
    "language_code", "business_connection_id", "description", "short_description", "name", "emoji",
}
_ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "tg-spoiler", "span",
    "blockquote", "tg-emoji",
}
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[A-Za-z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)\s*>")
_ATTR = re.compile(r"([A-Za-z-]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+)))?")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9A-Fa-f]{1,6});")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class ApiError(Exception):
    """An answer with ``ok: false``, as Telegram sends it."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def utf16_len(text: str) -> int:
    """Telegram counts message length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def parse_html(text: str) -> tuple[str, list[tuple[str, str]]]:
    """Parse Telegram's HTML subset; return the visible text and the links (text, href).

    Raises ApiError(400, "Bad Request: can't parse entities: ...") where Telegram would.
    """
    out: list[str] = []
    stack: list[tuple[str, int, str | None]] = []  # tag, start in out-text, href
    links: list[tuple[str, str]] = []
    pos = 0

    def fail(what: str, at: int) -> ApiError:
        offset = len(text[:at].encode("utf-8"))
        return ApiError(400, f"Bad Request: can't parse entities: {what} at byte offset {offset}")

    visible = 0
    while pos < len(text):
        ch = text[pos]
        if ch == "<":
            m = _TAG.match(text, pos)
            if m is None:
                raise fail("Unexpected end of name token" if text[pos + 1 : pos + 2].strip() else "Unexpected character", pos)
            closing, name, attrs = m.group(1), m.group(2).lower(), m.group(3)
            if name not in _ALLOWED_TAGS:
                raise fail(f'Unsupported {"end" if closing else "start"} tag "{name}"', pos)
            if closing:
                if not stack:
                    raise fail(f'Unexpected end tag "{name}"', pos)
                open_name, start, href = stack.pop()
                if open_name != name:
                    raise fail(f'Unmatched end tag, expected "</{open_name}>", found "</{name}>"', pos)
                if name == "a" and href is not None:
                    links.append(("".join(out)[start:], href))
            else:
                parsed = {a.group(1).lower(): next((g for g in a.groups()[1:] if g is not None), "") for a in _ATTR.finditer(attrs)}
                href = None
                if name == "a":
                    href = _unescape(parsed.get("href", ""))
                    if not href:
                        raise fail('Can\'t find "href" attribute of the tag "a"', pos)
                if name == "span" and parsed.get("class") != "tg-spoiler":
                    raise fail('Tag "span" must have class "tg-spoiler"', pos)
                stack.append((name, visible, href))
            pos = m.end()
        elif ch == "&":
            m = _ENTITY.match(text, pos)
            if m is None:
                raise fail("Character entity expected", pos)
            decoded = _unescape(m.group(0))
            out.append(decoded)
            visible += len(decoded)
            pos = m.end()
        else:
            out.append(ch)
            visible += 1
            pos += 1
    if stack:
        raise fail(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"', len(text))
    return "".join(out), links


def _unescape(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        name = m.group(1)
        if name.startswith("#x"):
            return chr(int(name[2:], 16))
        if name.startswith("#"):
            return chr(int(name[1:]))
        return _NAMED[name]

    return _ENTITY.sub(one, text)


@dataclass
class FakeMessage:
    """A message in a chat, as the user sees it; bot messages change in place when edited."""

    chat_id: int
    message_id: int
    text: str  # visible text, after entity parsing
    from_bot: bool
    sender: dict[str, Any]
    chat: dict[str, Any]
    date: int
    html: str | None = None  # the raw text the bot sent with parse_mode=HTML
    keyboard: list[list[dict[str, Any]]] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)
    edits: int = 0
    extra: dict[str, Any] = field(default_factory=dict)  # sticker, photo... for user messages

    @property
    def buttons(self) -> list[dict[str, Any]]:
        return [b for row in self.keyboard for b in row]

    @property
    def labels(self) -> list[str]:
        return [b["text"] for b in self.buttons]

    def button(self, label: str) -> dict[str, Any]:
        for b in self.buttons:
            if b["text"] == label:
                return b
        raise AssertionError(f"no button {label!r} on message {self.message_id}; it has {self.labels}")

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": self.message_id, "from": self.sender, "chat": self.chat, "date": self.date, **self.extra,
        }
        if self.text:
            data["text"] = self.text
        if self.text.startswith("/") and not self.from_bot:
            command = self.text.split()[0]
            data["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
        if self.edits:
            data["edit_date"] = self.date + self.edits
        if self.keyboard:
            data["reply_markup"] = {"inline_keyboard": self.keyboard}
        return data

    def __str__(self) -> str:
        return self.text


@dataclass
class FakeCallbackQuery:
    id: str
    user_id: int
    message: FakeMessage | None
    data: str
    answered: bool = False
    answer_text: str | None = None
    answers: int = 0  # attempts, to catch a second answer


@dataclass
class FakeInlineQuery:
    id: str
    user_id: int
    query: str
    results: list[dict[str, Any]] | None = None  # what answerInlineQuery gave, once answered
    answer: dict[str, Any] = field(default_factory=dict)  # cache_time, is_personal...


@dataclass
class _Fault:
    kind: str  # "error" or "drop"
    error: ApiError | None
    chat_id: int | None


class FakeUser:
    """A Telegram user in a private chat with the bot, driven by a test."""

    def __init__(self, fake: FakeBotAPI, user_id: int, first_name: str, language_code: str = "en") -> None:
        self.fake = fake
        self.id = user_id
        self.first_name = first_name
        # The user's app language, which Telegram sends with each update.
        self.json = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": language_code}
        self.chat_json = {"id": user_id, "type": "private", "first_name": first_name}
        self._seen = 0  # bot messages handed out by pop_message

    # What the user sees ------------------------------------------------------------------------
    @property
    def messages(self) -> list[FakeMessage]:
        """Every message of the private chat, in order (the user's and the bot's)."""
        return self.fake.chats[self.id]

    @property
    def bot_messages(self) -> list[FakeMessage]:
        return self.fake.bot_chats[self.id]

    @property
    def chat(self) -> list[str]:
        """The transcript as the user sees it: their messages prefixed '> ', bot messages with buttons."""
        lines = []
        for m in self.messages:
            if m.from_bot:
                lines.append(m.text + "".join(f"\n  [{label}]" for label in m.labels))
            else:
                lines.append(f"> {m.text or next(iter(m.extra), '')}")
        return lines

    # Acting ------------------------------------------------------------------------------------
    async def send(self, text: str, chat: dict[str, Any] | None = None) -> FakeMessage:
        """Type a message (a command when it starts with '/'), in the private chat or in ``chat``."""
        return self.fake.user_message(self, chat or self.chat_json, text=text)

    async def send_sticker(self) -> FakeMessage:
        sticker = {
            "file_id": "CAACAgIAAxkBAAEBsticker", "file_unique_id": "AgADsticker", "type": "regular",
            "width": 512, "height": 512, "is_animated": False, "is_video": False, "emoji": "👍",
        }
        return self.fake.user_message(self, self.chat_json, sticker=sticker)

    async def send_photo(self) -> FakeMessage:
        photo = [{"file_id": "AgACAgIAAxkBAAEBphoto", "file_unique_id": "AQADphoto", "width": 90, "height": 90}]
        return self.fake.user_message(self, self.chat_json, photo=photo)

    async def pop_message(self, within: float = 10.0) -> FakeMessage:
        """Wait for the next new bot message in the private chat and return it."""
        await self.fake.wait_for(lambda: len(self.bot_messages) > self._seen, within, chat=self.id, what=
                                 f"a bot message to user {self.id} (transcript: {self.chat[-4:]})")
        message = self.bot_messages[self._seen]
        self._seen += 1
        return message

    async def pop_messages(self, count: int, within: float = 10.0) -> list[FakeMessage]:
        return [await self.pop_message(within) for _ in range(count)]

    async def pop_until_buttons(self, within: float = 10.0) -> list[FakeMessage]:
        """Pop bot messages up to and including the next one that has buttons (a step)."""
        popped = [await self.pop_message(within)]
        while not popped[-1].buttons:
            popped.append(await self.pop_message(within))
        return popped

    def pending(self) -> list[FakeMessage]:
        """Bot messages not yet popped."""
        return self.bot_messages[self._seen :]

    def skip_all(self) -> None:
        self._seen = len(self.bot_messages)

    async def press(self, label: str, wait: bool = True, within: float = 10.0) -> FakeCallbackQuery:
        """Press the button ``label`` on the newest bot message that has it; wait for the answer."""
        message, data = self._button(label)
        return await self.press_data(message, data, wait, within)

    async def tap(self, label: str, within: float = 10.0) -> FakeMessage:
        """Press ``label`` and return the screen it leads to: the pressed message edited, or a new one."""
        message, data = self._button(label)
        edits = message.edits
        await self.press_data(message, data, within=within)
        await self.fake.wait_for(lambda: message.edits > edits or self.pending(), within, chat=self.id,
                                 what=f"the screen after pressing {label!r} (transcript: {self.chat[-3:]})")
        return message if message.edits > edits else await self.pop_message(within)

    def _button(self, label: str) -> tuple[FakeMessage, str]:
        for message in reversed(self.bot_messages):
            button = next((b for b in message.buttons if b["text"] == label), None)
            if button is not None:
                if "callback_data" not in button:
                    raise AssertionError(f"{label!r} is a link button ({button.get('url')}), it cannot be pressed")
                return message, button["callback_data"]
        raise AssertionError(f"no button {label!r} in the chat of user {self.id}: {self.chat[-3:]}")

    async def press_data(
        self, message: FakeMessage | None, data: str, wait: bool = True, within: float = 10.0
    ) -> FakeCallbackQuery:
        """Press a button with any callback data on ``message`` (a forged or stale press)."""
        query = self.fake.callback_query(self, message, data)
        if wait:
            await self.wait_answered(query, within)
        return query

    async def wait_answered(self, query: FakeCallbackQuery, within: float = 10.0) -> None:
        await self.fake.wait_for(lambda: query.answered, within, f"the answer to button press {query.data!r}", chat=self.id)

    # Inline mode -------------------------------------------------------------------------------
    async def inline_query(self, query: str, within: float = 10.0) -> FakeInlineQuery:
        """Type ``@bot query`` in some chat (or press a share button that fills it in); wait for the answer."""
        return await self.fake.inline_query(self, query, within)

    async def send_inline_result(self, query: FakeInlineQuery, result_id: str, to: FakeUser) -> FakeMessage:
        """Pick a result of an answered inline query and send it into the chat with ``to``."""
        return self.fake.send_inline_result(self, query, result_id, to)

    async def open_link(self, url: str) -> FakeMessage:
        """Follow a https://t.me/BOT?start=PAYLOAD link: the app opens the bot's chat and sends /start PAYLOAD."""
        match = re.fullmatch(r"https://t\.me/([A-Za-z0-9_]+)\?start=([A-Za-z0-9_-]{1,64})", url)
        assert match is not None, f"not a deep link to a bot: {url}"
        assert match[1] == self.fake.username, f"a link to another bot: {url}"
        return await self.send(f"/start {match[2]}")

    async def block(self) -> None:
        """Block the bot: sends now fail with 403, and the bot gets a my_chat_member update."""
        self.fake.blocked.add(self.id)
        self.fake.queue_update({"my_chat_member": {
            "chat": self.chat_json, "from": self.json, "date": int(time.time()),
            "old_chat_member": {"user": self.fake.bot_json, "status": "member"},
            "new_chat_member": {"user": self.fake.bot_json, "status": "kicked", "until_date": 0},
        }})

    def unblock(self) -> None:
        self.fake.blocked.discard(self.id)


class FakeBotAPI:
    """The Bot API methods python-telegram-bot calls, on a random port of 127.0.0.1."""

    def __init__(
        self, token: str = DEFAULT_TOKEN, username: str = "optout_test_bot", flood_limit: float | None = None,
        inline_queries: bool = False, inline_feedback: bool = False,
    ) -> None:
        self.token = token
        self.bot_id = int(token.split(":")[0])
        self.username = username
        self.bot_json = {
            "id": self.bot_id, "is_bot": True, "first_name": "Opt-Out Assistant", "username": username,
            "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": inline_queries,
            "can_connect_to_business": False, "has_main_web_app": False,
        }
        self.port = 0
        self.chats: defaultdict[int, list[FakeMessage]] = defaultdict(list)
        self.bot_chats: defaultdict[int, list[FakeMessage]] = defaultdict(list)  # the bot's messages only
        self.chat_info: dict[int, dict[str, Any]] = {}
        self.users: dict[int, FakeUser] = {}
        self.calls: Counter[str] = Counter()
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.errors: list[tuple[str, int, str]] = []  # (method, code, description) of every refusal
        self.blocked: set[int] = set()
        self.commands: list[dict[str, Any]] = []
        self.commands_by_language: dict[str, list[dict[str, Any]]] = {}  # "" for the default menu
        self.queries: dict[str, FakeCallbackQuery] = {}
        self.inline_queries: dict[str, FakeInlineQuery] = {}
        self.inline_feedback = inline_feedback
        # Messages people sent through the bot's inline mode, by the chat they went to.
        self.via_bot: defaultdict[int, list[FakeMessage]] = defaultdict(list)
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_statuses: list[int] = []
        self.allowed_updates: list[str] | None = None
        self.sent_at: list[tuple[float, int]] = []  # (monotonic time, chat id) of each sendMessage
        self.on_send: Callable[[FakeMessage], None] | None = None  # a hook for benchmarks
        self.on_edit: Callable[[FakeMessage], None] | None = None  # a hook for benchmarks
        # Accepted calls that count against Telegram's flood limit: (monotonic time, chat id, method).
        self.limited: list[tuple[float, int, str]] = []
        self.floods = 0  # calls answered 429 by the flood limit (not by fail_next)
        # The flood limit as a token bucket: ``flood_limit`` a second, in bursts of at most that many.
        self.flood_limit = flood_limit
        self._flood_level = 0.0
        self._flood_checked = 0.0
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: defaultdict[int, itertools.count[int]] = defaultdict(lambda: itertools.count(1))
        self._query_ids = itertools.count(1)
        self._faults: defaultdict[str, list[_Fault]] = defaultdict(list)
        self._change = asyncio.Event()
        self._chat_events: dict[int, asyncio.Event] = {}
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._polls: list[web.Request] = []  # getUpdates requests waiting for updates
        self._session: ClientSession | None = None

    # Lifecycle ---------------------------------------------------------------------------------
    async def start(self) -> FakeBotAPI:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._session = ClientSession(timeout=ClientTimeout(total=10))
        return self

    async def stop(self) -> None:
        # Long polls in flight return at once, so the server can shut down without waiting for them.
        self._closing = True
        self._changed()
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> FakeBotAPI:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """What to pass as PTB's base_url / TELEGRAM_API_BASE_URL (PTB appends the token)."""
        return f"http://127.0.0.1:{self.port}/bot"

    # Test-facing helpers -----------------------------------------------------------------------
    def user(self, user_id: int, first_name: str = "Alex", language_code: str = "en") -> FakeUser:
        if user_id not in self.users:
            self.users[user_id] = FakeUser(self, user_id, first_name, language_code)
            self.chat_info[user_id] = self.users[user_id].chat_json
        return self.users[user_id]

    def group(self, chat_id: int, title: str = "Privacy friends") -> dict[str, Any]:
        """Register a group chat (negative id) and return its JSON, for ``user.send(text, chat=...)``."""
        chat = {"id": chat_id, "type": "group", "title": title}
        self.chat_info[chat_id] = chat
        return chat

    def sent_to(self, chat_id: int) -> list[FakeMessage]:
        """The bot's messages in a chat (reminder tests count deliveries and duplicates with this)."""
        return list(self.bot_chats[chat_id])

    def fail_next(
        self, method: str, error_code: int = 429, description: str | None = None,
        retry_after: int | None = None, times: int = 1, chat_id: int | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (to ``chat_id``, if given) with an error."""
        if description is None:
            description = {429: f"Too Many Requests: retry after {retry_after or 1}", 403: "Forbidden: bot was blocked by the user",
                           500: "Internal Server Error"}.get(error_code, "Bad Request")
        if error_code == 429 and retry_after is None:
            retry_after = 1
        for _ in range(times):
            self._faults[method].append(_Fault("error", ApiError(error_code, description, retry_after), chat_id))

    def drop_next(self, method: str, times: int = 1, chat_id: int | None = None) -> None:
        """Close the connection of the next ``times`` calls without an answer (a network error)."""
        for _ in range(times):
            self._faults[method].append(_Fault("drop", None, chat_id))

    async def wait_for(
        self, predicate: Callable[[], T], within: float = 10.0, what: str = "a condition", chat: int | None = None
    ) -> T:
        """Wait until ``predicate()`` is truthy and return it.

        It is re-checked on every change of the fake or, with ``chat``, on every change in that chat
        (hundreds of waiting users then do not all wake up for each API call).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not (result := predicate()):
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"timed out after {within:.0f} s waiting for {what}")
            change = self._change if chat is None else self._chat_events.setdefault(chat, asyncio.Event())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(remaining):
                    await change.wait()
        return result

    def queue_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates or the webhook; return it with its update_id."""
        update = {"update_id": next(self._update_ids), **update}
        self._updates.append(update)
        self._changed()
        return update

    def user_message(self, user: FakeUser, chat: dict[str, Any], text: str = "", **extra: Any) -> FakeMessage:
        message, update = self.message_update(user, chat, text, **extra)
        del update["update_id"]
        self.queue_update(update)
        return message

    def message_update(self, user: FakeUser, chat: dict[str, Any], text: str = "",
                       **extra: Any) -> tuple[FakeMessage, dict[str, Any]]:
        """A message the user typed, as Telegram posts it, with its update_id, not queued (see callback_update)."""
        message = FakeMessage(
            chat_id=chat["id"], message_id=next(self._message_ids[chat["id"]]), text=text, from_bot=False,
            sender=user.json, chat=chat, date=int(time.time()), extra=extra,
        )
        self.chats[chat["id"]].append(message)
        return message, {"update_id": next(self._update_ids), "message": message.to_json()}

    def callback_query(self, user: FakeUser, message: FakeMessage | None, data: str) -> FakeCallbackQuery:
        query, update = self.callback_update(user, message, data)
        del update["update_id"]
        self.queue_update(update)
        return query

    def callback_update(self, user: FakeUser, message: FakeMessage | None, data: str) -> tuple[FakeCallbackQuery, dict[str, Any]]:
        """A button press as Telegram posts it, with its update_id, not queued: a test posts it where it wants."""
        query = FakeCallbackQuery(id=f"{user.id}{next(self._query_ids):08d}", user_id=user.id, message=message, data=data)
        self.queries[query.id] = query
        body: dict[str, Any] = {"id": query.id, "from": user.json, "chat_instance": f"ci{user.id}", "data": data}
        if message is not None:
            body["message"] = message.to_json()
        return query, {"update_id": next(self._update_ids), "callback_query": body}

    async def inline_query(self, user: FakeUser, query: str, within: float = 10.0) -> FakeInlineQuery:
        if not self.bot_json["supports_inline_queries"]:
            raise AssertionError("inline mode is off for this bot: Telegram sends it no inline queries")
        inline = FakeInlineQuery(id=f"{user.id}{next(self._query_ids):08d}", user_id=user.id, query=query)
        self.inline_queries[inline.id] = inline
        self.queue_update({"inline_query": {"id": inline.id, "from": user.json, "query": query, "offset": "",
                                            "chat_type": "sender"}})
        await self.wait_for(lambda: inline.results is not None, within, f"the answer to inline query {query!r}")
        return inline

    def send_inline_result(self, user: FakeUser, query: FakeInlineQuery, result_id: str, to: FakeUser) -> FakeMessage:
        assert query.results is not None, "the inline query has not been answered"
        result = next((r for r in query.results if r["id"] == result_id), None)
        assert result is not None, f"no result {result_id!r} in {[r['id'] for r in query.results]}"
        content = result["input_message_content"]
        text, links = (parse_html(content["message_text"]) if str(content.get("parse_mode", "")).lower() == "html"
                       else (content["message_text"], []))
        chat = {"id": user.id * 1_000_000 + to.id, "type": "private"}  # the chat of the two people
        message = FakeMessage(
            chat_id=chat["id"], message_id=next(self._message_ids[chat["id"]]), text=text, from_bot=False,
            sender=user.json, chat=chat, date=int(time.time()), html=content["message_text"],
            keyboard=result.get("reply_markup", {}).get("inline_keyboard", []), links=links,
            extra={"via_bot": self.bot_json},
        )
        self.via_bot[to.id].append(message)
        if self.inline_feedback:
            self.queue_update({"chosen_inline_result": {"result_id": result_id, "from": user.json, "query": query.query}})
        return message

    async def post_update(self, url: str, update: dict[str, Any], secret: str | None) -> int:
        """POST an update (update_id included) to ``url`` as Telegram's webhook delivery does; return the status."""
        assert self._session is not None
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        async with self._session.post(url, data=json.dumps(update), headers=headers) as response:
            return response.status

    async def post_to_webhook(self, update: dict[str, Any], secret: str | None) -> int:
        """POST an update straight to the bot's webhook with the given secret header; return the status."""
        assert self.webhook_url is not None and self._session is not None, "no webhook is set"
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        update = {"update_id": next(self._update_ids), **update}
        async with self._session.post(self.webhook_url, data=json.dumps(update), headers=headers) as response:
            return response.status

    def _changed(self, chat: int | None = None) -> None:
        self._change.set()
        self._change = asyncio.Event()
        if chat is not None and (event := self._chat_events.pop(chat, None)) is not None:
            event.set()

    # HTTP --------------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        params = await self._params(request)
        self.calls[method] += 1
        self.requests.append((method, params))
        fault = self._fault(method, params)
        limited = method.startswith(("send", "edit")) and _int(params.get("chat_id")) is not None
        try:
            if limited and self.flood_limit:
                self._flood_check()
            if fault is not None and fault.kind == "drop":
                assert request.transport is not None
                request.transport.abort()
                raise ConnectionResetError("dropped by the fake on request")
            if fault is not None and fault.error is not None:
                raise fault.error
            handler = getattr(self, f"_api_{method.lower()}", None)
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            result = await (handler(params, request) if method.lower() == "getupdates" else handler(params))
            if limited:
                self.limited.append((time.monotonic(), _int(params.get("chat_id")) or 0, method))
        except ApiError as err:
            self.errors.append((method, err.code, err.description))
            self._changed(self._chat_of(params))
            return web.json_response(err.body(), status=err.code)
        self._changed(self._chat_of(params))
        return web.json_response({"ok": True, "result": result})

    def _flood_check(self) -> None:
        """Take one message from the flood budget, or refuse with 429 as Telegram does."""
        assert self.flood_limit
        now = time.monotonic()
        self._flood_level = max(0.0, self._flood_level - (now - self._flood_checked) * self.flood_limit)
        self._flood_checked = now
        if self._flood_level + 1 > self.flood_limit:
            self.floods += 1
            wait = max(1, math.ceil((self._flood_level + 1 - self.flood_limit) / self.flood_limit))
            raise ApiError(429, f"Too Many Requests: retry after {wait}", wait)
        self._flood_level += 1

    def rate_limited_calls(self, chat_id: int) -> list[str]:
        """The accepted calls to a chat that count against the flood limit (sent or edited messages)."""
        return [method for _, chat, method in self.limited if chat == chat_id]

    def _chat_of(self, params: dict[str, Any]) -> int | None:
        """The chat an API call touched, to wake only the users waiting on it."""
        if "callback_query_id" in params:
            query = self.queries.get(str(params["callback_query_id"]))
            return query.user_id if query else None
        return _int(params.get("chat_id"))

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            raw: dict[str, Any] = await request.json() if request.can_read_body else {}
            return raw
        form = dict(request.query)
        if request.can_read_body:
            form.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        params: dict[str, Any] = {}
        for key, value in form.items():
            if key in _STRING_FIELDS:
                params[key] = value
                continue
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        return params

    def _fault(self, method: str, params: dict[str, Any]) -> _Fault | None:
        faults = self._faults.get(method)
        if not faults:
            return None
        for i, fault in enumerate(faults):
            if fault.chat_id is None or fault.chat_id == _int(params.get("chat_id")):
                return faults.pop(i)
        return None

    # Checks ------------------------------------------------------------------------------------
    def _chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = _int(params.get("chat_id"))
        if chat_id is None or chat_id not in self.chat_info:
            raise ApiError(400, "Bad Request: chat not found")
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return self.chat_info[chat_id]

    @staticmethod
    def _text(params: dict[str, Any]) -> tuple[str, str | None, list[tuple[str, str]]]:
        raw = params.get("text")
        if not isinstance(raw, str) or not raw.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        mode = params.get("parse_mode")
        if mode in (None, ""):
            text, html, links = raw, None, []
        elif str(mode).lower() == "html":
            text, links = parse_html(raw)
            html = raw
        else:
            raise ApiError(400, f"Bad Request: unsupported parse_mode {mode!r} (the fake knows HTML only)")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        return text, html, links

    @staticmethod
    def _keyboard(params: dict[str, Any]) -> list[list[dict[str, Any]]]:
        markup = params.get("reply_markup")
        if not markup:
            return []
        if not isinstance(markup, dict) or not isinstance(markup.get("inline_keyboard"), list):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        rows = markup["inline_keyboard"]
        for row in rows:
            if not isinstance(row, list):
                raise ApiError(400, "Bad Request: can't parse inline keyboard button: InlineKeyboardButton must be an Object")
            for button in row:
                if not isinstance(button, dict) or not str(button.get("text", "")).strip():
                    raise ApiError(400, "Bad Request: can't parse inline keyboard button: Text must be non-empty")
                if "callback_data" in button:
                    size = len(str(button["callback_data"]).encode("utf-8"))
                    if not 1 <= size <= MAX_CALLBACK_DATA:
                        raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                elif "url" in button:
                    if not re.match(r"^(https?|tg)://", str(button["url"])):
                        raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")
                elif "switch_inline_query_chosen_chat" in button:
                    chosen = button["switch_inline_query_chosen_chat"]
                    if not isinstance(chosen, dict) or not any(
                        chosen.get(k) for k in ("allow_user_chats", "allow_bot_chats", "allow_group_chats", "allow_channel_chats")
                    ):
                        raise ApiError(400, "Bad Request: BUTTON_TYPE_INVALID")
                else:
                    raise ApiError(
                        400, "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                    )
        return [list(row) for row in rows if row]

    def _message(self, params: dict[str, Any]) -> FakeMessage:
        self._chat(params)
        chat_id, message_id = _int(params.get("chat_id")), _int(params.get("message_id"))
        for message in self.chats.get(chat_id or 0, ()):
            if message.message_id == message_id:
                if not message.from_bot:
                    raise ApiError(400, "Bad Request: message can't be edited")
                return message
        raise ApiError(400, "Bad Request: message to edit not found")

    # Methods -----------------------------------------------------------------------------------
    async def _api_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.bot_json

    async def _api_logout(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_close(self, params: dict[str, Any]) -> bool:
        return True

    async def _api_setmycommands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or not all(
            isinstance(c, dict) and re.fullmatch(r"[a-z0-9_]{1,32}", str(c.get("command", ""))) and
            1 <= len(str(c.get("description", ""))) <= 256 for c in commands
        ):
            raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        language = params.get("language_code") or ""
        self.commands_by_language[language] = commands
        if not language:
            self.commands = commands
        return True

    async def _api_deletewebhook(self, params: dict[str, Any]) -> bool:
        self.webhook_url = self.webhook_secret = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _api_setwebhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url") or ""
        if url and not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook_url = url or None
        self.webhook_secret = params.get("secret_token")
        self.allowed_updates = params.get("allowed_updates") or self.allowed_updates
        if params.get("drop_pending_updates"):
            self._updates.clear()
        if self.webhook_url and (self._webhook_task is None or self._webhook_task.done()):
            self._webhook_task = asyncio.create_task(self._deliver_webhook())
        return True

    async def _api_getwebhookinfo(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": self.webhook_url or "", "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    async def _api_getupdates(self, params: dict[str, Any], request: web.Request) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
        # One poller at a time, as Telegram allows: a poll while another client's poll is pending on a
        # connection that is still open gets 409 (a stopped or killed bot's poll does not count).
        if any(other.transport is not None and not other.transport.is_closing() for other in self._polls
               if other.transport is not request.transport):
            raise ApiError(409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running")
        self._polls.append(request)
        try:
            return await self._poll(params)
        finally:
            self._polls.remove(request)

    async def _poll(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if params.get("allowed_updates") is not None:
            self.allowed_updates = params["allowed_updates"] or None
        offset = _int(params.get("offset")) or 0
        limit = _int(params.get("limit")) or 100
        timeout = float(params.get("timeout") or 0)
        # Updates below the offset are confirmed: Telegram forgets them.
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        with contextlib.suppress(AssertionError):
            await self.wait_for(lambda: self._deliverable() or self._closing, timeout, "updates")
        return self._deliverable()[:limit]

    def _deliverable(self) -> list[dict[str, Any]]:
        if self.allowed_updates:
            self._updates = [u for u in self._updates if any(k in u for k in self.allowed_updates)]
        return list(self._updates)

    async def _api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params)
        text, html, links = self._text(params)
        keyboard = self._keyboard(params)
        message = FakeMessage(
            chat_id=chat["id"], message_id=next(self._message_ids[chat["id"]]), text=text, from_bot=True,
            sender=self.bot_json, chat=chat, date=int(time.time()), html=html, keyboard=keyboard, links=links,
        )
        self.chats[chat["id"]].append(message)
        self.bot_chats[chat["id"]].append(message)
        self.sent_at.append((time.monotonic(), chat["id"]))
        if self.on_send is not None:
            self.on_send(message)
        return message.to_json()

    async def _api_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._message(params)
        text, html, links = self._text(params)
        keyboard = self._keyboard(params)
        if (text, html, keyboard) == (message.text, message.html, message.keyboard):
            raise ApiError(400, "Bad Request: message is not modified: specified new message content and reply "
                                "markup are exactly the same as a current content and reply markup of the message")
        message.text, message.html, message.links, message.keyboard = text, html, links, keyboard
        message.edits += 1
        if self.on_edit is not None:
            self.on_edit(message)
        return message.to_json()

    async def _api_editmessagereplymarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._message(params)
        keyboard = self._keyboard(params)
        if keyboard == message.keyboard:
            raise ApiError(400, "Bad Request: message is not modified: specified new message content and reply "
                                "markup are exactly the same as a current content and reply markup of the message")
        message.keyboard = keyboard
        message.edits += 1
        return message.to_json()

    async def _api_answercallbackquery(self, params: dict[str, Any]) -> bool:
        query = self.queries.get(str(params.get("callback_query_id")))
        if query is not None:
            query.answers += 1
        if query is None or query.answered:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        text = params.get("text")
        if text is not None and len(text) > MAX_TOAST:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        query.answered, query.answer_text = True, text
        return True

    async def _api_answerinlinequery(self, params: dict[str, Any]) -> bool:
        query = self.inline_queries.get(str(params.get("inline_query_id")))
        if query is None or query.results is not None:
            raise ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        results = params.get("results")
        if not isinstance(results, list) or len(results) > 50:
            raise ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        ids = [str(r.get("id", "")) for r in results if isinstance(r, dict)]
        if len(ids) != len(results) or len(set(ids)) != len(ids) or not all(1 <= len(i.encode()) <= 64 for i in ids):
            raise ApiError(400, "Bad Request: RESULT_ID_INVALID")
        for result in results:
            if result.get("type") != "article" or not str(result.get("title", "")).strip():
                raise ApiError(400, "Bad Request: RESULT_TYPE_INVALID")
            content = result.get("input_message_content") or {}
            self._text({"text": content.get("message_text"), "parse_mode": content.get("parse_mode")})
            self._keyboard({"reply_markup": result.get("reply_markup")})
        query.results = results
        query.answer = {k: v for k, v in params.items() if k not in ("inline_query_id", "results")}
        return True

    async def _api_getchat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = _int(params.get("chat_id"))
        if chat_id not in self.chat_info:
            raise ApiError(400, "Bad Request: chat not found")
        return {**self.chat_info[chat_id], "accent_color_id": 0, "max_reaction_count": 11,
                "accepted_gift_types": {"unlimited_gifts": False, "limited_gifts": False,
                                        "unique_gifts": False, "premium_subscription": False,
                                        "gifts_from_channels": False}}

    # Webhook mode ------------------------------------------------------------------------------
    async def _deliver_webhook(self) -> None:
        """POST queued updates to the webhook one by one, as Telegram does, retrying failures."""
        assert self._session is not None
        while self.webhook_url:
            pending = self._deliverable()
            if not pending:
                with contextlib.suppress(AssertionError):
                    await self.wait_for(lambda: self._deliverable() or not self.webhook_url, 1.0, "updates")
                continue
            update = pending[0]
            headers = {"Content-Type": "application/json"}
            if self.webhook_secret:
                headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook_secret
            try:
                async with self._session.post(self.webhook_url, data=json.dumps(update), headers=headers) as response:
                    self.webhook_statuses.append(response.status)
                    delivered = response.status == 200
            except (ClientError, OSError, TimeoutError):
                delivered = False
            if delivered:
                self._updates = [u for u in self._updates if u["update_id"] != update["update_id"]]
                self._changed()
            else:
                await asyncio.sleep(0.2)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
