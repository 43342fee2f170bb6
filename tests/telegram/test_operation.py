"""Operating the Telegram bot: restarts, webhook mode, bad tokens, and logs that never show the token."""

from __future__ import annotations

import socket

import pytest

from bot import texts
from tests.fakes.telegram_api import FakeBotAPI
from tests.telegram.conftest import BotProcess

pytestmark = pytest.mark.asyncio(loop_scope="module")

HOME = "Hi! What would you like to do?\n\nThe deadline passed on 8 October 2025."


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("crash", [False, True], ids=["sigterm", "sigkill"])
async def test_users_continue_where_they_were_after_a_restart(fake: FakeBotAPI, start_bot, crash: bool) -> None:
    bot: BotProcess = await start_bot()
    user = fake.user(4_000_001 + crash)
    await user.send("/start")
    await user.pop_message()
    plan = await user.tap("Help me decide")

    await bot.restart(crash=crash)
    # A button of a message sent before the restart still works, and the answers are kept.
    result = await user.tap("Team")
    assert result is plan and result.text.startswith("✅ Team\n\n")
    assert result.text.endswith("Team plans are not covered.")  # shown for the answer given before

    # An update sent while the bot is down is handled once it is back: nothing is lost.
    await bot.stop()
    edits = result.edits
    await user.press(texts.BACK, wait=False)
    await bot.start()
    await fake.wait_for(lambda: result.edits > edits, what="the step back", chat=user.id)
    assert result.text == "Which plan do you use?"
    assert user.pending() == []


async def test_stop_finishes_the_updates_in_flight(fake: FakeBotAPI, start_bot) -> None:
    bot: BotProcess = await start_bot()
    users = [fake.user(4_100_000 + i) for i in range(20)]
    for user in users:
        await user.send("/start")
    # Stop while the burst is being answered.
    await fake.wait_for(lambda: any(u.bot_messages for u in users))
    assert await bot.stop() == 0
    # Whatever the bot fetched before stopping was answered; the rest is answered after a restart,
    # and nobody is answered twice.
    await bot.start()
    for user in users:
        assert (await user.pop_message()).text == HOME
    assert all(len(u.bot_messages) == 1 for u in users)


async def test_webhook_mode_accepts_only_the_right_secret(fake: FakeBotAPI, start_bot) -> None:
    port = free_port()
    secret = "s3cret-webhook-Token_0123456789"
    bot: BotProcess = await start_bot(
        TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram-hook",
        TELEGRAM_WEBHOOK_SECRET=secret,
        TELEGRAM_WEBHOOK_LISTEN="127.0.0.1",
        TELEGRAM_WEBHOOK_PORT=str(port),
        LOG_LEVEL="DEBUG",
    )
    try:
        assert fake.webhook_url == f"http://127.0.0.1:{port}/telegram-hook"
        assert fake.webhook_secret == secret
        assert fake.calls["getUpdates"] == 0 or bot.output.count("webhook listening") == 1
        user = fake.user(4_200_001)
        # Telegram (the fake) posts with the right secret: the user is answered.
        await user.send("/start")
        assert (await user.pop_message()).text == HOME
        # Anyone else posting without it, or with a wrong one, is refused and nothing is handled.
        intruder = fake.user(4_200_002)
        update = {"message": {"message_id": 1, "date": 0, "chat": intruder.chat_json, "from": intruder.json,
                              "text": "/start", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}
        assert await fake.post_to_webhook(update, "wrong-secret") == 403
        assert await fake.post_to_webhook(update, None) == 403
        await user.send("/help")  # a marker: once it is answered, the refused posts would have been too
        await user.pop_message()
        assert fake.sent_to(intruder.id) == []
        assert all(status == 200 for status in fake.webhook_statuses)
    finally:
        assert await bot.stop() == 0
        await fake._api_deletewebhook({})
    assert "Webhook received data" in bot.output  # PTB's line is there, its payload withheld
    for secret_value in (secret, fake.token, intruder.first_name):
        assert secret_value not in bot.output  # the next test polls; Telegram needs the webhook removed first


async def test_token_and_user_text_never_reach_the_log(fake: FakeBotAPI, start_bot) -> None:
    bot: BotProcess = await start_bot(LOG_LEVEL="DEBUG")
    user = fake.user(4_300_001)
    words = "my-very-private-message-4300"
    fake.drop_next("sendMessage", chat_id=user.id)  # a network error, logged with its details
    fake.fail_next("editMessageText", 400, "Bad Request: message to edit not found", chat_id=user.id)  # sent anew
    await user.send("/start")
    await user.pop_message()
    await user.send(words)
    await user.pop_messages(2)
    await user.tap("Help me decide")
    assert await bot.stop() == 0
    output = bot.output
    assert "DEBUG" in output and "getUpdates" in output  # the log really is at DEBUG
    assert "Processing update" in output
    token_secret = fake.token.split(":", 1)[1]
    assert fake.token not in output
    assert token_secret not in output
    assert words not in output
    assert user.first_name not in output  # names come back in every API answer


async def test_a_bad_token_stops_start_up_with_a_clear_line(fake: FakeBotAPI, start_bot) -> None:
    bad = "123456789:AAwrong-token-for-the-fake-0123456789"
    bot: BotProcess = await start_bot(TELEGRAM_BOT_TOKEN=bad, wait_ready=False)
    assert await bot.wait_exit() != 0
    assert "TELEGRAM_BOT_TOKEN: Telegram rejected the token" in bot.output
    assert bad not in bot.output and bad.split(":")[1] not in bot.output


async def test_an_unreachable_api_stops_start_up_with_a_clear_line(fake: FakeBotAPI, start_bot) -> None:
    dead = f"http://127.0.0.1:{free_port()}/bot"
    bot: BotProcess = await start_bot(TELEGRAM_API_BASE_URL=dead, wait_ready=False)
    assert await bot.wait_exit() != 0
    assert "TELEGRAM_BOT_TOKEN: could not be checked: the Bot API at http://127.0.0.1" in bot.output
    assert fake.token not in bot.output


async def test_webhook_mode_needs_a_secret(fake: FakeBotAPI, start_bot) -> None:
    bot: BotProcess = await start_bot(TELEGRAM_WEBHOOK_URL="https://bot.example.org/hook", wait_ready=False)
    assert await bot.wait_exit() != 0
    assert "TELEGRAM_WEBHOOK_SECRET: required with TELEGRAM_WEBHOOK_URL" in bot.output
