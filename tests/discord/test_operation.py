"""Running the bot: restarts, command sync, a slow database, a bad token, and the token never logged."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.discord.conftest import TOKEN, BotProcess, running_bot, serving_fake
from tests.fakes.discord_api import FakeDiscord


# A fresh fake and bot for each test here: these tests count the fake's connections and syncs.
@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with serving_fake() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeDiscord, tmp_path: Path) -> AsyncIterator[BotProcess]:
    async with running_bot(fake, tmp_path) as process:
        yield process


async def _walk_two_steps(fake: FakeDiscord, member_id: int) -> tuple[int, str]:
    member = fake.member(member_id)
    await member.slash("optout start")
    message = await member.pop_message()
    await member.press(message.labels()[0])
    message = await member.pop_message()
    return message.id, message.labels()[0]


async def test_old_buttons_work_after_a_restart_and_sync_is_skipped(fake: FakeDiscord, tmp_path: Path) -> None:
    first = await BotProcess(fake, tmp_path / "optout.db", tmp_path / "bot.log").start()
    message_id, label = await _walk_two_steps(fake, 4001)
    assert await first.stop() == 0
    assert fake.sync_count() == 1
    # The gateway address came from the base's GET /gateway/bot, not discord.py's built-in one.
    assert ("GET", "/gateway/bot", 200) in fake.requests and fake.identifies == 1

    second = await BotProcess(fake, tmp_path / "optout.db", tmp_path / "bot.log").start()
    try:
        member = fake.members[4001]
        # The button was sent by the first process; the second has never seen it.
        interaction = await member.press(label, fake.messages[message_id])
        edited = await member.pop_message()
        assert interaction.ack_type == 7 and edited.id == message_id
        assert edited.content.startswith("✅")
        assert fake.sync_count() == 1, "unchanged commands are not synced again"
        assert "slash commands unchanged since the last sync; not syncing" in second.output()
    finally:
        assert await second.stop() == 0
    assert fake.violations == []


async def test_a_development_server_gets_its_own_sync(fake: FakeDiscord, tmp_path: Path) -> None:
    bot = await BotProcess(fake, tmp_path / "optout.db", tmp_path / "bot.log", DISCORD_GUILD_ID=str(fake.guild_id)).start()
    try:
        assert [scope for scope, _ in fake.syncs] == [str(fake.guild_id)]
        member = fake.member(4101)
        await member.slash("optout start")
        assert (await member.pop_message()).labels()
    finally:
        assert await bot.stop() == 0


async def test_a_slow_database_defers_and_loses_nothing(fake: FakeDiscord, bot: BotProcess) -> None:
    member = fake.member(4201)
    await member.slash("optout start")
    message = await member.pop_message()
    label = message.labels()[0]

    newcomer = fake.member(4202)

    # Another writer holds the database (the bot waits up to its 5 s busy timeout).
    blocker = sqlite3.connect(bot.db, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        press = await member.press(label)
        command = await newcomer.slash("optout start")
        for interaction in (press, command):
            await asyncio.wait_for(interaction.acked.wait(), 3.0)
            assert interaction.ack_seconds is not None and interaction.ack_seconds < 3.0
        assert press.ack_type == 6, "a press is deferred while its step waits for the database"
        assert command.ack_type == 5, "a command shows 'thinking…' while its step waits"
        await asyncio.sleep(max(0.0, 3.0 - press.ack_seconds))  # type: ignore[operator]  # hold past the 3 s
        assert member.pending() == 0 and newcomer.pending() == 0
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    edited = await member.pop_message()
    assert edited.id == message.id and edited.content.startswith("✅"), "the step arrives as a follow-up"
    welcome = await newcomer.pop_message()
    assert welcome.id == command.response_message_id, "the placeholder is replaced by the first step"
    assert welcome.ephemeral and welcome.labels()
    assert fake.violations == []


async def test_the_token_never_reaches_the_log_at_debug(fake: FakeDiscord, tmp_path: Path) -> None:
    bot = await BotProcess(fake, tmp_path / "optout.db", tmp_path / "bot.log", LOG_LEVEL="DEBUG").start()
    member = fake.member(4301)
    await member.slash("optout start")
    message = await member.pop_message()
    await member.press(message.labels()[0])
    await member.pop_message()
    assert await bot.stop() == 0
    output = bot.output()
    assert " DEBUG discord." in output, "the test needs discord.py's own DEBUG lines"
    assert fake.identifies == 1
    assert TOKEN not in output
    assert TOKEN.split(".")[-1] not in output
    # Interaction tokens (enough to answer as the bot for 15 minutes), webhook URLs and member names
    # neither, at any level.
    assert [i.token for i in fake.interactions.values() if i.token in output] == []
    assert f"user{member.id}" not in output
    assert "/webhooks/" not in output or "/webhooks/[REDACTED]" in output
    above_debug = [line for line in output.splitlines() if " INFO " in line or " WARNING " in line or " ERROR " in line]
    assert above_debug and not [line for line in above_debug if "4301" in line], "user ids only at DEBUG"


async def test_a_refused_token_is_one_clear_line(fake: FakeDiscord, tmp_path: Path) -> None:
    log = tmp_path / "bot.log"
    bot = BotProcess(fake, tmp_path / "optout.db", log, DISCORD_BOT_TOKEN="bad-" + TOKEN[::-1])
    try:
        await bot.start()
    except AssertionError:
        pass
    assert bot.proc is not None
    code = await asyncio.wait_for(bot.proc.wait(), 30)
    output = bot.output()
    assert code == 2
    assert "DISCORD_BOT_TOKEN: Discord refused the token" in output
    assert TOKEN[::-1] not in output and "Traceback" not in output.split("optout-bot:")[-1]


async def test_a_step_in_flight_finishes_before_the_bot_stops(fake: FakeDiscord, bot: BotProcess) -> None:
    member = fake.member(4401)
    await member.slash("optout start")
    message = await member.pop_message()
    blocker = sqlite3.connect(bot.db, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        press = await member.press(message.labels()[0])
        await asyncio.wait_for(press.acked.wait(), 3.0)
        assert press.ack_type == 6
        assert bot.proc is not None
        bot.proc.send_signal(signal.SIGTERM)
        await bot.wait_for_log("stopping: no new updates")
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    edited = await member.pop_message()
    assert edited.id == message.id and edited.content.startswith("✅"), "the step in flight was not lost"
    assert await asyncio.wait_for(bot.proc.wait(), 15) == 0
