"""`optout-bot db migrate` and `optout-bot db copy` run as an operator runs them, against a real PostgreSQL server."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import asyncpg

from bot.clock import ManualClock
from bot.engine import Engine
from bot.events import Command, Press, Recipient, Start, UserKey
from bot.guide import load_guide
from bot.storage import open_backend
from bot.storage.base import SENT, NewReminder, Person, Subscriber
from bot.storage.postgres_migrations import MIGRATIONS
from tests.ops.helpers import MINI_GUIDE, assert_one_clear_line, run_bot

AT = datetime(2026, 11, 22, 12, tzinfo=UTC)
TABLES = ("users", "reminders", "reminder_subs", "funnel", "meta")


async def _fill_sqlite(url: str) -> None:
    """A database as weeks of running leave it: users in several places, reminders in every state, counts."""
    storage = await open_backend(url)
    clock = ManualClock(AT - timedelta(days=3))
    try:
        engine = Engine(load_guide(MINI_GUIDE), storage, clock)
        for i in range(12):
            key = UserKey("telegram" if i % 3 else "discord", str(1000 + i))
            await engine.handle(key, Start())
            if i % 2:
                await engine.handle(key, Press("o:1:decide"))
            if i % 4 == 1:
                await engine.handle(key, Press("o:2:pro"))
            await clock.advance(timedelta(hours=5))
        await engine.handle(UserKey("telegram", "1001"), Command("forget"))  # a pending confirmation
        user = Recipient("telegram", "user", "1001")
        channel = Recipient("discord", "channel", "555")
        rows = [NewReminder(user, "mini", "deadline", "final", s, AT + timedelta(seconds=s)) for s in (60, 120, 180)]
        await storage.subscribe(Subscriber(user, "mini"), ["final"], rows, deadlines=True, changes_seen="mini-1")
        await storage.subscribe(Subscriber(channel, "mini", scope="guild-9"), ["final"],
                                [NewReminder(channel, "mini", "deadline", "final", 60, AT, scope="guild-9")],
                                deadlines=True)
        await storage.save_person(Person(UserKey("telegram", "1003"), "mini", '{"phase":"select","chosen":[],"index":0}', AT))
        claimed = await storage.claim(AT + timedelta(minutes=5), 2, "owner-a", AT + timedelta(minutes=6),
                                      ["telegram", "discord"], ["mini"])
        await storage.record("owner-a", [(claimed[0].id, SENT)], Counter({("telegram", date(2026, 11, 22)): 1}))
        await storage.set_meta("discord_command_hash", "abc123")
    finally:
        await storage.close()


def _sqlite_rows(path: Path, table: str) -> tuple[list[str], set[tuple]]:
    with closing(sqlite3.connect(path)) as db:
        cursor = db.execute(f"SELECT * FROM {table}")
        return [d[0] for d in cursor.description], set(cursor.fetchall())


def _as_sqlite(value: object) -> object:
    """A PostgreSQL value written the way the SQLite backend stores it."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


async def _postgres_rows(url: str, table: str, columns: list[str]) -> set[tuple]:
    con = await asyncpg.connect(url)
    try:
        names = ", ".join(columns)
        if table == "funnel":  # the stripes of one counter and day add up to the SQLite row
            rows = await con.fetch("SELECT day, platform, counter, sum(n)::bigint AS n FROM funnel"
                                   " GROUP BY day, platform, counter")
            rows = [[r[c] for c in columns] for r in rows]
        else:
            rows = await con.fetch(f"SELECT {names} FROM {table}")
    finally:
        await con.close()
    return {tuple(_as_sqlite(v) for v in row) for row in rows}


async def _assert_same_rows(db: Path, postgres_url: str) -> None:
    for table in TABLES:
        columns, expected = _sqlite_rows(db, table)
        assert expected, f"the source has no {table} rows: the test would prove nothing"
        assert await _postgres_rows(postgres_url, table, columns) == expected, table


