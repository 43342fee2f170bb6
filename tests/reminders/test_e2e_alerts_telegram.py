"""Change alerts end to end on Telegram: `optout-bot run` on a copy of the shipped content, a maintainer's
version bump with a ``changes`` note, restarts, and a SIGKILL in the middle of the broadcast."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest

from bot import texts
from bot.clock import ManualClock
from bot.events import UserKey
from bot.guide import load_guide
from bot.reminders.service import ReminderService
from bot.storage import open_storage
from tests.fakes.telegram_api import FakeBotAPI, FakeMessage
from tests.reminders.helpers import NOTE, bump, copy_content
from tests.reminders.test_e2e_telegram import START, Bot, bots, fake  # noqa: F401 (fixtures)

pytestmark = pytest.mark.timeout(170)

def alerts_to(api: FakeBotAPI, chat: int) -> list[FakeMessage]:
    return [m for m in api.sent_to(chat) if m.text.startswith("🔔 ChatGPT: the steps have changed")]


async def test_subscribe_bump_restart_and_the_alert_arrives_once(fake, bots, tmp_path) -> None:  # noqa: F811
    claude = copy_content(tmp_path)
    bot = Bot(fake, tmp_path, claude)
    bots.append(bot)
    await bot.start()
    user, late = fake.user(7_100_001), fake.user(7_100_002)

    await user.send("/start chatgpt")
    await user.pop_until_buttons()
    await user.send("/steps")  # commands go to the pack used last
    result = (await user.pop_until_buttons())[-1]
    assert "Improve the model for everyone" in result.text and texts.FOLLOW_CHANGES in result.labels
    confirmation = await user.tap(texts.FOLLOW_CHANGES)
    assert confirmation.text.startswith("Done! When the facts behind the ChatGPT steps change")

    assert await bot.stop() == 0
    bump(claude)
    await bot.start()
    (alert,) = await user.pop_messages(1, within=20)
    assert alert.text == f"🔔 ChatGPT: the steps have changed\n\n{NOTE}"
    assert alert.labels == ["📋 Show me the updated steps", "🔕 Stop reminders"]
    await user.press("📋 Show me the updated steps")
    await fake.wait_for(lambda: any("Steps checked" in m.text and texts.FOLLOW_CHANGES in m.labels
                                    for m in user.bot_messages if m is not alert and m is not result),
                        within=10, what="the updated ChatGPT steps")

    # Someone who subscribes to the new version has seen its steps: no alert for them.
    await late.send("/start chatgpt")
    await late.pop_until_buttons()
    await late.send("/steps")
    await late.pop_until_buttons()
    await late.tap(texts.FOLLOW_CHANGES)
    await bot.restart()
    await bot.restart(crash=True)
    await asyncio.sleep(1)  # an alert scheduled at start-up would land now
    assert len(alerts_to(fake, user.id)) == 1 and alerts_to(fake, late.id) == []


async def follow(db_path: Path, claude: Path, user_ids: list[int]) -> None:
    """Subscribe users to ChatGPT's changes as an earlier run of the bot did when they pressed the button."""
    storage = await open_storage(db_path)
    try:
        packs = [load_guide(claude), load_guide(claude.parent / "chatgpt.yaml")]
        service = ReminderService(storage, storage, packs, ManualClock(START))
        for uid in user_ids:
            await service.follow_changes(UserKey("telegram", str(uid)), "chatgpt", START)
    finally:
        await storage.close()


async def test_sigkill_mid_broadcast_loses_no_alert_and_repeats_at_most_one(fake, bots, tmp_path) -> None:  # noqa: F811
    # Real time and a real SIGKILL at Telegram's own rate, so 120 alerts (four seconds).
    n, rate = 120, 30
    claude = copy_content(tmp_path)
    ids = [7_200_000 + i for i in range(n)]
    for uid in ids:
        fake.user(uid)
    await follow(tmp_path / "bot.db", claude, ids)
    bump(claude)
    # A short lease: the killed process's claimed alerts go out from the restarted one 3 s on.
    bot = Bot(fake, tmp_path, claude, TELEGRAM_MESSAGES_PER_SECOND=str(rate), REMINDER_LEASE_SECONDS="3")
    bots.append(bot)
    await bot.start()

    await fake.wait_for(lambda: len(fake.sent_at) >= 40, within=60, what="40 alerts delivered")
    await bot.kill()
    before_kill = len(fake.sent_at)
    assert before_kill < n, "the kill came too late to test anything"

    await bot.start()
    await fake.wait_for(lambda: all(fake.chats[uid] for uid in ids), within=100, what="every subscriber alerted")
    await fake.wait_for(lambda: "reminders: " in bot.output.rsplit("=== start 2", 1)[-1], within=10,
                        what="the restarted scheduler's tally")
    per_chat = Counter(chat for _, chat in fake.sent_at)
    assert set(per_chat) == set(ids)  # no loss
    assert sum(c - 1 for c in per_chat.values()) <= 1  # at most one repeat, the alert in flight at the kill
    assert all(m.text.startswith("🔔 ChatGPT") for uid in ids for m in fake.sent_to(uid))
    storage = await open_storage(tmp_path / "bot.db")
    try:
        assert (await storage.counts()) == {"sent": n}
    finally:
        await storage.close()
    # The platform's limit set the pace (TELEGRAM_MESSAGES_PER_SECOND; each process may start with a burst).
    times = sorted(t for t, _ in fake.sent_at)
    assert times[-1] - times[0] >= (len(times) - 2 * rate) / rate
