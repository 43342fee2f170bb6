"""Erase-my-data: after /forget and "yes", the whole database holds no trace of the user."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.engine import Engine
from bot.events import Command, Press, Start, UserKey
from bot.guide import load_guide
from bot.reminders.service import ReminderService
from bot.storage import open_storage
from tests.conftest import AFTER
from tests.ops.helpers import MINI_GUIDE

# Distinctive, so that finding it anywhere in the file can only mean the user was not erased.
USER_ID = "987654321987"
OTHER_ID = "123123123123"


def _dump(path: Path) -> str:
    with closing(sqlite3.connect(path)) as conn:
        return "\n".join(conn.iterdump())


def _assert_no_trace_on_disk(path: Path) -> None:
    for file in [path, *path.parent.glob(f"{path.name}-*")]:
        assert USER_ID.encode() not in file.read_bytes(), f"{file.name} still holds the user id"


async def _walk_to_a_reminder(engine: Engine, key: UserKey) -> None:
    """Answer every question, see the steps and ask for a reminder in a month."""
    await engine.handle(key, Start())
    for data in ("o:1:decide", "o:2:free", "o:3:yes"):
        await engine.handle(key, Press(data))
    await engine.handle(key, Press("x:remind"))
    outcome = await engine.handle(key, Press("r:cb:P1M"))
    assert "check back with you on 22 December 2026" in outcome.replies[0].text  # a month after AFTER


# Both adapters turn their command (/forget, /optout forget) into Command("forget").
@pytest.mark.parametrize("platform", ["telegram", "discord"])
async def test_forget_leaves_no_trace_of_the_user(tmp_path: Path, platform: str) -> None:
    path = tmp_path / "bot.db"
    storage = await open_storage(path)
    clock = ManualClock(AFTER)
    guide = load_guide(MINI_GUIDE)
    reminders = ReminderService(storage, storage, guide, clock)
    engine = Engine(guide, storage, clock, reminders=reminders)
    user, other = UserKey(platform, USER_ID), UserKey(platform, OTHER_ID)
    try:
        await _walk_to_a_reminder(engine, user)
        await _walk_to_a_reminder(engine, other)
        assert await reminders.describe(user, clock.now()) is not None
        before = _dump(path)
        assert USER_ID in before, "the walk should have stored the user (else this test proves nothing)"
        assert "reminders" in before and USER_ID in before.split("reminders", 1)[1]

        asked = await engine.handle(user, Command("forget"))
        assert [b.data for row in asked.replies[0].buttons for b in row] == ["mini/f:yes", "mini/f:no"]
        done = await engine.handle(user, Press("f:yes"))
        assert done.forgotten and "erased everything" in done.replies[0].text
        # While the bot still runs: SQLite leaves deleted rows in free pages and in the WAL file
        # unless told otherwise, so read the raw files, not only the rows.
        _assert_no_trace_on_disk(path)
    finally:
        await storage.close()

    assert USER_ID not in _dump(path)
    _assert_no_trace_on_disk(path)
    # Only that user: the other one keeps their place and reminder, and the anonymous counts stay.
    after = _dump(path)
    assert OTHER_ID in after.split("reminders", 1)[1]
    assert 'INSERT INTO "funnel"' in after


async def test_no_keeps_everything(tmp_path: Path) -> None:
    storage = await open_storage(tmp_path / "bot.db")
    clock = ManualClock(AFTER)
    guide = load_guide(MINI_GUIDE)
    engine = Engine(guide, storage, clock, reminders=ReminderService(storage, storage, guide, clock))
    user = UserKey("telegram", USER_ID)
    try:
        await _walk_to_a_reminder(engine, user)
        await engine.handle(user, Command("forget"))
        kept = await engine.handle(user, Press("f:no"))
        assert not kept.forgotten and kept.replies[0].text == "Okay, nothing was erased."
        assert (await storage.get_user(user, "mini")).answers == {"plan": "free", "code": "yes"}
    finally:
        await storage.close()
    assert USER_ID in _dump(tmp_path / "bot.db")


async def test_a_user_who_comes_back_after_forget_starts_from_scratch(tmp_path: Path) -> None:
    storage = await open_storage(tmp_path / "bot.db")
    engine = Engine(load_guide(MINI_GUIDE), storage, ManualClock(AFTER))
    user = UserKey("discord", USER_ID)
    try:
        await engine.handle(user, Start())
        await engine.handle(user, Press("o:1:decide"))
        await engine.handle(user, Command("forget"))
        await engine.handle(user, Press("f:yes"))
        assert await storage.get_user(user, "mini") is None
        # A stale "yes" pressed again after the erase must not resurrect or erase anything.
        again = await engine.handle(user, Press("f:yes"))
        assert not again.forgotten
        state = await storage.get_user(user, "mini")
        assert state is not None and state.node == "home" and state.answers == {}
    finally:
        await storage.close()


async def test_a_read_during_the_erase_does_not_bring_the_user_back(tmp_path: Path) -> None:
    # The reminder scheduler may read a user while that user's /forget runs; the storage caches rows.
    storage = await open_storage(tmp_path / "bot.db")
    engine = Engine(load_guide(MINI_GUIDE), storage, ManualClock(AFTER))
    user = UserKey("telegram", USER_ID)
    try:
        await engine.handle(user, Start())
        await engine.handle(user, Press("o:1:decide"))
        await engine.handle(user, Command("forget"))
        erase = asyncio.create_task(engine.handle(user, Press("f:yes")))
        await asyncio.sleep(0)  # the erase is under way
        await asyncio.gather(*(storage.get_user(user, "mini") for _ in range(5)))
        assert (await erase).forgotten
        assert await storage.get_user(user, "mini") is None
        comeback = await engine.handle(user, Start())
        assert comeback.replies[-1].text.startswith("Hi!")
        assert (await storage.get_user(user, "mini")).answers == {}
    finally:
        await storage.close()
