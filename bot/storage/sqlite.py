"""The SQLite backend (aiosqlite, WAL mode, parameterised SQL, one transaction per call)."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import aiosqlite

from bot.events import UserKey
from bot.storage.base import Storage, StorageError, UserState
from bot.storage.migrations import MIGRATIONS

log = logging.getLogger(__name__)


def to_db_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def from_db_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


class SqliteStorage(Storage):
    """One aiosqlite connection; writes are serialised by a lock so each call is one transaction."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._write_lock = asyncio.Lock()

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
    async def get_user(self, key: UserKey) -> UserState | None:
        async with self._conn.execute(
            "SELECT guide_version, node, step, answers, history, pending, created_at, updated_at "
            "FROM users WHERE user_key = ?",
            (str(key),),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        version, node, step, answers, history, pending, created, updated = row
        return UserState(
            key=key,
            guide_version=version,
            node=node,
            step=step,
            answers=json.loads(answers),
            history=[(n, a) for n, a in json.loads(history)],
            pending=pending,
            created_at=from_db_time(created),
            updated_at=from_db_time(updated),
        )

    async def save_step(self, state: UserState, counters: tuple[str, ...] = ()) -> None:
        now = state.updated_at or datetime.now(UTC)
        created = state.created_at or now
        async with self.transaction() as db:
            await db.execute(
                "INSERT INTO users (user_key, platform, guide_version, node, step, answers, history, pending,"
                " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(user_key) DO UPDATE SET guide_version = excluded.guide_version,"
                " node = excluded.node, step = excluded.step, answers = excluded.answers,"
                " history = excluded.history, pending = excluded.pending, updated_at = excluded.updated_at",
                (
                    str(state.key),
                    state.key.platform,
                    state.guide_version,
                    state.node,
                    state.step,
                    json.dumps(state.answers, separators=(",", ":")),
                    json.dumps(state.history, separators=(",", ":")),
                    state.pending,
                    to_db_time(created),
                    to_db_time(now),
                ),
            )
            if counters:
                await self._add_counters(db, state.key.platform, counters, now.date())

    async def forget_user(self, key: UserKey) -> None:
        async with self.transaction() as db:
            for table in await self._user_tables(db):
                await db.execute(f"DELETE FROM {table} WHERE user_key = ?", (str(key),))  # noqa: S608

    async def delete_inactive(self, before: datetime) -> int:
        async with self.transaction() as db:
            async with db.execute("SELECT user_key FROM users WHERE updated_at < ?", (to_db_time(before),)) as cur:
                keys = [(k,) for (k,) in await cur.fetchall()]
            for table in await self._user_tables(db):
                await db.executemany(f"DELETE FROM {table} WHERE user_key = ?", keys)  # noqa: S608
        return len(keys)

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
        await db.executemany(
            "INSERT INTO funnel (day, platform, counter, n) VALUES (?, ?, ?, 1)"
            " ON CONFLICT(day, platform, counter) DO UPDATE SET n = n + 1",
            [(day.isoformat(), platform, c) for c in counters],
        )

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
        storage = SqliteStorage(conn)
        await storage.migrate()
    except sqlite3.Error as exc:
        await conn.close()
        raise StorageError(f"DATABASE_URL: {path} is not a usable SQLite database: {exc}") from None
    except StorageError:
        await conn.close()
        raise
    return storage
