"""What only the SQLite backend does: its file, its migrations, two processes on one file, DATABASE_URL."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.engine import Engine
from bot.events import Command, Notice, Press, Recipient, Start, UserKey
from bot.guide import load_guide
from bot.storage import MemoryStorage, StaleStateError, StorageError, open_backend, open_storage
from bot.storage.base import Following, Subscriber
from bot.storage.sqlite_migrations import MIGRATIONS
from tests.conftest import AFTER, MINI_GUIDE
from tests.storage.conftest import T0, state

ALICE = UserKey("telegram", "1")


def _dump(path: Path) -> str:
    with closing(sqlite3.connect(path)) as db:
        return "\n".join(db.iterdump())


# Two processes on one file ---------------------------------------------------------------------
async def test_a_row_changed_by_another_process_is_noticed(tmp_path: Path) -> None:
    one, two = await open_storage(tmp_path / "shared.db"), await open_storage(tmp_path / "shared.db")
    try:
        await one.save_step(state())
        mine = await one.get_user(ALICE, "claude")
        theirs = await two.get_user(ALICE, "claude")
        theirs.node = "code"
        await two.save_step(theirs)
        mine.node = "result"
        with pytest.raises(StaleStateError):
            await one.save_step(mine)
        assert (await one.get_user(ALICE, "claude")).node == "code"
    finally:
        await one.close()
        await two.close()


async def test_a_user_forgotten_by_another_process_is_not_written_back(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    one, two = await open_storage(path), await open_storage(path)
    try:
        await one.save_step(state())
        cached = await one.get_user(ALICE, "claude")  # `one` now holds the row in its cache
        await two.forget_user(ALICE)
        cached.answers["code"] = "yes"
        with pytest.raises(StaleStateError):
            await one.save_step(cached)
        assert await one.get_user(ALICE, "claude") is None
    finally:
        await one.close()
        await two.close()
    assert '"plan"' not in _dump(path)


async def test_the_engine_reruns_a_step_of_a_user_forgotten_elsewhere_on_fresh_data(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    guide = load_guide(MINI_GUIDE)
    one, two = await open_storage(path), await open_storage(path)
    clock = ManualClock(AFTER)
    a, b = Engine(guide, one, clock), Engine(guide, two, clock)
    try:
        await a.handle(ALICE, Start())
        for data in ("o:1:decide", "o:2:free"):
            await a.handle(ALICE, Press(data))
        assert (await one.get_user(ALICE, guide.pack)).answers == {"plan": "free"}
        await b.handle(ALICE, Command("forget"))
        assert (await b.handle(ALICE, Press("f:yes"))).forgotten
        # The next press lands on the first process, which still caches the old row.
        outcome = await a.handle(ALICE, Press("o:3:yes"))
        assert isinstance(outcome.replies[0], Notice)  # a stale button now: the user starts afresh
        fresh = await two.get_user(ALICE, guide.pack)
        assert fresh is not None and fresh.answers == {} and fresh.history == []
    finally:
        await one.close()
        await two.close()
    assert "free" not in _dump(path)


async def test_two_connections_racing_claim_each_row_once(tmp_path: Path) -> None:
    from bot.storage.base import NewReminder

    one, two = await open_storage(tmp_path / "race.db"), await open_storage(tmp_path / "race.db")
    try:
        rows = [NewReminder(Recipient("telegram", "user", str(i)), "claude", "deadline", "final", 1, T0)
                for i in range(400)]
        await one.schedule(rows)

        async def drain(store, owner: str) -> list[int]:
            got: list[int] = []
            while batch := await store.claim(T0, 7, owner, T0 + timedelta(seconds=10), ["telegram"], ["claude"]):
                got += [r.id for r in batch]
                await asyncio.sleep(0)
            return got

        ids_a, ids_b = await asyncio.gather(drain(one, "a"), drain(two, "b"))
        assert len(ids_a) + len(ids_b) == 400 and not set(ids_a) & set(ids_b)
    finally:
        await one.close()
        await two.close()


async def test_the_funnel_tallies_reach_the_file_for_other_processes(tmp_path: Path, monkeypatch) -> None:
    # A step's tallies wait in memory (bot/storage/sqlite.py says why); `optout-bot stats` runs in
    # another process and must still see them: soon on their own, and all of them once the bot closes.
    monkeypatch.setattr("bot.storage.sqlite.COUNTS_EVERY_S", 0.01)
    path = tmp_path / "tallies.db"
    bot, stats = await open_storage(path), await open_storage(path)
    try:
        await bot.save_step(state("1"), ("started",))
        await bot.save_step(state("2"), ("started",))
        for _ in range(500):
            if await stats.funnel(T0.date(), T0.date()) == {("telegram", "started"): 2}:
                break
            await asyncio.sleep(0.01)
        assert await stats.funnel(T0.date(), T0.date()) == {("telegram", "started"): 2}
        monkeypatch.setattr("bot.storage.sqlite.COUNTS_EVERY_S", 3600)
        await bot.save_step(state("3"), ("started", "reached:plan"))
        await bot.close()
        assert await stats.funnel(T0.date(), T0.date()) == {("telegram", "started"): 3, ("telegram", "reached:plan"): 1}
    finally:
        await bot.close()
        await stats.close()


# The file and its migrations -----------------------------------------------------------------------
async def test_a_new_file_gets_every_migration_and_wal(tmp_path: Path) -> None:
    store = await open_storage(tmp_path / "sub" / "dir" / "new.db")
    await store.close()
    with closing(sqlite3.connect(tmp_path / "sub" / "dir" / "new.db")) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _at_version(path: Path, version: int) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    for script in MIGRATIONS[:version]:
        db.executescript(script)
    db.execute(f"PRAGMA user_version = {version}")
    return db


async def test_migrating_from_the_first_schema_keeps_the_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with closing(_at_version(path, 1)) as db, db:
        db.execute(
            "INSERT INTO users VALUES ('telegram:7', 'telegram', 'v1', 'plan', 2, '{}', '[]', NULL, 1, ?, ?)",
            (T0.isoformat(), T0.isoformat()),
        )
    store = await open_storage(path)
    assert (await store.get_user(UserKey("telegram", "7"), "claude")).node == "plan"
    await store.close()
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


async def test_migrating_from_schema_2_puts_every_row_in_the_claude_pack(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    at = T0.isoformat(timespec="microseconds")
    with closing(_at_version(path, 2)) as db, db:
        db.executemany(
            "INSERT INTO users VALUES (?, ?, 'v1', 'code', 2, '{\"plan\":\"pro\"}', '[[\"plan\",{}]]', NULL, 3, ?, ?)",
            [("telegram:7", "telegram", at, at), ("discord:8", "discord", at, at)],
        )
        db.executemany(
            "INSERT INTO reminders (id, recipient, user_key, platform, kind, about, offset_s, due_at, status)"
            " VALUES (?, ?, ?, ?, 'deadline', 'final', 86400, ?, ?)",
            [(1, "telegram:7", "telegram:7", "telegram", at, "pending"),
             (2, "guild:5", None, "discord", at, "pending"),
             (3, "guild:6", None, "discord", at, "sent")],  # a server that turned announcements off
        )
        db.executemany("INSERT INTO reminder_subs VALUES (?, ?, ?)",
                       [("telegram:7", "", "telegram:7"), ("telegram:7", "final", "telegram:7"),
                        ("guild:5", "", None)])
        db.execute("INSERT INTO announce_channels VALUES ('5', '50', ?)", (at,))
        db.execute("INSERT INTO funnel VALUES ('2026-11-22', 'telegram', 'started', 4)")
    store = await open_storage(path)
    try:
        user = await store.get_user(UserKey("telegram", "7"), "claude")
        assert (user.node, user.answers, user.history, user.rev, user.locale) == (
            "code", {"plan": "pro"}, [("plan", {})], 3, None)
        assert await store.get_user(UserKey("discord", "8"), "claude") is not None
        telegram7 = Recipient("telegram", "user", "7")
        (reminder,) = await store.pending(telegram7, "claude")
        assert (reminder.id, reminder.about, reminder.due_at) == (1, "final", T0)
        news = Recipient("discord", "channel", "50")
        assert await store.channel("discord", "5", "claude") == news
        assert [r.scope for r in await store.pending(news, "claude")] == ["5"]
        assert await store.subscriptions("claude") == {
            Subscriber(telegram7, "claude"): Following(True, None, frozenset({"final"})),
            Subscriber(news, "claude", "5"): Following(deadlines=True)}
        assert await store.counts() == {"pending": 2}
        assert await store.funnel(T0.date(), T0.date()) == {("telegram", "started"): 4}
        # The migrated rows are saved and erased like new ones.
        user.node = "result"
        await store.save_step(user)
        await store.forget_user(UserKey("telegram", "7"))
        assert await store.pending(telegram7, "claude") == []
    finally:
        await store.close()
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert tables == {"users", "people", "reminder_follows", "funnel", "meta", "reminders", "reminder_subs", "leases", "seen_updates", "source_snapshots"}


async def test_migrating_from_schema_5_keeps_the_rows_and_adds_the_chosen_language(tmp_path: Path) -> None:
    # 5 is the schema just before the language column (6).
    path = tmp_path / "v5.db"
    at = T0.isoformat(timespec="microseconds")
    with closing(_at_version(path, 5)) as db, db:
        db.execute("INSERT INTO users VALUES ('telegram', '7', 'claude', 'de', 'v1', 'code', 2, '{}', '[]', NULL, 3,"
                   " ?, ?)", (at, at))
    store = await open_storage(path)
    try:
        user = await store.get_user(UserKey("telegram", "7"), "claude")
        assert (user.node, user.locale, user.language, user.rev) == ("code", "de", None, 3)
        user.language = "fr"
        await store.save_step(user)
        assert await store.get_language(UserKey("telegram", "7")) == "fr"
    finally:
        await store.close()
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


async def test_reopening_runs_no_migration_twice(tmp_path: Path) -> None:
    # A migration run twice would fail on CREATE TABLE; the row written before must survive reopening.
    for expected_rev in (1, 2):
        store = await open_storage(tmp_path / "again.db")
        saved = await store.get_user(ALICE, "claude") or state()
        await store.save_step(saved)
        assert saved.rev == expected_rev
        await store.close()
    with closing(sqlite3.connect(tmp_path / "again.db")) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


async def test_a_newer_schema_is_refused_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    with closing(sqlite3.connect(path)) as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    with pytest.raises(StorageError, match="newer than this bot knows") as caught:
        await open_backend(f"sqlite:///{path}")
    assert str(caught.value).startswith("DATABASE_URL: ") and "\n" not in str(caught.value)


async def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError, match="not a usable SQLite database"):
        await open_storage(path)


async def test_an_unwritable_location_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageError, match="DATABASE_URL"):
        await open_storage(blocker / "sub" / "bot.db")


async def test_no_message_text_column_exists(tmp_path: Path) -> None:
    store = await open_storage(tmp_path / "cols.db")
    await store.close()
    with closing(sqlite3.connect(tmp_path / "cols.db")) as db:
        columns = {
            c[1]
            for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
            for c in db.execute(f"PRAGMA table_info({t})")
        }
    assert not columns & {"text", "message", "message_text", "content", "username", "first_name"}


# DATABASE_URL ------------------------------------------------------------------------------------
async def test_the_url_scheme_picks_the_backend(tmp_path: Path) -> None:
    memory = await open_backend("memory://")
    assert isinstance(memory, MemoryStorage)
    await memory.close()
    sqlite = await open_backend(f"sqlite:///{tmp_path / 'x.db'}")
    await sqlite.close()
    assert (tmp_path / "x.db").exists()


@pytest.mark.parametrize(("url", "says"), [
    ("mongodb://db/optout", "unknown scheme mongodb://"),
    ("mysql://db", "unknown scheme mysql://"),
    ("data/optout.db", "malformed: expected sqlite:///PATH"),
    ("sqlite://", "malformed: write sqlite:/// and then the file's path"),
    ("sqlite:///", "malformed: write sqlite:/// and then the file's path"),
])
async def test_an_unusable_url_is_one_line_naming_database_url(url: str, says: str) -> None:
    with pytest.raises(StorageError) as caught:
        await open_backend(url)
    message = str(caught.value)
    assert message.startswith("DATABASE_URL: ") and says in message and "\n" not in message
    assert "sqlite:///" in message  # says what would work


async def test_a_read_only_open_does_not_create_a_database(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="DATABASE_URL: no database at"):
        await open_backend(f"sqlite:///{tmp_path / 'typo' / 'bot.db'}", create=False)
    assert not (tmp_path / "typo").exists()


async def test_closing_twice_is_harmless(tmp_path: Path) -> None:
    store = await open_storage(tmp_path / "x.db")
    await store.close()
    await store.close()
    with pytest.raises(StorageError, match="closed"):
        await store.get_user(ALICE, "claude")


def test_dates_are_stored_in_utc(tmp_path: Path) -> None:
    async def save() -> None:
        store = await open_storage(tmp_path / "tz.db")
        local = datetime(2026, 11, 22, 13, tzinfo=UTC).astimezone()
        await store.save_step(state(at=local))
        await store.close()

    asyncio.run(save())
    with closing(sqlite3.connect(tmp_path / "tz.db")) as db:
        assert db.execute("SELECT updated_at FROM users").fetchone()[0] == "2026-11-22T13:00:00.000000+00:00"


def _before(created: str) -> int:
    """The schema version just before the migration that creates ``created`` (append-only, so it never moves
    back; merges may renumber it forward)."""
    return next(i for i, script in enumerate(MIGRATIONS) if f"CREATE TABLE {created} " in script)


async def test_migrating_to_people_points_each_person_at_their_latest_pack_and_drops_the_old_check(
        tmp_path: Path) -> None:
    # Before the people table "Check all my assistants" was the pseudo-pack "~check-all" and a "~tour" key
    # in the packs' answers.
    path = tmp_path / "before-people.db"
    early, late = (t.isoformat(timespec="microseconds") for t in (T0, T0 + timedelta(minutes=5)))
    with closing(_at_version(path, _before("people"))) as db, db:
        row = "INSERT INTO users VALUES ('telegram', '7', ?, NULL, 'v1', 'plan', 2, ?, '[]', NULL, 3, ?, ?, NULL)"
        db.execute(row, ("claude", '{"plan":"pro","~tour":"on"}', early, early))
        db.execute(row, ("chatgpt", '{"~tour":"last"}', late, late))
        db.execute(row, ("~check-all", '{"chosen":"claude,chatgpt"}', early, late))
    store = await open_storage(path)
    try:
        key = UserKey("telegram", "7")
        person, latest = await store.load(key, None)
        assert (person.last_pack, person.check_all, latest.pack, latest.answers) == ("chatgpt", None, "chatgpt", {})
        assert (await store.get_user(key, "claude")).answers == {"plan": "pro"}
        assert await store.get_user(key, "~check-all") is None
    finally:
        await store.close()


async def test_migrating_to_reminder_follows_turns_the_made_up_deadline_ids_into_columns(tmp_path: Path) -> None:
    # Before reminder_follows "" meant "every deadline" and "!alerts@V" "the changes, V seen".
    path = tmp_path / "before-follows.db"
    with closing(_at_version(path, _before("reminder_follows"))) as db, db:
        sub = "INSERT INTO reminder_subs VALUES ('telegram', 'user', '7', ?, ?, '7', NULL)"
        for pack, deadline_id in (("claude", ""), ("claude", "final"), ("claude", "!alerts@2026.11.3"),
                                  ("chatgpt", "!alerts@2026.11.1")):
            db.execute(sub, (pack, deadline_id))
        db.execute("INSERT INTO reminder_subs VALUES ('discord', 'channel', '50', 'claude', '', NULL, '5')")
    store = await open_storage(path)
    try:
        alice, news = Recipient("telegram", "user", "7"), Recipient("discord", "channel", "50")
        assert await store.subscriptions("claude") == {
            Subscriber(alice, "claude"): Following(True, "2026.11.3", frozenset({"final"})),
            Subscriber(news, "claude", "5"): Following(deadlines=True)}
        assert await store.subscriptions("chatgpt") == {Subscriber(alice, "chatgpt"): Following(False, "2026.11.1")}
        assert await store.channel("discord", "5", "claude") == news
        await store.forget_user(UserKey("telegram", "7"))
        assert await store.subscriptions("chatgpt") == {}
    finally:
        await store.close()
