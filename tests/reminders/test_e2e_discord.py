"""Reminders end to end on Discord: `optout-bot run` against the fake Discord on 127.0.0.1.

An admin picks the announcement channel and a member asks for DM reminders; a guide deadline half a
minute away (offsets of seconds, on FAKE_NOW) must bring each announcement and each DM exactly once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot import texts
from tests.discord.conftest import TOKEN, BotProcess
from tests.fakes.discord_api import FakeChannel, FakeDiscord
from tests.inprocess import InProcessBot
from tests.reminders.helpers import NOTE, bump, copy_content, write_guide

pytestmark = pytest.mark.timeout(120)

FAKE_NOW = "2026-11-22T12:00:00+00:00"
START = datetime.fromisoformat(FAKE_NOW)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord(TOKEN)
    await server.start()
    yield server
    await server.close()


async def wait_until(check: Callable[[], bool], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_channel_announcements_and_dm_reminders_arrive_once(fake: FakeDiscord, tmp_path: Path) -> None:
    guide_path = tmp_path / "guide.yaml"
    deadline = START + timedelta(seconds=30)
    write_guide(guide_path, [("soon", deadline, ["PT20S", "PT10S"])])
    bot = await InProcessBot(fake, tmp_path, guide_path, START).start()
    try:
        admin = fake.member(3301, admin=True)
        await admin.slash("optout-admin reminders on", channel=FakeChannel(fake.news_channel_id, "news"))
        reply = await admin.pop_message()
        assert reply.content.startswith("Deadline announcements are on for this server. I'll post:")

        member = fake.member(3302)
        await member.slash("optout remind")
        menu = await member.pop_message()
        offer = "20 seconds and 10 seconds before 22 November 2026"
        assert offer in menu.labels()
        await member.press(offer, menu)
        confirmation = await member.pop_message()
        assert "I'll remind you" in confirmation.content

        def news() -> list[str]:
            return [m.content for m in fake.messages.values() if m.channel_id == fake.news_channel_id]

        def dms() -> list[str]:
            return [m.content for m in fake.messages.values() if m.channel_id in fake.dm_channels]

        await bot.clock.set(deadline - timedelta(seconds=21))
        await bot.idle()
        assert news() == [] and dms() == []  # nothing before its time
        for sent, left in ((1, 20), (2, 10)):
            await bot.clock.set(deadline - timedelta(seconds=left))
            await wait_until(lambda n=sent: len(news()) == n and len(dms()) == n, 10, f"announcement and DM {sent}")
        await bot.clock.set(deadline + timedelta(days=30))
        await bot.idle()  # a repeat would have come now
        assert len(news()) == 2 and len(dms()) == 2
        assert all("the soon deadline" in text for text in news() + dms())
        assert fake.violations == []
    finally:
        await bot.stop()


async def test_a_change_alert_reaches_a_member_and_a_channel_once_across_restarts(fake: FakeDiscord,
                                                                                   tmp_path: Path) -> None:
    claude = copy_content(tmp_path)
    bot = BotProcess(fake, tmp_path / "optout.db", tmp_path / "bot.log", CONTENT_PATH=str(claude), FAKE_NOW=FAKE_NOW)
    await bot.start()
    try:
        member = fake.member(3402)
        await member.slash("optout start", assistant="chatgpt")
        await member.pop_message()
        await member.slash("optout steps")  # commands go to the pack used last
        result = await member.pop_message()
        assert "Improve the model for everyone" in result.content and texts.FOLLOW_CHANGES in result.labels()
        await member.press(texts.FOLLOW_CHANGES, result)
        assert "When the facts behind the ChatGPT steps change" in (await member.pop_message()).content
        admin = fake.member(3401, admin=True)
        await admin.slash("optout-admin reminders on", channel=FakeChannel(fake.news_channel_id, "news"),
                          assistant="chatgpt")
        assert (await admin.pop_message()).content.startswith("Change alerts for ChatGPT are on for this server")
    finally:
        assert await bot.stop() == 0, bot.output()[-3000:]

    def alerts(where: Callable[[int], bool]) -> list:
        return [m for m in fake.messages.values() if where(m.channel_id) and m.content.startswith("🔔 **ChatGPT")]

    bump(claude)
    for _ in range(2):  # the bumped bot, then a restart of it: one alert each, in all
        await bot.start()
        try:
            await wait_until(lambda: alerts(fake.dm_channels.__contains__) and alerts(fake.news_channel_id.__eq__), 40,
                             "the alert in the member's DMs and in #news")
            await asyncio.sleep(1)  # a repeat would come now
        finally:
            assert await bot.stop() == 0, bot.output()[-3000:]
    (dm,) = alerts(fake.dm_channels.__contains__)
    (news,) = alerts(fake.news_channel_id.__eq__)
    assert NOTE in dm.content and NOTE in news.content
    assert dm.labels() == ["📋 Show me the updated steps", "🔕 Stop reminders"]
    assert news.labels() == ["📋 Show me the updated steps"]
    assert fake.violations == []
