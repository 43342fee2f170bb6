"""PTB handlers: Telegram updates in, engine events out, the outcome shown as a clean transcript."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from adapters.telegram.inline import deep_link, without_inline_mode
from adapters.telegram.render import compose, toast
from adapters.telegram.sending import edit_into, send_part, with_retries
from bot import commands
from bot.engine import Engine
from bot.events import Command, Event, Outcome, Press, Recipient, Start, Text, UserKey
from bot.i18n import N_, choose_language, lang
from bot.locks import KeyedLocks
from bot.metrics import ERRORS, UPDATES

if TYPE_CHECKING:
    from bot.reminders.service import ReminderService

log = logging.getLogger(__name__)

PLATFORM = "telegram"
# The commands users can send, and the client's command menu (setMyCommands, once per language), both
# from the core's command table; "start" has a handler of its own (its deep-link payload).
COMMANDS = tuple(c.name for c in commands.offered(commands.TELEGRAM) if c.name != "start")
HINTS = commands.hints(commands.TELEGRAM)
# Telegram's deep-link payload: up to 64 of these characters.
_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ENTRY_MAX = 64
COMMAND_NAME_MAX = 32

GROUP_TEXT = N_(
    "I walk people through this in a private chat, so your answers stay between you and me. "
    "Tap the button to open it."
)
GROUP_BUTTON = N_("Open a private chat")
SORRY = N_("Sorry, something went wrong on my side. Please try again in a moment, or send /start.")
NOT_HERE = N_("Please use the buttons in our private chat.")

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


def counted(handler: Handler) -> Handler:
    """Count each handled update as ok or error (the error itself goes to the error handler)."""

    @functools.wraps(handler)
    async def wrapper(self: Any, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await handler(self, update, context)
        except Exception:
            UPDATES.labels(PLATFORM, "error").inc()
            raise
        UPDATES.labels(PLATFORM, "ok").inc()

    return wrapper  # type: ignore[return-value]


class TelegramHandlers:
    """The PTB callbacks; they translate and deliver, the engine decides."""

    def __init__(self, engine: Engine, reminders: ReminderService) -> None:
        self.engine = engine
        self.reminders = reminders
        # Set from getMe at start: without inline mode, share buttons become t.me/share/url links.
        self.inline_mode = True
        # The engine serialises a user's steps but not the sending of their replies; without this, two
        # quick presses could interleave their messages.
        self._locks: KeyedLocks[int] = KeyedLocks()

    def install(self, app: Application) -> None:
        private = filters.ChatType.PRIVATE
        groups = filters.ChatType.GROUPS
        app.add_handler(CommandHandler("start", self.start, filters=private))
        app.add_handler(CommandHandler(COMMANDS, self.command, filters=private))
        app.add_handler(MessageHandler(private & filters.COMMAND, self.unknown_command))
        app.add_handler(MessageHandler(private & ~filters.COMMAND & ~filters.StatusUpdate.ALL, self.text))
        app.add_handler(CallbackQueryHandler(self.press))
        app.add_handler(MessageHandler(groups & filters.COMMAND, self.group_command))
        app.add_handler(ChatMemberHandler(self.membership, ChatMemberHandler.MY_CHAT_MEMBER))
        app.add_error_handler(self.error)

    # Updates ---------------------------------------------------------------------------------
    @counted
    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Open the guide, at the deep-link entry point when /start carries one."""
        entry = context.args[0][:ENTRY_MAX] if context.args else None
        await self._converse(update, context, Start(entry))

    @counted
    async def command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Pass a known command to the engine (its arguments are never passed on)."""
        await self._converse(update, context, Command(_command_name(update.effective_message)))

    @counted
    async def unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Let the engine answer a command it does not know with a short hint and the current step."""
        name = _command_name(update.effective_message)[:COMMAND_NAME_MAX]
        await self._converse(update, context, Command(name))

    @counted
    async def text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer anything typed or sent (text, sticker, photo) as Text(): its content is never read."""
        await self._converse(update, context, Text())

    @counted
    async def press(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Hand a button press to the engine, answer the query exactly once, and show the outcome."""
        query = update.callback_query
        assert query is not None
        answered = False
        try:
            message = query.message
            if message is None or message.chat.type != Chat.PRIVATE:
                answered = True
                await query.answer(lang(choose_language(query.from_user.language_code))._(NOT_HERE))
                return
            user_id = query.from_user.id
            key = UserKey(PLATFORM, str(user_id))
            async with self._locks.hold(user_id):
                outcome = await self.engine.handle(key, Press(query.data or ""), locale=query.from_user.language_code)
                notice = outcome.notice
                answered = True
                answer = _answer(query.answer(toast(notice) if notice else None))
                pressed = message if isinstance(message, Message) else None
                await self._show(context, key, message.chat.id, outcome, pressed, alongside=answer)
        finally:
            if not answered:
                await _answer(query.answer())

    @counted
    async def group_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer a command in a group with a button that opens the private chat (a deep link)."""
        message = update.effective_message
        assert message is not None and message.text is not None
        head, *rest = message.text[1:].split(maxsplit=1) or [""]
        name, _, addressee = head.lower().partition("@")
        if addressee and addressee != (context.bot.username or "").lower():
            return  # meant for another bot in the group
        if not addressee and name not in {"start", *COMMANDS}:
            return  # an unaddressed command we do not have is probably another bot's
        payload = ""
        if name == "start" and rest and _PAYLOAD.match(rest[0].split()[0]):
            payload = rest[0].split()[0]
        elif name == "steps":
            payload = "steps"
        url = deep_link(context.bot.username, payload) if payload else f"https://t.me/{context.bot.username}"
        # In the language of whoever sent the command: the group itself has none.
        user = update.effective_user
        t = lang(choose_language(user.language_code if user else None))
        markup = InlineKeyboardMarkup([[InlineKeyboardButton(t._(GROUP_BUTTON), url=url)]])
        await with_retries(
            lambda: context.bot.send_message(message.chat_id, t._(GROUP_TEXT), reply_markup=markup), "sendMessage"
        )

    @counted
    async def membership(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Turn a user's reminders off when they block the bot in their private chat."""
        change = update.my_chat_member
        assert change is not None
        if change.chat.type == Chat.PRIVATE and change.new_chat_member.status in (
            ChatMemberStatus.BANNED, ChatMemberStatus.LEFT
        ):
            await self._unreachable(UserKey(PLATFORM, str(change.from_user.id)))

    async def error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log what failed (type and message, never the update's content), count it, and tell the user."""
        exc = context.error
        kind = type(exc).__name__
        ERRORS.labels(f"telegram_{kind}").inc()
        update_id = update.update_id if isinstance(update, Update) else None
        if isinstance(exc, TelegramError):
            # Telegram's answer says what was wrong; a traceback adds nothing but noise.
            log.error("telegram: update %s failed: %s: %s", update_id, kind, exc)
        else:
            log.error("telegram: update %s failed: %s", update_id, kind, exc_info=exc)
        if isinstance(update, Update) and update.effective_chat and update.effective_chat.type == Chat.PRIVATE:
            try:
                user = update.effective_user
                sorry = lang(choose_language(user.language_code if user else None))._(SORRY)
                await context.bot.send_message(update.effective_chat.id, sorry)
            except TelegramError as again:
                log.warning("telegram: could not tell the user about the failure (%s)", type(again).__name__)

    # Delivery --------------------------------------------------------------------------------
    async def _converse(self, update: Update, context: ContextTypes.DEFAULT_TYPE, event: Event) -> None:
        user = update.effective_user
        chat = update.effective_chat
        assert user is not None and chat is not None
        key = UserKey(PLATFORM, str(user.id))
        async with self._locks.hold(user.id):
            outcome = await self.engine.handle(key, event, locale=user.language_code)
            await self._show(context, key, chat.id, outcome, None)

    async def _show(
        self, context: ContextTypes.DEFAULT_TYPE, key: UserKey, chat_id: int, outcome: Outcome,
        pressed: Message | None, alongside: Awaitable[None] | None = None,
    ) -> None:
        """Show the outcome: a press turns the pressed message into the next step, anything else is sent anew."""
        replies = outcome.replies if self.inline_mode else without_inline_mode(outcome.replies, context.bot.username)
        messages = compose(replies)
        try:
            # A press costs one message, not two: every message sent or edited counts against
            # Telegram's 30 a second, and an edit plus a send per step capped a rush at 15 steps a
            # second. Editing the pressed message into the next step reads better than sending the
            # next step under an untouched question: the chat does not fill with old questions whose
            # buttons still look live, the chosen answer stays in view ("✅ Pro" above the next
            # question), and it reads as on Discord, where a press updates its message too. A
            # notice (a stale or odd press) leaves the pressed message alone and comes as new
            # messages, so the user sees both where they were and why nothing moved.
            target = pressed if messages and outcome.notice is None else None
            first: list[Awaitable[object]] = [alongside] if alongside is not None else []
            if target is not None:
                first.append(edit_into(context.bot, target, messages[0]))
            done = await asyncio.gather(*first)
            if target is not None and done[-1]:
                messages = messages[1:]
            for message in messages:
                await send_part(context.bot, chat_id, message)
        except Forbidden:
            await self._unreachable(key)

    async def _unreachable(self, key: UserKey) -> None:
        log.info("telegram: a user has blocked the bot; their reminders are turned off")
        log.debug("telegram: blocked by user %s", key.user_id)
        await self.reminders.unreachable(Recipient.user(key))


async def _answer(call: Awaitable[bool]) -> None:
    try:
        await call
    except BadRequest as exc:
        # Too old (over ~15 minutes) or already answered: the user sees the messages regardless.
        log.debug("telegram: could not answer a button press (%s)", exc.message)
    except TelegramError as exc:
        # Only the spinner is affected; the step itself must still be shown.
        log.warning("telegram: could not answer a button press (%s: %s)", type(exc).__name__, exc)


def _command_name(message: Message | None) -> str:
    assert message is not None and message.text is not None
    head = message.text[1:].split(maxsplit=1)[0] if len(message.text) > 1 else ""
    return head.partition("@")[0].lower()
