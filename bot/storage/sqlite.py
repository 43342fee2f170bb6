"""The SQLite backend (aiosqlite, WAL mode, parameterised SQL, one transaction per call)."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar

import aiosqlite

from bot.events import UserKey
from bot.storage.base import StaleStateError, Storage, StorageError, UserState
from bot.storage.migrations import MIGRATIONS

log = logging.getLogger(__name__)
T = TypeVar("T")
USER_CACHE_SIZE = 10_000  # rows of about 300 bytes: a few MiB at most

_COUNT_SQL = (
    "INSERT INTO funnel (day, platform, counter, n) VALUES (?, ?, ?, 1)"
    " ON CONFLICT(day, platform, counter) DO UPDATE SET n = n + 1"
)


def to_db_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def from_db_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


class SqliteStorage(Storage):
    """One aiosqlite connection; writes are serialised by a lock so each call is one transaction."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._write_lock = asyncio.Lock()
        # The stored rows of recently active users, exactly as last read or written, so a step
        # needs no read; the revision check in save_step catches a row another process changed.
        self._rows: OrderedDict[str, tuple] = OrderedDict()
        # Bumped after each erase: a read that was in flight meanwhile may hold an erased row and must
        # not put it back in the cache (a forgotten user's answers would come back on their next step).
        self._erasures = 0

    @property
    def connection(self) -> aiosqlite.Connection:
        return self._conn

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run the body as one write transaction (BEGIN IMMEDIATE ... COMMIT, rolled back on error)."""
        async with self._write_lock:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                await self._conn.rollback()
                raise
            else:
                await self._conn.commit()

    async def close(self) -> None:
        await self._conn.close()

    async def ping(self) -> bool:
        try:
            async with self._conn.execute("SELECT 1") as cur:
                return (await cur.fetchone()) == (1,)
        except (sqlite3.Error, ValueError):
            return False

    async def migrate(self) -> int:
        """Run the migrations this file has not seen yet; return the schema version."""
        async with self._conn.execute("PRAGMA user_version") as cur:
            (version,) = await cur.fetchone()  # type: ignore[misc]
        if version > len(MIGRATIONS):
            raise StorageError(
                f"the database schema is version {version}, newer than this bot knows ({len(MIGRATIONS)}): "
                "upgrade the bot or point DATABASE_URL at another file"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            async with self._write_lock:
                # executescript commits first, so the script and the version bump share one transaction
                # only when wrapped explicitly.
                await self._conn.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
            log.info("database migrated to schema version %d", number)
        return len(MIGRATIONS)

    # Users ------------------------------------------------------------------------------------
    async def _in_thread(self, fn: Callable[..., T], *args: object) -> T:
        # aiosqlite runs each call as a function on its worker thread (Connection._execute is the
        # method behind all of its public API). Handing it a whole read or a whole transaction costs
        # one thread hop instead of one per statement and cursor: that is what keeps a durable step
        # far below a millisecond (see bench/engine.py).
        return await self._conn._execute(fn, *args)

    async def write(self, fn: Callable[..., T], *args: object) -> T:
        """Run ``fn(sqlite3_connection, *args)`` as one transaction on the database thread."""
        if self._write_lock.locked():
            # A multi-statement transaction() is open: its next statements must not find ours
            # between them.
            async with self._write_lock:
                return await self._in_thread(self._transaction_sync, fn, args)
        # Otherwise queue at once: the database thread runs queued calls one after another, and a
        # transaction() started later queues its BEGIN behind this whole transaction.
        return await self._in_thread(self._transaction_sync, fn, args)

    def _transaction_sync(self, fn: Callable[..., T], args: tuple[object, ...]) -> T:
        raw = self._conn._conn
        raw.execute("BEGIN IMMEDIATE")
        try:
            result = fn(raw, *args)
        except BaseException:
            raw.execute("ROLLBACK")
            raise
        raw.execute("COMMIT")
        return result

    async def get_user(self, key: UserKey) -> UserState | None:
        name = str(key)
        row = self._rows.get(name)
        if row is None:
            erasures = self._erasures
            row = await self._in_thread(self._get_user_sync, name)
            if row is None:
                return None
            if erasures == self._erasures:
                self._remember(name, row)
        else:
            self._rows.move_to_end(name)
        version, node, step, answers, history, pending, rev, created, updated = row
        return UserState(
            key=key,
            guide_version=version,
            node=node,
            step=step,
            answers=json.loads(answers),
            history=[(n, a) for n, a in json.loads(history)],
            pending=pending,
            rev=rev,
            created_at=from_db_time(created),
            updated_at=from_db_time(updated),
        )

    def _remember(self, name: str, row: tuple) -> None:
        self._rows[name] = row
        self._rows.move_to_end(name)
        if len(self._rows) > USER_CACHE_SIZE:
            self._rows.popitem(last=False)

    def _get_user_sync(self, key: str) -> tuple | None:
        return self._conn._conn.execute(
            "SELECT guide_version, node, step, answers, history, pending, rev, created_at, updated_at "
            "FROM users WHERE user_key = ?",
            (key,),
        ).fetchone()

    async def save_step(self, state: UserState, counters: tuple[str, ...] = ()) -> None:
        now = state.updated_at or datetime.now(UTC)
        name = str(state.key)
        row = (
            state.guide_version,
            state.node,
            state.step,
            json.dumps(state.answers, separators=(",", ":")),
            json.dumps(state.history, separators=(",", ":")),
            state.pending,
            state.rev + 1,
            to_db_time(state.created_at or now),
            to_db_time(now),
        )
        counts = [(now.date().isoformat(), state.key.platform, c) for c in counters]
        try:
            await self.write(self._save_step_sync, name, state.key.platform, row, state.rev, counts)
        except StaleStateError:
            self._rows.pop(name, None)
            raise
        state.rev += 1
        previous = self._rows.get(name)
        if previous is not None:
            # The update keeps the stored created_at; the cached row must say the same.
            self._remember(name, row[:7] + previous[7:8] + row[8:])
        elif state.rev == 1:
            self._remember(name, row)

    @staticmethod
    def _save_step_sync(
        db: sqlite3.Connection, name: str, platform: str, row: tuple, expected_rev: int, counts: list[tuple[str, str, str]]
    ) -> None:
        changed = db.execute(
            "INSERT INTO users (user_key, platform, guide_version, node, step, answers, history, pending, rev,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(user_key) DO UPDATE SET guide_version = excluded.guide_version,"
            " node = excluded.node, step = excluded.step, answers = excluded.answers,"
            " history = excluded.history, pending = excluded.pending, rev = excluded.rev,"
            " updated_at = excluded.updated_at WHERE users.rev = ?",
            (name, platform, *row, expected_rev),
        ).rowcount
        if changed != 1:
            # Rolled back by the caller's transaction wrapper, counters included.
            raise StaleStateError(name)
        if counts:
            db.executemany(_COUNT_SQL, counts)

    async def forget_user(self, key: UserKey) -> None:
        self._rows.pop(str(key), None)
        async with self.transaction() as db:
            for table in await self._user_tables(db):
                await db.execute(f"DELETE FROM {table} WHERE user_key = ?", (str(key),))
        self._erased(str(key))
        await self._scrub()

    async def delete_inactive(self, before: datetime) -> int:
        self._rows.clear()
        async with self.transaction() as db:
            async with db.execute("SELECT user_key FROM users WHERE updated_at < ?", (to_db_time(before),)) as cur:
                keys = [(k,) for (k,) in await cur.fetchall()]
            for table in await self._user_tables(db):
                await db.executemany(f"DELETE FROM {table} WHERE user_key = ?", keys)
        if keys:
            self._erased()
            await self._scrub()
        return len(keys)

    def _erased(self, name: str | None = None) -> None:
        """Drop erased rows that a concurrent read cached while the delete ran (None: all of them)."""
        self._erasures += 1
        if name is None:
            self._rows.clear()
        else:
            self._rows.pop(name, None)

    async def _scrub(self) -> None:
        # Erased means erased on disk: secure_delete (set in open_storage) zeroes the freed pages, but
        # the old pages also sit in the WAL file until a checkpoint; copy them back and empty the WAL now.
        async with self._write_lock:
            # The PRAGMA returns a row: fetch it, or its statement stays open and the next COMMIT fails.
            await self._conn.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)")

    @staticmethod
    async def _user_tables(db: aiosqlite.Connection) -> list[str]:
        # Every table with a user_key column holds data about a user; finding them from the schema
        # means a table added by a later migration is erased too without touching this code.
        async with db.execute(
            "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) p"
            " WHERE m.type = 'table' AND p.name = 'user_key'"
        ) as cur:
            return [name for (name,) in await cur.fetchall()]

    # Anonymous funnel -------------------------------------------------------------------------
    async def count(self, platform: str, counters: tuple[str, ...], day: date) -> None:
        async with self.transaction() as db:
            await self._add_counters(db, platform, counters, day)

    @staticmethod
    async def _add_counters(db: aiosqlite.Connection, platform: str, counters: tuple[str, ...], day: date) -> None:
        await db.executemany(_COUNT_SQL, [(day.isoformat(), platform, c) for c in counters])

    async def funnel(self, since: date, until: date) -> dict[tuple[str, str], int]:
        async with self._conn.execute(
            "SELECT platform, counter, SUM(n) FROM funnel WHERE day BETWEEN ? AND ? GROUP BY platform, counter",
            (since.isoformat(), until.isoformat()),
        ) as cur:
            return {(p, c): n for p, c, n in await cur.fetchall()}

    # Metadata ---------------------------------------------------------------------------------
    async def get_meta(self, name: str) -> str | None:
        async with self._conn.execute("SELECT value FROM meta WHERE name = ?", (name,)) as cur:
            row = await cur.fetchone()
        return row[0] if row else None

    async def set_meta(self, name: str, value: str) -> None:
        async with self.transaction() as db:
            await db.execute(
                "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                (name, value),
            )


async def open_storage(path: Path | str) -> SqliteStorage:
    """Open (creating if needed) the database file, switch on WAL and run pending migrations."""
    path = Path(path)
    try:
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are opened explicitly (BEGIN IMMEDIATE), so a read never
        # holds a stale snapshot and two bot processes on one file serialise their writes.
        conn = await aiosqlite.connect(str(path), isolation_level=None)
    except (OSError, sqlite3.Error) as exc:
        raise StorageError(f"DATABASE_URL: cannot open {path}: {exc}") from None
    try:
        await conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL in WAL mode: a commit survives a crash of the bot process (the case that matters
        # here); only an OS crash or power cut may lose the last commits. FULL would fsync on every
        # step and cap a step at the disk's flush time.
        await conn.execute("PRAGMA synchronous = NORMAL")
        await conn.execute("PRAGMA busy_timeout = 5000")
        await conn.execute("PRAGMA foreign_keys = ON")
        # Deleted rows are overwritten, not left in free pages (the default depends on how SQLite was built).
        await conn.execute("PRAGMA secure_delete = ON")
        storage = SqliteStorage(conn)
        await storage.migrate()
    except sqlite3.Error as exc:
        await conn.close()
        raise StorageError(f"DATABASE_URL: {path} is not a usable SQLite database: {exc}") from None
    except StorageError:
        await conn.close()
        raise
    return storage
