"""``optout-bot stats``: the anonymous funnel per platform, as the operator reads it in a terminal.

The installed command runs as a subprocess twice; the other checks call ``cli.main`` in this process.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import texts
from bot.clock import ManualClock
from bot.engine import Engine
from bot.events import Press, Start, UserKey
from bot.guide import load_guide
from bot.reminders.service import ReminderService
from bot.storage import UserState, open_storage
from tests.core.driver import EngineChat
from tests.ops.helpers import MINI_GUIDE, assert_one_clear_line, run_bot, run_cli
from tests.reminders.helpers import write_pack

DAY = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
async def db(tmp_path: Path) -> Path:
    """A database with a week of real conversations, written by the engine."""
    clock = ManualClock(DAY)
    storage = await open_storage(tmp_path / "bot.db")
    engine = Engine(load_guide(MINI_GUIDE), storage, clock)
    whole_way = ["o:1:decide", "o:2:free", "o:3:yes", "o:4:done"]
    for key, presses in (
        (UserKey("telegram", "1001"), whole_way),
        (UserKey("telegram", "1002"), ["o:1:steps"]),
        (UserKey("discord", "2001"), ["o:1:decide"]),
    ):
        await engine.handle(key, Start())
        for data in presses:
            await engine.handle(key, Press(data))
    await clock.set(DAY - timedelta(days=7))
    await engine.handle(UserKey("console", "local"), Start())
    await storage.close()
    return tmp_path / "bot.db"


def _table(stdout: str, which: int = 0) -> tuple[list[str], dict[str, list[int]]]:
    """The ``which``-th table of the output (tables are separated by a blank line)."""
    lines = stdout.strip().split("\n\n")[which].splitlines()
    header = lines[1].split()
    return header, {cells[0]: [int(c) for c in cells[1:]] for cells in (line.split() for line in lines[2:])}


def test_funnel_per_platform_for_a_date_range(db: Path) -> None:
    proc = run_bot(["stats", "--since", "2026-03-10", "--until", "2026-03-10"], db.parent)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Funnel 2026-03-10 to 2026-03-10")
    header, rows = _table(proc.stdout)
    assert header == ["step", "discord", "telegram", "total"]  # the console visit was a week earlier
    assert rows == {
        "started": [1, 2, 3],
        "reached:plan": [1, 1, 2],
        "reached:code": [0, 1, 1],
        "got_steps": [0, 2, 2],
        "confirmed_off": [0, 1, 1],
        "reminder_subscribed": [0, 0, 0],
        "reminder_sent": [0, 0, 0],
    }
    assert list(rows)[:3] == ["started", "reached:plan", "reached:code"]  # in the guide's order


def test_default_range_is_the_last_30_days_of_the_clock(db: Path) -> None:
    proc = run_cli(["stats"], db.parent, FAKE_NOW="2026-03-12T09:00:00Z")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Funnel 2026-02-11 to 2026-03-12")
    header, rows = _table(proc.stdout)
    assert header == ["step", "console", "discord", "telegram", "total"]
    assert rows["started"] == [1, 1, 2, 4]

    later = run_cli(["stats"], db.parent, FAKE_NOW="2026-06-01T09:00:00Z")
    assert later.returncode == 0 and "No activity in this period." in later.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--since", "2026-13-01"], "--since"),
        (["--until", "yesterday"], "--until"),
        (["--since", "2026-03-10", "--until", "2026-03-01"], "after --until"),
    ],
)
def test_bad_dates_are_one_line_and_exit_2(db: Path, args: list[str], needle: str) -> None:
    proc = run_cli(["stats", *args], db.parent)
    assert proc.returncode == 2 and proc.stdout == ""
    assert_one_clear_line(proc, needle)


def test_missing_database_is_named_and_not_created(tmp_path: Path) -> None:
    proc = run_cli(["stats"], tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'typo' / 'bot.db'}")
    assert proc.returncode == 2
    assert_one_clear_line(proc, "DATABASE_URL", "typo")
    assert not (tmp_path / "typo").exists()


async def test_per_pack_starts_results_confirmations_and_alert_subscribers(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "mini.yaml").write_text(MINI_GUIDE.read_text(encoding="utf-8"), encoding="utf-8")
    guides = [load_guide(content / "mini.yaml"), write_pack(content / "other.yaml", "1")]
    clock = ManualClock(DAY)
    storage = await open_storage(tmp_path / "bot.db")
    try:
        service = ReminderService(storage, storage, guides, clock)
        engine = Engine(guides, storage, clock, reminders=service)
        for uid, platform in (("1", "telegram"), ("2", "telegram"), ("3", "discord")):
            chat = EngineChat(engine, uid, platform)
            await chat.start("other")
            await chat.press("Just show me the steps")
            if uid != "3":
                await chat.press(texts.FOLLOW_CHANGES)
            if uid == "1":
                await chat.press(texts.CONTINUE_WHERE)
                await chat.press("I've turned it off")
        mini = EngineChat(engine, "4")
        await mini.start()
        await mini.press("Just show me the steps")
        await mini.press(texts.FOLLOW_CHANGES)
        await mini.command("stop")  # ends the alerts again: not a subscriber now
    finally:
        await storage.close()

    proc = run_bot(["stats", "--since", "2026-03-10", "--until", "2026-03-10"], tmp_path,
                   CONTENT_PATH=str(content / "mini.yaml"))
    assert proc.returncode == 0, proc.stderr
    header, rows = _table(proc.stdout, 1)
    assert proc.stdout.split("\n\n")[1].startswith("Guide packs 2026-03-10 to 2026-03-10")
    assert header == ["pack", "started", "results", "turned_off", "alert_subscribers"]
    assert rows == {"mini": [1, 1, 0, 0], "other": [3, 3, 1, 2]}
    header, funnel = _table(proc.stdout)
    # The first table is the default pack's funnel alone (the discord user only used the other pack).
    assert header == ["step", "telegram", "total"] and funnel["started"] == [1, 1]
    assert not any("/" in step for step in funnel)


async def test_counters_written_before_every_pack_was_prefixed_still_count(tmp_path: Path) -> None:
    # An older bot counted the default pack without a prefix ("started"); this one writes "mini/started".
    # The operator's totals are the same either side of the upgrade.
    storage = await open_storage(tmp_path / "bot.db")
    try:
        old = EngineChat(Engine(load_guide(MINI_GUIDE), storage, ManualClock(DAY)), "1")
        await old.start()
        await old.press("Just show me the steps")
        older = UserState(UserKey("telegram", "2"), "mini", "x", "home", created_at=DAY, updated_at=DAY)
        await storage.save_step(older, ("started", "got_steps"))  # as the old bot counted
    finally:
        await storage.close()
    proc = run_bot(["stats", "--since", "2026-03-10", "--until", "2026-03-10"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    _, funnel = _table(proc.stdout)
    assert funnel["started"] == [2, 2] and funnel["got_steps"] == [2, 2]
    _, packs = _table(proc.stdout, 1)
    assert packs["mini"][:2] == [2, 2]

