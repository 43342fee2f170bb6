"""TelegramPlatform in-process against the fake Bot API: unprompted sends (reminders) and failures."""

from __future__ import annotations

import logging
import time

import pytest
import pytest_asyncio

from adapters.telegram import TelegramPlatform
from adapters.telegram.handlers import SORRY
from adapters.telegram.rate_limits import CHAT_BURST, RETRIES_429
from bot.compose import build_services
from bot.events import Button, Message, Recipient
from bot.metrics import ERRORS, UPDATES
from bot.platform import Delivery, Outgoing
from bot.settings import load_settings
from tests.fakes.telegram_api import FakeBotAPI
from tests.telegram.conftest import MINI_GUIDE

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def platform(fake: FakeBotAPI, tmp_path_factory: pytest.TempPathFactory):
    workdir = tmp_path_factory.mktemp("send")
    settings = load_settings(
        env_file=None, telegram_bot_token=fake.token, telegram_api_base_url=fake.base_url,
        database_url=f"sqlite:///{workdir / 'bot.db'}", content_path=MINI_GUIDE, health_port=0,
    )
    services = await build_services(settings)
    telegram = TelegramPlatform(services.settings, services.engine, services.reminders, unprompted_in_flight=8)
    await telegram.start()
    yield telegram
    await telegram.stop()
    assert not telegram.ready()
    await services.storage.close()


async def test_a_reminder_is_delivered_as_html_with_its_buttons(fake: FakeBotAPI, platform: TelegramPlatform) -> None:
    assert platform.ready()
    user = fake.user(5_000_001)
    reply = Message("**Reminder:** check the setting <today> & tomorrow", buttons=((Button("Open the steps", "e:steps"),),))
    assert await platform.send(Outgoing(Recipient("telegram", "user", str(user.id)), (reply,))) is Delivery.SENT
    message = await user.pop_message()
    assert message.text == "Reminder: check the setting <today> & tomorrow"
    assert message.labels == ["Open the steps"]


async def test_blocked_and_unknown_chats_are_unreachable(fake: FakeBotAPI, platform: TelegramPlatform) -> None:
    user = fake.user(5_000_002)
    fake.blocked.add(user.id)
    assert await platform.send(Outgoing(Recipient("telegram", "user", str(user.id)), (Message("Hello"),))) is Delivery.UNREACHABLE
    assert await platform.send(Outgoing(Recipient("telegram", "user", "5999999"), (Message("Hello"),))) is Delivery.UNREACHABLE  # chat not found
    assert await platform.send(Outgoing(Recipient("telegram", "channel", "12"), (Message("Hello"),))) is Delivery.UNREACHABLE  # no channels here
    assert fake.sent_to(user.id) == []


