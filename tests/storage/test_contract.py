"""The storage contract: every backend must pass these (add a backend to ``BACKENDS``)."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.events import UserKey
from bot.storage import StaleStateError, Storage, StorageError, UserState, open_storage
from bot.storage.migrations import MIGRATIONS

T0 = datetime(2026, 11, 22, 12, tzinfo=UTC)


async def _sqlite(tmp_path: Path) -> Storage:
    return await open_storage(tmp_path / "contract.db")


BACKENDS: dict[str, Callable[[Path], Awaitable[Storage]]] = {"sqlite": _sqlite}


@pytest.fixture(params=sorted(BACKENDS))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    backend = await BACKENDS[request.param](tmp_path)
    yield backend
    await backend.close()


def _state(user: str = "1", node: str = "plan", step: int = 3, at: datetime = T0) -> UserState:
    return UserState(
        key=UserKey("telegram", user),
        guide_version="v1",
        node=node,
        step=step,
        answers={"plan": "pro"},
        history=[("home", {})],
        pending=None,
        created_at=at,
        updated_at=at,
    )


async def test_unknown_user_is_none(store: Storage) -> None:
    assert await store.get_user(UserKey("telegram", "nobody")) is None


async def test_saved_state_round_trips(store: Storage) -> None:
    state = _state()
    await store.save_step(state)
    assert state.rev == 1
    got = await store.get_user(UserKey("telegram", "1"))
    expected = _state()
    expected.rev = 1
    assert got == expected


async def test_a_save_based_on_an_old_read_is_refused(store: Storage) -> None:
    await store.save_step(_state())
    first = await store.get_user(UserKey("telegram", "1"))
    second = await store.get_user(UserKey("telegram", "1"))
    first.node = "code"
    await store.save_step(first)
    second.node = "result"
    with pytest.raises(StaleStateError):
        await store.save_step(second, ("started",))
    assert (await store.get_user(UserKey("telegram", "1"))).node == "code"
    assert await store.funnel(date(2000, 1, 1), date(2100, 1, 1)) == {}


async def test_a_row_changed_by_another_process_is_noticed(tmp_path: Path) -> None:
    one, two = await open_storage(tmp_path / "shared.db"), await open_storage(tmp_path / "shared.db")
    await one.save_step(_state())
    mine = await one.get_user(UserKey("telegram", "1"))
    theirs = await two.get_user(UserKey("telegram", "1"))
    theirs.node = "code"
    await two.save_step(theirs)
    mine.node = "result"
    with pytest.raises(StaleStateError):
        await one.save_step(mine)
    assert (await one.get_user(UserKey("telegram", "1"))).node == "code"
    await one.close()
    await two.close()


async def test_saving_again_updates_but_keeps_created_at(store: Storage) -> None:
    await store.save_step(_state())
    later = _state(node="code", step=4, at=T0 + timedelta(hours=1))
    later.rev = 1
    later.created_at = T0 + timedelta(hours=1)
    later.pending = "forget"
    await store.save_step(later)
    got = await store.get_user(UserKey("telegram", "1"))
    assert (got.node, got.step, got.pending) == ("code", 4, "forget")
    assert got.created_at == T0 and got.updated_at == T0 + timedelta(hours=1)


async def test_users_are_keyed_by_platform_and_id(store: Storage) -> None:
    await store.save_step(_state("1"))
    other = _state("1", node="home")
    other.key = UserKey("discord", "1")
    await store.save_step(other)
    assert (await store.get_user(UserKey("telegram", "1"))).node == "plan"
    assert (await store.get_user(UserKey("discord", "1"))).node == "home"


async def test_forget_removes_the_user_and_nobody_else(store: Storage) -> None:
    await store.save_step(_state("1"))
    await store.save_step(_state("2"))
    await store.forget_user(UserKey("telegram", "1"))
    assert await store.get_user(UserKey("telegram", "1")) is None
    assert await store.get_user(UserKey("telegram", "2")) is not None


async def test_writes_go_on_after_an_erase(store: Storage) -> None:
    await store.save_step(_state("1"))
    await store.forget_user(UserKey("telegram", "1"))
    await store.save_step(_state("2"), ("started",))
    await store.delete_inactive(T0 + timedelta(days=1))
    await store.save_step(_state("3"))
    assert (await store.get_user(UserKey("telegram", "3"))).node == "plan"


async def test_delete_inactive_removes_only_users_idle_since_the_cutoff(store: Storage) -> None:
    await store.save_step(_state("old", at=T0 - timedelta(days=200)))
    await store.save_step(_state("new", at=T0 - timedelta(days=10)))
    assert await store.delete_inactive(T0 - timedelta(days=180)) == 1
    assert await store.get_user(UserKey("telegram", "old")) is None
    assert await store.get_user(UserKey("telegram", "new")) is not None


async def test_funnel_counts_add_up_per_day_and_platform(store: Storage) -> None:
    await store.save_step(_state("1"), ("started", "reached:plan"))
    await store.save_step(_state("2"), ("started",))
    await store.count("discord", ("started",), date(2026, 11, 20))
    assert await store.funnel(date(2026, 11, 22), date(2026, 11, 22)) == {
        ("telegram", "started"): 2,
        ("telegram", "reached:plan"): 1,
    }
    everything = await store.funnel(date(2026, 1, 1), date(2026, 12, 31))
    assert everything[("discord", "started")] == 1


async def test_meta_round_trips(store: Storage) -> None:
    assert await store.get_meta("x") is None
    await store.set_meta("x", "1")
    await store.set_meta("x", "2")
    assert await store.get_meta("x") == "2"


async def test_ping(store: Storage) -> None:
    assert await store.ping()


# SQLite specifics -------------------------------------------------------------------------------
async def test_a_new_file_gets_every_migration_and_wal(tmp_path: Path) -> None:
    store = await open_storage(tmp_path / "sub" / "dir" / "new.db")
    await store.close()
    with sqlite3.connect(tmp_path / "sub" / "dir" / "new.db") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_migrating_from_the_first_schema_keeps_the_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript(MIGRATIONS[0])
        db.execute("PRAGMA user_version = 1")
        db.execute(
            "INSERT INTO users VALUES ('telegram:7', 'telegram', 'v1', 'plan', 2, '{}', '[]', NULL, 1, ?, ?)",
            (T0.isoformat(), T0.isoformat()),
        )
    store = await open_storage(path)
    assert (await store.get_user(UserKey("telegram", "7"))).node == "plan"
    await store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


async def test_reopening_runs_no_migration_twice(tmp_path: Path) -> None:
    # A migration run twice would fail on CREATE TABLE; the row written before must survive reopening.
    for expected_rev in (1, 2):
        store = await open_storage(tmp_path / "again.db")
        state = await store.get_user(UserKey("telegram", "1")) or _state()
        await store.save_step(state)
        assert state.rev == expected_rev
        await store.close()
    with sqlite3.connect(tmp_path / "again.db") as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


async def test_a_newer_schema_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    with sqlite3.connect(path) as db:
        db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    with pytest.raises(StorageError, match="newer than this bot knows"):
        await open_storage(path)


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
    with sqlite3.connect(tmp_path / "cols.db") as db:
        columns = {
            c[1]
            for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")
            for c in db.execute(f"PRAGMA table_info({t})")
        }
    assert not columns & {"text", "message", "message_text", "content", "username", "first_name"}
