"""The fake Bot API refuses what Telegram refuses, as seen through the real python-telegram-bot client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import pytest_asyncio
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter

from tests.fakes.telegram_api import FakeBotAPI

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(loop_scope="module")
async def bot(fake: FakeBotAPI) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=fake.base_url) as client:
        yield client


async def test_a_wrong_token_is_unauthorized(fake: FakeBotAPI) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("1:not-the-token", base_url=fake.base_url):
            pass


async def test_text_limits_and_html_are_checked(fake: FakeBotAPI, bot: Bot) -> None:
    user = fake.user(6_000_001)
    await bot.send_message(user.id, "x" * 4096)
    await bot.send_message(user.id, "<b>" + "&amp;" * 4096 + "</b>", parse_mode=ParseMode.HTML)  # 4,096 after parsing
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(user.id, "x" * 4097)
    with pytest.raises(BadRequest, match="empty"):
        await bot.send_message(user.id, "<b> </b>", parse_mode=ParseMode.HTML)
    for bad in ("a < b", "Tom & Jerry", "<b>open", "<p>para</p>", "<b><i>x</b></i>"):
        with pytest.raises(BadRequest, match="parse entities"):
            await bot.send_message(user.id, bad, parse_mode=ParseMode.HTML)
    assert [m.text[:3] for m in fake.sent_to(user.id)] == ["xxx", "&&&"]


async def test_callback_data_is_one_to_64_bytes(fake: FakeBotAPI, bot: Bot) -> None:
    user = fake.user(6_000_002)
    ok = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="é" * 32)]])
    await bot.send_message(user.id, "fits", reply_markup=ok)
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="x" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(user.id, "too long", reply_markup=too_long)


async def test_queries_are_answered_once_and_edits_need_a_message(fake: FakeBotAPI, bot: Bot) -> None:
    user = fake.user(6_000_003)
    sent = await bot.send_message(user.id, "question", reply_markup=InlineKeyboardMarkup(
        [[InlineKeyboardButton("A", callback_data="a")]]))
    message = await user.pop_message()
    query = await user.press("A", wait=False)
    assert await bot.answer_callback_query(query.id, "ok")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query.id)
    await bot.edit_message_text("answered", chat_id=user.id, message_id=sent.message_id)
    assert message.text == "answered" and message.buttons == []
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text("answered", chat_id=user.id, message_id=sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=user.id, message_id=999)


# PTB itself reads RetryAfter.retry_after when the error is built, which warns until PTB 23.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_blocks_floods_and_unknown_chats(fake: FakeBotAPI, bot: Bot) -> None:
    user = fake.user(6_000_004)
    fake.fail_next("sendMessage", 429, retry_after=7, chat_id=user.id)
    with pytest.raises(RetryAfter) as flood:
        await bot.send_message(user.id, "hi")
    assert flood.value.retry_after in (7, timedelta(seconds=7))  # an int in PTB 22, a timedelta from 23
    fake.blocked.add(user.id)
    with pytest.raises(Forbidden, match="blocked"):
        await bot.send_message(user.id, "hi")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(6_999_999, "hi")
    chat = await bot.get_chat(fake.user(6_000_005).id)  # PTB 22 parses the full chat info
    assert chat.type == "private"
