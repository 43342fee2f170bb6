"""Sending to Telegram: retries for passing network errors, and the shapes of our messages and edits."""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from telegram import Bot, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, EndPointNotFound, InvalidToken, NetworkError, RetryAfter
from telegram.warnings import PTBDeprecationWarning, PTBUserWarning

from adapters.telegram.render import render_answered, render_reply
from bot.events import Reply

log = logging.getLogger(__name__)

T = TypeVar("T")

ATTEMPTS = 4  # the first try and three retries
BACKOFF = 0.5  # seconds before the first retry, doubled each time
RETRY_AFTER_CAP = 30.0  # seconds; a longer flood wait is reported as a failure rather than waited out

# send_unprompted calls sendMessage through do_api_request on purpose (see there); PTB suggests
# bot.send_message each time, which is right for every other caller, so only this advice is muted.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.sendMessage' instead", category=PTBUserWarning)


async def with_retries(call: Callable[[], Awaitable[T]], what: str) -> T:
    """Run one Bot API call, retrying network errors with backoff and honouring 429's retry_after.

    PTB's AIORateLimiter retries 429s itself when it is on; this covers network errors (which it
    never retries) and the 429s that reach us when limiting is off or its retries ran out.
    """
    delay = BACKOFF
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await call()
        except RetryAfter as exc:
            wait = retry_after_seconds(exc)
            if attempt == ATTEMPTS or wait > RETRY_AFTER_CAP:
                raise
            log.warning("telegram: %s hit the flood limit; retrying in %.1f s", what, wait)
            await asyncio.sleep(wait)
        except BadRequest:
            raise  # our request is wrong; sending it again cannot help
        except NetworkError as exc:
            if attempt == ATTEMPTS:
                raise
            log.warning("telegram: %s failed (%s); retry %d in %.1f s", what, exc, attempt, delay)
            await asyncio.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")  # the loop returns or raises


def retry_after_seconds(exc: RetryAfter) -> float:
    """Read a 429's wait in seconds, whichever type this PTB version gives it."""
    # PTB 22 returns an int with a deprecation warning and will return a timedelta; both are fine here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


async def send_reply(bot: Bot, chat_id: int, reply: Reply) -> list[Message]:
    """Send a reply as new messages (split at 4,096 characters), in order."""
    sent = []
    for part in render_reply(reply):
        sent.append(
            await with_retries(
                lambda part=part: bot.send_message(
                    chat_id, part.text, parse_mode=ParseMode.HTML, reply_markup=part.markup
                ),
                "sendMessage",
            )
        )
    return sent


async def send_unprompted(bot: Bot, chat_id: int, reply: Reply) -> None:
    """Send a reply as new messages, in order, without reading Telegram's answers back."""
    # Nothing is done with the sent messages here, and building PTB's Message from each answer was
    # a quarter of the CPU per reminder (bench/reminders.py), so the answer is left as JSON.
    for part in render_reply(reply):
        params: dict[str, object] = {"chat_id": chat_id, "text": part.text, "parse_mode": ParseMode.HTML}
        if part.markup is not None:
            params["reply_markup"] = part.markup
        try:
            await with_retries(lambda params=params: bot.do_api_request("sendMessage", api_kwargs=params), "sendMessage")
        except EndPointNotFound:
            # do_api_request reads a 401/404 as an unknown method; for sendMessage it is the token.
            raise InvalidToken("Unauthorized") from None


async def show_answered(bot: Bot, message: Message, reply: Reply | None) -> None:
    """Turn the pressed message into an answered one: the chosen answer shown, no buttons left."""
    try:
        if reply is not None:
            await with_retries(
                lambda: bot.edit_message_text(
                    render_answered(reply), chat_id=message.chat_id, message_id=message.message_id,
                    parse_mode=ParseMode.HTML, reply_markup=None,
                ),
                "editMessageText",
            )
        elif message.reply_markup is not None and message.reply_markup.inline_keyboard:
            await with_retries(
                lambda: bot.edit_message_reply_markup(chat_id=message.chat_id, message_id=message.message_id),
                "editMessageReplyMarkup",
            )
    except BadRequest as exc:
        # Deleted, too old to edit, or already showing this: the next step is sent below either way.
        log.debug("telegram: could not tidy the pressed message (%s)", exc.message)