async def test_copy_moves_every_row_and_refuses_a_full_target(tmp_path: Path, postgres_url: str) -> None:
    db = tmp_path / "bot.db"
    await _fill_sqlite(f"sqlite:///{db}")
    copy = ["db", "copy", "--from", f"sqlite:///{db}", "--to", postgres_url]

    done = await asyncio.to_thread(run_bot, copy, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(
        "copied users: 12, people: 1, reminders: 4, reminder_subs: 2, reminder_follows: 2,"), done.stdout
    await _assert_same_rows(db, postgres_url)

    again = await asyncio.to_thread(run_bot, copy, tmp_path)
    line = assert_one_clear_line(again, "--to:", "not empty", "--replace")
    assert postgres_url.split(":")[2].split("@")[0] not in again.stderr + again.stdout  # no password

    replaced = await asyncio.to_thread(run_bot, [*copy, "--replace"], tmp_path)
    assert replaced.returncode == 0, replaced.stderr
    await _assert_same_rows(db, postgres_url)
    assert "users 12" in line

    # The copy is a working database: the same users, and new reminders numbered after the copied ones.
    source, target = await open_backend(f"sqlite:///{db}"), await open_backend(postgres_url)
    try:
        for i in (0, 1, 5):
            key = UserKey("telegram" if i % 3 else "discord", str(1000 + i))
            assert await target.get_user(key, "mini") == await source.get_user(key, "mini")
        other = Recipient("telegram", "user", "2000")
        assert await target.schedule([NewReminder(other, "mini", "checkback", "d", 0, AT)]) == 1
        (new,) = await target.pending(other, "mini")
        assert new.id > max(r[0] for r in _sqlite_rows(db, "reminders")[1])
    finally:
        await source.close()
        await target.close()


async def test_copy_takes_its_target_from_the_environment(tmp_path: Path, postgres_url: str) -> None:
    # DB_COPY_TO keeps the password out of the process list; errors name where the URL came from.
    db = tmp_path / "bot.db"
    await _fill_sqlite(f"sqlite:///{db}")
    copy = ["db", "copy", "--from", f"sqlite:///{db}"]
    done = await asyncio.to_thread(run_bot, copy, tmp_path, DB_COPY_TO=postgres_url)
    assert done.returncode == 0, done.stderr
    await _assert_same_rows(db, postgres_url)
    again = await asyncio.to_thread(run_bot, copy, tmp_path, DB_COPY_TO=postgres_url)
    assert_one_clear_line(again, "DB_COPY_TO:", "not empty", "--replace")
    assert postgres_url.split(":")[2].split("@")[0] not in again.stderr + again.stdout  # no password
    assert_one_clear_line(await asyncio.to_thread(run_bot, copy, tmp_path), "--to:", "DB_COPY_TO")


async def test_copy_names_the_flag_of_a_bad_url(tmp_path: Path, postgres_url: str) -> None:
    missing = await asyncio.to_thread(run_bot, ["db", "copy", "--from", f"sqlite:///{tmp_path / 'none.db'}",
                                                "--to", postgres_url], tmp_path)
    assert_one_clear_line(missing, "--from:", "no database at")
    wrong_way = await asyncio.to_thread(run_bot, ["db", "copy", "--from", postgres_url, "--to",
                                                  f"sqlite:///{tmp_path / 'x.db'}"], tmp_path)
    assert_one_clear_line(wrong_way, "--from:", "expected a sqlite:// URL")


async def test_migrate_brings_the_schema_up_to_date_and_exits(tmp_path: Path, postgres_url: str) -> None:
    done = await asyncio.to_thread(run_bot, ["db", "migrate"], tmp_path, DATABASE_URL=postgres_url)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "database schema is up to date"
    con = await asyncpg.connect(postgres_url)
    try:
        assert await con.fetchval("SELECT count(*) FROM schema_migrations") == len(MIGRATIONS)
    finally:
        await con.close()
    password = postgres_url.split(":")[2].split("@")[0]
    refused = await asyncio.to_thread(run_bot, ["db", "migrate"], tmp_path,
                                      DATABASE_URL=postgres_url.replace(password, "wrong-password"))
    line = assert_one_clear_line(refused, "DATABASE_URL:", "refused the login")
    assert "wrong-password" not in line
