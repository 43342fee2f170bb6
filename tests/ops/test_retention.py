"""Users inactive for RETENTION_DAYS disappear on their own: at start-up, then once a day (injected clock)."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from bot.clock import ManualClock
from bot.compose import build_services
from bot.engine import Engine
from bot.events import Command, Press, Start, UserKey
from bot.guide import Guide
from bot.retention import RetentionSweeper
from bot.settings import load_settings
from bot.storage import SqliteStorage, UserState, open_storage
from tests.fakes.telegram_api import FakeBotAPI
from tests.ops.helpers import MINI_GUIDE
from tests.telegram.conftest import FAKE_NOW, BotProcess, bot_env

OLD = UserKey("telegram", "111")
MIDDLE = UserKey("discord", "222")
FRESH = UserKey("telegram", "333")


async def _eventually(check, what: str, deadline_s: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + deadline_s
    while not await check():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.01)


async def _visit(engine: Engine, clock: ManualClock, key: UserKey, days_ago: float) -> None:
    now = clock.now()
    await clock.set(now - timedelta(days=days_ago))
    await engine.handle(key, Start())
    await engine.handle(key, Press("o:1:decide"))
    await clock.set(now)


async def test_inactive_users_are_deleted_at_start_then_daily(
    engine: Engine, storage: SqliteStorage, clock: ManualClock
) -> None:
    await _visit(engine, clock, OLD, days_ago=200)
    await _visit(engine, clock, MIDDLE, days_ago=179.75)
    await _visit(engine, clock, FRESH, days_ago=0)
    today = clock.now().date()
    funnel_before = await storage.funnel(today - timedelta(days=365), today)

    sweeper = RetentionSweeper(storage, clock, days=180)
    sweeper.start()
    try:
        await _eventually(lambda: _gone(storage, OLD), "the start-up sweep")
        assert await storage.get_user(MIDDLE, "mini") is not None and await storage.get_user(FRESH, "mini") is not None

        # MIDDLE crosses the 180-day line 6 hours later, but the next sweep is only due after a day.
        await clock.advance(timedelta(hours=12))
        await asyncio.sleep(0.05)
        assert await storage.get_user(MIDDLE, "mini") is not None
        await clock.advance(timedelta(hours=12))
        await _eventually(lambda: _gone(storage, MIDDLE), "the daily sweep")
        assert (await storage.get_user(FRESH, "mini")).node == "plan"
    finally:
        await asyncio.wait_for(sweeper.stop(), 1.0)

    # The anonymous funnel is not about anyone, so it outlives the users it counted.
    assert await storage.funnel(today - timedelta(days=365), today) == funnel_before


async def test_activity_keeps_a_user(engine: Engine, storage: SqliteStorage, clock: ManualClock) -> None:
    await _visit(engine, clock, OLD, days_ago=170)
    await engine.handle(OLD, Command("help"))  # looking at help is not a step: it does not count as activity
    await engine.handle(OLD, Press("o:2:free"))  # a real step does
    await clock.advance(timedelta(days=20))
    assert await RetentionSweeper(storage, clock, days=180).sweep() == 0
    await clock.advance(timedelta(days=161))
    assert await RetentionSweeper(storage, clock, days=180).sweep() == 1
    assert await storage.get_user(OLD, "mini") is None


async def test_stop_wakes_the_sleeping_task_at_once(storage: SqliteStorage, clock: ManualClock) -> None:
    sweeper = RetentionSweeper(storage, clock, days=180)
    sweeper.start()
    await asyncio.sleep(0.05)
    await asyncio.wait_for(sweeper.stop(), 1.0)


async def test_of_two_instances_on_one_database_only_one_sweeps_a_day(
    engine: Engine, storage: SqliteStorage, clock: ManualClock
) -> None:
    one = RetentionSweeper(storage, clock, days=180, leases=storage, holder="bot-1")
    two = RetentionSweeper(storage, clock, days=180, leases=storage, holder="bot-2")
    await _visit(engine, clock, OLD, days_ago=200)
    assert await one.sweep_if_due() == 1
    await _visit(engine, clock, MIDDLE, days_ago=181)
    assert await two.sweep_if_due() is None  # one has swept today
    assert await one.sweep_if_due() == 1  # its own lease: a holder may sweep again (its daily timer)
    await clock.advance(timedelta(days=1))
    await _visit(engine, clock, FRESH, days_ago=181)
    assert await two.sweep_if_due() == 1  # a day on, the lease has lapsed: whoever comes first sweeps
    assert await one.sweep_if_due() is None
    assert await _gone(storage, FRESH)


async def test_privacy_names_the_configured_retention(tmp_path: Path, mini_guide: Guide) -> None:
    # Tokens of the right shape: each configured platform tells the engine how it spells commands.
    settings = load_settings(
        env_file=None, content_path=MINI_GUIDE, database_url=f"sqlite:///{tmp_path / 'bot.db'}", retention_days=45,
        telegram_bot_token="123456789:" + "A" * 35, discord_bot_token="aaaa.bbbb.cccc",
    )
    services = await build_services(settings)
    try:
        for platform, command in (("telegram", "/forget"), ("discord", "/optout forget")):
            outcome = await services.engine.handle(UserKey(platform, "1"), Command("privacy"))
            text = outcome.replies[0].text
            assert "after 45 days without activity" in text
            assert command in text and "never store what you type" in text
    finally:
        await services.storage.close()


async def _gone(storage: SqliteStorage, key: UserKey) -> bool:
    return await storage.get_user(key, "mini") is None


async def test_the_running_bot_keeps_users_for_retention_days(tmp_path: Path) -> None:
    # `optout-bot run` as deployed with RETENTION_DAYS=30: its start-up sweep erases someone last seen
    # 31 days ago and keeps someone seen 29 days ago (the default of 180 would keep both).
    now = datetime.fromisoformat(FAKE_NOW)
    seeded = await open_storage(tmp_path / "bot.db")
    try:
        for key, days_ago in ((OLD, 31), (MIDDLE, 29)):
            await seeded.save_step(UserState(key=key, pack="mini", guide_version="v1", node="plan", step=1,
                                             answers={}, history=[], pending=None,
                                             created_at=now - timedelta(days=days_ago),
                                             updated_at=now - timedelta(days=days_ago)))
    finally:
        await seeded.close()
    async with FakeBotAPI() as fake:
        bot = BotProcess(fake, tmp_path, bot_env(fake, tmp_path, MINI_GUIDE, RETENTION_DAYS="30"))
        await bot.start()
        try:
            await bot.wait_output("the start-up sweep", lambda: "retention: deleted" in bot.output)
            assert "retention: deleted 1 user(s) inactive since 2026-10-23" in bot.output
        finally:
            assert await bot.stop() == 0, bot.output[-3000:]
    with sqlite3.connect(tmp_path / "bot.db") as db:
        left = {row for row in db.execute("SELECT platform, user_id FROM users")}
    assert left == {(MIDDLE.platform, MIDDLE.user_id)}