async def test_a_network_error_that_outlasts_the_retries_is_a_failure(
    fake: FakeBotAPI, platform: TelegramPlatform, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("adapters.telegram.sending.BACKOFF", 0.01)  # the waits themselves are not under test
    user = fake.user(5_000_003)
    fake.drop_next("sendMessage", times=4, chat_id=user.id)
    assert await platform.send(Outgoing(Recipient("telegram", "user", str(user.id)), (Message("Hello"),))) is Delivery.FAILED
    assert fake.sent_to(user.id) == []
    # A passing failure is retried: one drop, then the message goes through exactly once.
    fake.drop_next("sendMessage", times=1, chat_id=user.id)
    assert await platform.send(Outgoing(Recipient("telegram", "user", str(user.id)), (Message("Hello"),))) is Delivery.SENT
    assert [m.text for m in fake.sent_to(user.id)] == ["Hello"]


async def test_a_flood_limit_on_a_reminder_is_waited_out_then_sent_once(
    fake: FakeBotAPI, platform: TelegramPlatform
) -> None:
    user = fake.user(5_000_007)
    fake.fail_next("sendMessage", error_code=429, retry_after=1, chat_id=user.id)
    started = time.monotonic()
    assert await platform.send(Outgoing(Recipient("telegram", "user", str(user.id)), (Message("Hello"),))) is Delivery.SENT
    assert time.monotonic() - started >= 0.9  # Telegram's retry_after was honoured, not hammered
    assert [m.text for m in fake.sent_to(user.id)] == ["Hello"]


def _sends_to(fake: FakeBotAPI, chat_id: int) -> int:
    return sum(1 for method, params in fake.requests if method == "sendMessage" and params.get("chat_id") == chat_id)


async def test_one_429_costs_exactly_one_more_attempt(fake: FakeBotAPI, platform: TelegramPlatform) -> None:
    # A reminder and a reply: the limiter waits out the 429 once; nothing above it retries it again.
    user = fake.user(5_000_008)
    fake.fail_next("sendMessage", error_code=429, retry_after=1, chat_id=user.id)
    assert await platform.send(Outgoing(Recipient("telegram", "user", str(user.id)), (Message("Hello"),))) is Delivery.SENT
    assert _sends_to(fake, user.id) == 2
    assert (await user.pop_message()).text == "Hello"
    fake.fail_next("sendMessage", error_code=429, retry_after=1, chat_id=user.id)
    await user.send("/help")
    assert "/start" in (await user.pop_message()).text
    assert _sends_to(fake, user.id) == 4
    assert user.pending() == []


async def test_429s_that_outlast_the_limiter_fail_without_a_second_retry_layer(
    fake: FakeBotAPI, platform: TelegramPlatform
) -> None:
    user = fake.user(5_000_009)
    fake.fail_next("sendMessage", error_code=429, retry_after=1, times=RETRIES_429 + 3, chat_id=user.id)
    assert await platform.send(Outgoing(Recipient("telegram", "user", str(user.id)), (Message("Hello"),))) is Delivery.FAILED
    # The first try and the limiter's retries, each after its retry_after: 4 calls, not 16 (the scheduler
    # tries the still undelivered reminder again later).
    assert _sends_to(fake, user.id) == RETRIES_429 + 1
    fake._faults["sendMessage"].clear()


async def test_one_chat_gets_about_one_message_a_second(fake: FakeBotAPI, platform: TelegramPlatform) -> None:
    user = fake.user(5_000_004)
    other = fake.user(5_000_005)
    texts = [f"part {i}" for i in range(CHAT_BURST + 2)]
    started = time.monotonic()
    assert await platform.send(Outgoing(Recipient("telegram", "user", str(user.id)), tuple(Message(t) for t in texts))) is Delivery.SENT
    assert time.monotonic() - started >= 1.8  # a short burst, then two waits of about a second
    # Other chats are not held up by that one.
    started = time.monotonic()
    assert await platform.send(Outgoing(Recipient("telegram", "user", str(other.id)), (Message("hi"),))) is Delivery.SENT
    assert time.monotonic() - started < 0.5
    assert [m.text for m in fake.sent_to(user.id)] == texts


async def test_a_failing_update_is_logged_counted_and_explained(
    fake: FakeBotAPI, platform: TelegramPlatform, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    user = fake.user(5_000_006)
    await user.send("/start")
    home = await user.pop_message()

    async def broken(key, event, locale=None):  # the engine (or its database) failing mid-step
        raise RuntimeError("database is locked")

    monkeypatch.setattr(platform.engine, "handle", broken)
    errors_before = UPDATES.labels("telegram", "error")._value.get()
    kind_before = ERRORS.labels("telegram_RuntimeError")._value.get()
    with caplog.at_level(logging.ERROR, logger="adapters.telegram.handlers"):
        query = await user.press("Help me decide")
        assert (await user.pop_message()).text == SORRY
    assert query.answers == 1  # the spinner stops even though the step failed
    assert home.labels  # nothing was changed on the pressed message
    assert UPDATES.labels("telegram", "error")._value.get() == errors_before + 1
    assert ERRORS.labels("telegram_RuntimeError")._value.get() == kind_before + 1
    failure = [r for r in caplog.records if "failed" in r.getMessage()]
    assert len(failure) == 1 and "RuntimeError" in failure[0].getMessage()
    assert fake.token not in caplog.text
