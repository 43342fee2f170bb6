"""Every pack is equal, end to end on Telegram: a copy of the ChatGPT guide with a deadline a minute ahead.

The bot runs in this process (the composition root's own build_services / create_platforms, the real
python-telegram-bot against the fake Bot API on 127.0.0.1) on a ManualClock, so the minute passes when
the test says, not in real time.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from bot import texts
from bot.clock import ManualClock
from bot.compose import Services, build_services, create_platforms
from bot.events import UserKey
from bot.reminders import texts as reminder_texts
from bot.reminders.scheduler import Scheduler
from bot.settings import load_settings
from tests.fakes.telegram_api import FakeBotAPI, FakeUser
from tests.reminders.helpers import copy_content

pytestmark = pytest.mark.timeout(60)

NOW = datetime.fromisoformat("2026-12-06T12:00:00+00:00")
SETTING = "“Improve the model for everyone”"
MY_OWN = "🙋 My own account"


def add_deadline(chatgpt: Path) -> None:
    """A maintainer's edit: ChatGPT gets a deadline (say, a date to object by) a minute ahead."""
    text = chatgpt.read_text(encoding="utf-8")
    at = (NOW + timedelta(minutes=1)).isoformat()
    chatgpt.write_text(
        text + f'\ndeadlines:\n  - id: object\n    at: "{at}"\n    label: "Deadline to object"\n'
        '    offsets: [PT40S, PT20S]\n', encoding="utf-8")


@pytest_asyncio.fixture
async def running(tmp_path: Path) -> AsyncIterator[tuple[FakeBotAPI, Services, ManualClock]]:
    claude = copy_content(tmp_path)
    add_deadline(claude.parent / "chatgpt.yaml")
    clock = ManualClock(NOW)
    async with FakeBotAPI() as fake:
        settings = load_settings(env_file=None, telegram_bot_token=fake.token, telegram_api_base_url=fake.base_url,
                                 content_path=claude, database_url=f"sqlite:///{tmp_path / 'bot.db'}", health_port=0)
        services = await build_services(settings, clock)
        (platform,) = create_platforms(services)
        await platform.start()
        scheduler = Scheduler.for_service(services.reminders, {platform.name: platform})
        task = asyncio.create_task(scheduler.run())
        try:
            yield fake, services, clock
        finally:
            await scheduler.stop()
            await task
            await platform.stop()
            await services.storage.close()


async def chatgpt_result(user: FakeUser) -> None:
    await user.send("/start chatgpt")
    await user.pop_until_buttons()
    await user.tap(MY_OWN)


async def test_a_chatgpt_user_is_reminded_of_chatgpts_deadline_naming_its_setting(running) -> None:
    fake, _, clock = running
    user = fake.user(8_200_001)
    await chatgpt_result(user)
    result = user.bot_messages[-1]
    assert texts.REMIND_ME in result.labels  # a pack with a deadline ahead offers reminders on its result
    menu = await user.tap(texts.REMIND_ME)
    assert menu.labels[0] == "40 seconds and 20 seconds before 6 December 2026"
    confirmation = await user.tap(menu.labels[0])
    assert confirmation.text.startswith("Done! I'll remind you:")
    assert "20 seconds before the deadline to object (6 December 2026)" in confirmation.text

    await clock.advance(timedelta(seconds=25))  # the first offset: 40 seconds before
    (first,) = await user.pop_messages(1)
    assert first.text.startswith("⏰ Reminder: Deadline to object")
    assert f"If you haven't turned off {SETTING} yet" in first.text and "Claude" not in first.text
    assert first.labels == [reminder_texts.SHOW_STEPS, reminder_texts.ITS_OFF, texts.STOP_REMINDERS]
    # Halfway to the deadline the "did it work?" check-in (they saw the steps, never said it's off), then
    # the second offset: both name ChatGPT's setting.
    await clock.advance(timedelta(seconds=20))
    check_in, second = await user.pop_messages(2)
    assert check_in.text.startswith(f"👋 Did it work?\n\nYou looked at the steps to turn off {SETTING}")
    assert second.text.startswith("⏰ Reminder: Deadline to object") and SETTING in second.text

    # "Show me the steps" opens ChatGPT's steps, not Claude's.
    steps = await user.tap(reminder_texts.SHOW_STEPS)
    assert "Improve the model for everyone" in steps.text and "Help improve Claude" not in steps.text


async def test_a_chatgpt_user_who_confirms_is_offered_check_backs_that_name_chatgpts_setting(running) -> None:
    fake, services, clock = running
    user = fake.user(8_200_002)
    await chatgpt_result(user)
    thanks = await user.tap("✅ I've turned it off")
    assert thanks.text.startswith("✅ ✅ I've turned it off\n\nThank you!")
    assert thanks.labels[:3] == ["In 1 week", "In 1 month", "In 3 months"]
    booked = await user.tap("In 1 week")
    assert booked.text.startswith("Done! I'll check back with you on 13 December 2026")

    await clock.advance(timedelta(days=7, seconds=1))
    (checkback,) = await user.pop_messages(1)
    assert checkback.text.startswith("👋 Checking back, as you asked.")
    assert f"is {SETTING} still off?" in checkback.text
    # "It's still off" answers in ChatGPT's pack: confirmed there, and offered the next check-back.
    again = await user.tap(reminder_texts.STILL_OFF)
    assert "Thank you!" in again.text and "In 1 week" in again.labels
    key = UserKey("telegram", str(user.id))
    state = await services.storage.get_user(key, "chatgpt")
    assert state.answers["turned_off"] == "yes"
    assert await services.storage.get_user(key, "claude") is None
