"""Reminders end to end: `optout-bot run` processes against the fake Telegram Bot API on 127.0.0.1.

The subprocesses run on FAKE_NOW (a fixed instant that then keeps running), so nothing here depends
on today's date; a restart passes on the time that has elapsed so the bot's clock never runs back.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from bot import texts
from bot.clock import ManualClock
from bot.events import UserKey
from bot.guide import Guide, load_guide
from bot.i18n import lang
from bot.reminders import texts as reminder_texts
from bot.reminders.service import ReminderService
from bot.storage import open_storage
from tests.fakes.telegram_api import FakeBotAPI
from tests.inprocess import InProcessBot
from tests.reminders.helpers import eventually, write_guide
from tests.telegram.conftest import FAKE_NOW, BotProcess, bot_env

pytestmark = pytest.mark.timeout(170)

START = datetime.fromisoformat(FAKE_NOW)


class Bot(BotProcess):
    """A bot process whose FAKE_NOW moves on across restarts, as a real clock would."""

    def __init__(self, fake: FakeBotAPI, workdir: Path, guide_path: Path, **extra: str) -> None:
        super().__init__(fake, workdir, bot_env(fake, workdir, guide_path, **extra))
        self.first_start: float | None = None

    async def start(self, wait_ready: bool = True) -> BotProcess:
        if self.first_start is None:
            self.first_start = time.monotonic()
        self.env["FAKE_NOW"] = (START + timedelta(seconds=time.monotonic() - self.first_start)).isoformat()
        return await super().start(wait_ready)


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as api:
        yield api


@pytest_asyncio.fixture
async def bots() -> AsyncIterator[list[Bot]]:
    started: list[Bot] = []
    yield started
    for bot in started:
        await bot.kill()


async def subscribe(db_path: Path, guide: Guide, user_ids: list[int], at: datetime) -> None:
    """Subscribe users as an earlier run of the bot did when they pressed the offer."""
    storage = await open_storage(db_path)
    try:
        service = ReminderService(storage, storage, guide, ManualClock(at))
        for uid in user_ids:
            assert await service.subscribe(UserKey("telegram", str(uid)), "dl", at) is not None
    finally:
        await storage.close()


@pytest_asyncio.fixture
async def in_process() -> AsyncIterator[list[InProcessBot]]:
    started: list[InProcessBot] = []
    yield started
    for bot in started:
        await bot.stop()


async def test_a_deadline_a_minute_away_delivers_each_reminder_once(fake, in_process, tmp_path) -> None:
    guide_path = tmp_path / "guide.yaml"
    deadline = START + timedelta(seconds=30)
    write_guide(guide_path, [("soon", deadline, ["PT20S", "PT10S"])])
    bot = await InProcessBot(fake, tmp_path, guide_path, START).start()
    in_process.append(bot)
    user = fake.user(4_100_001)

    await user.send("/start steps")
    await user.pop_until_buttons()
    menu = await user.tap("Remind me")
    assert menu.labels[0] == "20 seconds and 10 seconds before 22 November 2026"
    confirmation = await user.tap(menu.labels[0])
    assert confirmation is menu and confirmation.text.startswith("Done! I'll remind you:")

    await bot.clock.set(deadline - timedelta(seconds=21))
    await bot.idle()
    assert user.pending() == []  # nothing before its time
    reminders = []
    for left in (20, 15, 10):  # the reminders, and halfway to the deadline the check-back
        await bot.clock.set(deadline - timedelta(seconds=left))
        reminders.append(await user.pop_message())
    texts = [m.text for m in reminders]
    assert sum("Reminder: the soon deadline" in t for t in texts) == 2
    assert sum("Did it work?" in t for t in texts) == 1  # saw the steps, never said it is off
    first = next(m for m in reminders if "Reminder" in m.text)
    assert "less than a day left" in first.text and "minute" not in first.text.split("\n\n")[1]  # never in hours or minutes
    assert first.labels == ["📋 Show me the steps", "✅ I've turned it off", "🔕 Stop reminders"]

    await bot.clock.set(deadline + timedelta(days=30))  # the deadline has passed: nothing more may come
    await bot.idle()
    assert len(fake.sent_to(user.id)) == 1 + 3  # the steps (edited into the menu, then the confirmation), the reminders
    await user.send("/remind")
    assert "There's nothing I can remind you about right now." not in (await user.pop_message()).text


async def test_sigkill_while_sending_loses_none_and_repeats_at_most_one(fake, bots, tmp_path) -> None:
    # Real time and a real SIGKILL at Telegram's own rate, so 150 messages (five seconds): the kill still
    # lands mid-broadcast, and the pace still comes from the limiter.
    n, rate = 150, 30
    guide_path = tmp_path / "guide.yaml"
    guide = write_guide(guide_path, [("soon", START + timedelta(hours=2), ["PT1H59M57S"])])
    ids = [5_000_000 + i for i in range(n)]
    for uid in ids:
        fake.user(uid)
    await subscribe(tmp_path / "bot.db", guide, ids, START - timedelta(minutes=1))
    # A short lease: the killed process's claimed reminders go out from the restarted one 3 s on.
    bot = Bot(fake, tmp_path, guide_path, TELEGRAM_MESSAGES_PER_SECOND=str(rate), REMINDER_LEASE_SECONDS="3")
    bots.append(bot)
    await bot.start()

    await fake.wait_for(lambda: len(fake.sent_at) >= 40, within=60, what="40 reminders delivered")
    await bot.kill()
    before_kill = len(fake.sent_at)
    assert before_kill < n, "the kill came too late to test anything"

    await bot.start()
    await fake.wait_for(lambda: all(fake.chats[uid] for uid in ids), within=100, what="every user reached")
    await asyncio.sleep(1)  # anything still in flight would land now
    per_chat = Counter(chat for _, chat in fake.sent_at)
    assert set(per_chat) == set(ids)  # no loss
    assert sum(c - 1 for c in per_chat.values()) <= 1  # at most one repeat, from the message in flight at the kill
    storage = await open_storage(tmp_path / "bot.db")
    try:
        assert (await storage.counts()) == {"sent": n}
    finally:
        await storage.close()
    # The platform's limit, not the scheduler, set the pace: TELEGRAM_MESSAGES_PER_SECOND overall,
    # across the restart (allowing each process a second's burst).
    times = sorted(t for t, _ in fake.sent_at)
    assert times[-1] - times[0] >= (len(times) - 2 * rate) / rate


@pytest.mark.parametrize("told", [True, False], ids=["block-update", "silent-block"])
async def test_a_blocked_user_stops_receiving_and_is_not_retried(fake, in_process, tmp_path, told, caplog) -> None:
    caplog.set_level(logging.INFO)
    guide_path = tmp_path / "guide.yaml"
    deadline = START + timedelta(seconds=60)
    guide = write_guide(guide_path, [("soon", deadline, ["PT57S", "PT54S", "PT51S"])])
    blocker, stayer = fake.user(6_100_001), fake.user(6_100_002)
    await subscribe(tmp_path / "bot.db", guide, [blocker.id, stayer.id], START - timedelta(seconds=1))
    bot = await InProcessBot(fake, tmp_path, guide_path, START).start()
    in_process.append(bot)

    await bot.clock.set(deadline - timedelta(seconds=57))
    await blocker.pop_message()
    await stayer.pop_message()
    if told:
        await blocker.block()  # Telegram tells the bot (a my_chat_member update)
        await eventually(lambda: any("can no longer be reached" in r.getMessage() for r in caplog.records))
    else:
        fake.blocked.add(blocker.id)  # the update was lost: the next send meets a 403
    for left in (54, 51):
        await bot.clock.set(deadline - timedelta(seconds=left))
        await stayer.pop_message()
        await bot.idle()
    attempts = [p for m, p in fake.requests if m == "sendMessage" and int(p["chat_id"]) == blocker.id]
    # The one delivered, plus (without the update) the one refused with 403; never anything after.
    assert len(attempts) == (1 if told else 2)
    assert len(fake.sent_to(blocker.id)) == 1
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    assert sum("can no longer be reached; their reminders are off" in line for line in logged) == 1
    assert not any(str(blocker.id) in line for line in logged)  # user ids only at DEBUG


async def test_a_press_during_a_broadcast_is_answered_before_the_queued_reminders(bots, tmp_path) -> None:
    # Real time, so a higher (paid-broadcast) rate and a fake that floods past it: the scheduler keeps
    # 64 reminders waiting on the limit, and 200 is three seconds' worth.
    n, rate = 200, 60
    guide_path = tmp_path / "guide.yaml"
    guide = write_guide(guide_path, [("soon", START + timedelta(hours=2), ["PT1H59M57S"])])
    ids = [6_300_000 + i for i in range(n)]
    await subscribe(tmp_path / "bot.db", guide, ids, START - timedelta(minutes=1))
    async with FakeBotAPI(flood_limit=rate) as fake:  # as Telegram's flood limit: 429 past the rate
        for uid in ids:
            fake.user(uid)
        bot = Bot(fake, tmp_path, guide_path, TELEGRAM_MESSAGES_PER_SECOND=str(rate))
        bots.append(bot)
        await bot.start()
        user = fake.user(6_399_999)

        def reminders() -> int:
            return sum(1 for _, chat in fake.sent_at if chat != user.id)

        await fake.wait_for(lambda: reminders() >= 60, within=30, what="the broadcast under way")
        before = reminders()
        await user.send("/start")
        home = await user.pop_message(within=5)
        step = await user.tap("Help me decide", within=5)
        assert step is home and step.text.startswith("✅ Help me decide\n\nWhich plan do you use?")
        # Both replies went out ahead of the reminders that were already waiting: at most the one
        # holding the next slot, and one in flight, slipped in between.
        assert reminders() - before <= 4, f"{reminders() - before} reminders went out before the replies"
        assert reminders() < n - 64

        await fake.wait_for(lambda: all(fake.chats[uid] for uid in ids), within=n / rate + 30, what="every reminder")
        assert fake.floods == 0  # within Telegram's limit throughout, replies included
        await bot.kill()


def translated_guide_near(directory: Path, at: datetime, offset: str) -> Path:
    """The shipped Claude guide and its translations, with the final deadline moved to ``at``."""
    shipped = Path(__file__).resolve().parents[2] / "content"
    text = (shipped / "claude.yaml").read_text(encoding="utf-8")
    moved = text.replace('at: "2025-10-08T23:59:00-07:00"', f'at: "{at.isoformat()}"', 1)
    moved = moved.replace("offsets: [P7D, P1D]", f"offsets: [{offset}]", 1)
    assert moved.count(at.isoformat()) == 1 and offset in moved, "the shipped guide's final deadline moved"
    (directory / "i18n").mkdir()
    for translation in (shipped / "i18n").glob("claude.*.yaml"):
        (directory / "i18n" / translation.name).write_text(translation.read_text(encoding="utf-8"), encoding="utf-8")
    path = directory / "claude.yaml"
    path.write_text(moved, encoding="utf-8")
    return path


async def test_a_german_user_gets_the_reminder_in_german(fake, in_process, tmp_path) -> None:
    deadline_at = (START + timedelta(seconds=75)).replace(microsecond=0)
    guide_path = translated_guide_near(tmp_path, deadline_at, "PT55S")
    german = load_guide(guide_path).in_language("de")
    t = lang("de")
    bot = await InProcessBot(fake, tmp_path, guide_path, START).start()
    in_process.append(bot)
    user = fake.user(4_100_049, language_code="de")

    await user.send("/start steps")
    steps = (await user.pop_until_buttons())[-1]
    remind = next(o.label for o in german.node("result").options if o.id == "remind")
    menu = await user.tap(remind)
    assert t._(texts.REMIND_ASK) in menu.text, menu.text
    assert menu.labels[0].endswith(t.date(deadline_at)), menu.labels  # "55 Sekunden vor dem 22. November 2026"
    confirmation = await user.tap(menu.labels[0])
    assert confirmation.text.startswith("Fertig! Ich erinnere dich:"), confirmation.text
    assert steps.text  # the steps were German too (the walk itself is covered in tests/telegram)

    await bot.clock.set(deadline_at - timedelta(seconds=55))  # the reminder
    await bot.idle()
    await bot.clock.set(deadline_at - timedelta(seconds=30))  # halfway to the deadline: the check-back
    # The deadline reminder, and the "did it work?" check-back (steps seen, never confirmed), both German.
    arrived = await user.pop_messages(2)
    reminder = next(m for m in arrived if m.text.startswith("⏰"))
    check = next(m for m in arrived if m is not reminder)
    assert check.text.startswith("👋 Hat es geklappt?"), check.text
    final = german.deadline("final")
    assert reminder.text.startswith(f"⏰ Erinnerung: {final.label}"), reminder.text
    assert t.date(deadline_at) in reminder.text and "weniger als ein Tag" in reminder.text, reminder.text
    assert reminder.labels == [t._(reminder_texts.SHOW_STEPS), t._(reminder_texts.ITS_OFF),
                               t._(reminder_texts.STOP_REMINDERS)]
    assert all(label != english for label, english in zip(
        reminder.labels, (reminder_texts.SHOW_STEPS, reminder_texts.ITS_OFF, reminder_texts.STOP_REMINDERS),
        strict=True))
