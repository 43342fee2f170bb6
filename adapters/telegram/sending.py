"""Sending to Telegram: retries for passing network errors, the shapes of our messages and edits, and
unprompted sends (reminders), which do not read Telegram's answer back."""

from __future__ import annotations

import asyncio
import json
import logging
import warnings
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import TypeVar

from telegram import Bot, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import ExtBot
from telegram.warnings import PTBUserWarning

from adapters.telegram.rate_limits import Priority
from adapters.telegram.render import Rendered, render_reply
from bot import events

log = logging.getLogger(__name__)

T = TypeVar("T")

ATTEMPTS = 4  # the first try and three retries
BACKOFF = 0.5  # seconds before the first retry, doubled each time
# One layer per cause: a 429 is waited out only by the rate limiter (rate_limits.py, RETRIES_429 times,
# each after its retry_after), network errors only here, and the reminder scheduler tries again later
# only what is still undelivered. Stacked, they once made up to 16 sendMessage calls of one message.
# A do_api_request for a method Bot has is warned about on every call; the unread send is deliberate.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.sendMessage'", category=PTBUserWarning)


async def with_retries(call: Callable[[], Awaitable[T]], what: str) -> T:
    """Run one Bot API call, retrying network errors with backoff.

    A 429 (RetryAfter) passes through: the rate limiter has already waited out its retries, and a
    second layer would wait each retry_after again.
    """
    delay = BACKOFF
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await call()
        except (BadRequest, RetryAfter):
            raise  # our request is wrong, or the limiter's 429 retries ran out: sending again here cannot help
        except NetworkError as exc:
            if attempt == ATTEMPTS:
                raise
            log.warning("telegram: %s failed (%s); retry %d in %.1f s", what, exc, attempt, delay)
            await asyncio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")  # the loop returns or raises



async def send_part(bot: Bot, chat_id: int, part: Rendered) -> Message:
    """Send one rendered message."""
    return await with_retries(
        lambda: bot.send_message(chat_id, part.text, parse_mode=ParseMode.HTML, reply_markup=part.markup),
        "sendMessage",
    )


async def edit_into(bot: Bot, message: Message, part: Rendered) -> bool:
    """Turn ``message`` into ``part`` (text and buttons); False when Telegram cannot edit it."""
    try:
        await with_retries(
            lambda: bot.edit_message_text(
                part.text, chat_id=message.chat_id, message_id=message.message_id,
                parse_mode=ParseMode.HTML, reply_markup=part.markup,
            ),
            "editMessageText",
        )
    except BadRequest as exc:
        if "not modified" in exc.message.lower():
            return True  # it already shows exactly this
        # Deleted, or too old to edit: the caller sends it as a new message instead.
        log.debug("telegram: could not edit the pressed message (%s)", exc.message)
        return False
    return True


class UnpromptedBot(ExtBot):  # type: ignore[type-arg]
    """A bot for messages nobody waits on (reminders): Telegram's answer is not read back."""

    async def send_message_unread(self, params: dict[str, object]) -> None:
        """Call sendMessage with ready parameters; raise PTB's errors as send_message does."""
        # Nothing is done with a sent reminder, and building PTB's Message from each answer was a
        # quarter of the CPU per reminder (bench/reminders.py): the public do_api_request with no
        # return_type hands back the raw answer. Marked as a broadcast, so that replies to people
        # waiting go first (rate_limits.py).
        await self.do_api_request("sendMessage", api_kwargs=dict(params),
                                  rate_limit_args=Priority.BROADCAST if self.rate_limiter else None)


async def send_unprompted(bot: UnpromptedBot, chat_id: int, reply: events.Message) -> None:
    """Send a reply as new messages (split at 4,096 characters), in order."""
    for text, markup in _wire_parts(reply):
        params: dict[str, object] = {"chat_id": chat_id, "text": text, "parse_mode": ParseMode.HTML}
        if markup is not None:
            params["reply_markup"] = markup
        await with_retries(lambda params=params: bot.send_message_unread(params), "sendMessage")


# The same few reminders go to thousands of people, and PTB would serialize the keyboard afresh for
# each message; the Bot API takes reply_markup as a JSON-serialized object, so it is done once here.
@lru_cache(maxsize=256)
def _wire_parts(reply: events.Message) -> tuple[tuple[str, str | None], ...]:
    return tuple(
        (part.text, json.dumps(part.markup.to_dict()) if part.markup is not None else None)
        for part in render_reply(reply)
    )
