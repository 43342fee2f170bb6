"""The SQLite backend: WAL mode, parameterised SQL, one transaction per call, on a thread of its own.

One thread owns the sqlite3 connection and runs each read, or each whole transaction, as one function:
one thread hop per call, and calls run one after another, so no transaction ever finds another's
statements between its own. Why not aiosqlite: it has no public way to run a function on its thread,
so a transaction costs one hop per statement (bench/engine.py with save_step on its public API: about
2,000 steps/s against 3,400 for one hop).
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import sqlite3
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from bot.events import Recipient, UserKey
from bot.storage.base import (
    CLEAN_UPDATES_EVERY,
    PENDING,
    SENDING,
    SKIPPED,
    NewReminder,
    Reminder,
    StaleStateError,
    Storage,
    StorageError,
    Subscriber,
    UserState,
    newer_schema,
)
from bot.storage.sqlite_migrations import MIGRATIONS

log = logging.getLogger(__name__)
T = TypeVar("T")
USER_CACHE_SIZE = 10_000  # rows of about 300 bytes: a few MiB at most

_COUNT_SQL = (
    "INSERT INTO funnel (day, platform, counter, n) VALUES (?, ?, ?, ?)"
    " ON CONFLICT(day, platform, counter) DO UPDATE SET n = n + excluded.n"
)
_USER_COLUMNS = "guide_version, node, step, answers, history, pending, locale, rev, created_at, updated_at, language"
_REMINDER_COLUMNS = (
    "id, platform, recipient_kind, recipient_id, pack, scope, kind, about, offset_s, due_at, status, attempts"
)
_TAKE_LEASE = (
    "INSERT INTO leases (name, holder, until) VALUES (?1, ?2, ?3) ON CONFLICT(name) DO UPDATE"
    " SET holder = excluded.holder, until = excluded.until WHERE leases.holder = excluded.holder OR leases.until <= ?4"
)
UserRow = tuple  # the _USER_COLUMNS of one stored row, as read


def to_db_time(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def from_db_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _marks(n: int) -> str:
    return ",".join("?" * n)


def _reminder(row: Sequence) -> Reminder:
    rid, platform, rkind, rid_text, pack, scope, kind, about, offset_s, due, status, attempts = row
    return Reminder(rid, Recipient(platform, rkind, rid_text), pack, scope, kind, about, offset_s,
                    from_db_time(due), status, attempts)


def _user_id(recipient: Recipient) -> str | None:
    return recipient.id if recipient.kind == "user" else None


def _transaction(db: sqlite3.Connection, fn: Callable[..., T], *args: object) -> T:
    db.execute("BEGIN IMMEDIATE")
    try:
        result = fn(db, *args)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return result


def _user_tables(db: sqlite3.Connection) -> list[str]:
    # Every table with a user_id column holds data about a person; finding them from the schema means a
    # table added by a later migration is erased too without touching this code.
    return [name for (name,) in db.execute(
        "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) p"
        " WHERE m.type = 'table' AND p.name = 'user_id'"
    )]


def _erase(db: sqlite3.Connection, people: list[tuple[str, str]]) -> None:
    for table in _user_tables(db):
        db.executemany(f"DELETE FROM {table} WHERE platform = ? AND user_id = ?", people)


def _scrub(db: sqlite3.Connection) -> None:
    # Erased means erased on disk: secure_delete zeroes the freed pages, but the old pages also sit in
    # the WAL file until a checkpoint; copy them back and empty the WAL now.
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


class DatabaseThread:
    """A thread that runs functions one after another and hands each result back to its event loop.

    Not concurrent.futures.ThreadPoolExecutor with run_in_executor: chaining its futures into asyncio's
    cost a third of bench/engine.py's throughput (about 2,900 against 4,200-5,100 steps/s, measured
    side by side), since every step makes one call.
    """

    def __init__(self) -> None:
        self._calls: queue.SimpleQueue[tuple[asyncio.Future, Callable[..., object], tuple] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name="sqlite", daemon=True)
        self._thread.start()
        self.stopped = False

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        if self.stopped:
            raise StorageError("DATABASE_URL: the database is closed")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._calls.put((future, fn, args))
        return await future

    def stop(self) -> None:
        """End the thread once the calls already queued have run."""
        self.stopped = True
        self._calls.put(None)

    def _serve(self) -> None:
        while (call := self._calls.get()) is not None:
            future, fn, args = call
            try:
                result = fn(*args)
            except BaseException as exc:
                _hand_back(future, _fail, exc)
            else:
                _hand_back(future, _succeed, result)


def _hand_back(future: asyncio.Future, setter: Callable[[asyncio.Future, object], None], value: object) -> None:
    try:
        future.get_loop().call_soon_threadsafe(setter, future, value)
    except RuntimeError:
        pass  # the event loop is closed: nobody waits for this result any more


def _succeed(future: asyncio.Future, result: object) -> None:
    if not future.done():  # a cancelled caller: the call still ran (a transaction is never cut short)
        future.set_result(result)


def _fail(future: asyncio.Future, exc: object) -> None:
    if not future.done():
        future.set_exception(exc)  # type: ignore[arg-type]


class SqliteStorage(Storage):
    """One SQLite connection, owned by one DatabaseThread."""

    def __init__(self, db: sqlite3.Connection, worker: DatabaseThread, path: str) -> None:
        self._db = db
        self._worker = worker
        self.path = path
        # The stored rows of recently active users, exactly as last read or written, so a step needs
        # no read; the revision check in save_step catches a row another process changed or erased.
        self._rows: OrderedDict[tuple[str, str, str], UserRow] = OrderedDict()
        # Bumped after each erase: a read that was in flight meanwhile may hold an erased row and must
        # not put it back in the cache.
        self._erasures = 0

    async def _call(self, fn: Callable[..., T], *args: object) -> T:
        """Run ``fn(connection, *args)`` on the database thread."""
        return await self._worker.run(fn, self._db, *args)

    async def _write(self, fn: Callable[..., T], *args: object) -> T:
        """Run ``fn(connection, *args)`` as one transaction (BEGIN IMMEDIATE ... COMMIT) on the database thread."""
        return await self._call(_transaction, fn, *args)

    async def close(self) -> None:
        if self._worker.stopped:
            return
        try:
            await self._call(lambda db: db.close())
        finally:
            self._worker.stop()

    async def migrate(self) -> int:
        """Run the migrations this file has not seen yet; return the schema version."""
        return await self._call(_migrate)

    # Users ------------------------------------------------------------------------------------
    async def get_user(self, key: UserKey, pack: str) -> UserState | None:
        name = (key.platform, key.user_id, pack)
        row = self._rows.get(name)
        if row is None:
            erasures = self._erasures
            row = await self._call(_get_user, name)
            if row is None:
                return None
            if erasures == self._erasures:
                self._remember(name, row)
        else:
            self._rows.move_to_end(name)
        version, node, step, answers, history, pending, locale, rev, created, updated, language = row
        return UserState(
            key=key,
            pack=pack,
            guide_version=version,
            node=node,
            step=step,
            answers=json.loads(answers),
            history=[(n, a) for n, a in json.loads(history)],
            pending=pending,
            locale=locale,
            language=language,
            rev=rev,
            created_at=from_db_time(created),
            updated_at=from_db_time(updated),
        )

    def _remember(self, name: tuple[str, str, str], row: UserRow) -> None:
        self._rows[name] = row
        self._rows.move_to_end(name)
        if len(self._rows) > USER_CACHE_SIZE:
            self._rows.popitem(last=False)

    async def save_step(self, state: UserState, counters: tuple[str, ...] = ()) -> None:
        now = state.updated_at or datetime.now(UTC)
        name = (state.key.platform, state.key.user_id, state.pack)
        row = (
            state.guide_version,
            state.node,
            state.step,
            json.dumps(state.answers, separators=(",", ":")),
            json.dumps(state.history, separators=(",", ":")),
            state.pending,
            state.locale,
            state.rev + 1,
            to_db_time(state.created_at or now),
            to_db_time(now),
            state.language,
        )
        counts = [(now.date().isoformat(), state.key.platform, c, 1) for c in counters]
        try:
            await self._write(_save_step, name, row, state.rev, counts)
        except StaleStateError:
            self._rows.pop(name, None)
            raise
        state.rev += 1
        if state.rev == 1:
            self._remember(name, row)
        elif (previous := self._rows.get(name)) is not None:
            # The update keeps the stored created_at; the cached row must say the same.
            self._remember(name, row[:8] + previous[8:9] + row[9:])

    async def get_language(self, key: UserKey) -> str | None:
        return await self._call(_get_language, (key.platform, key.user_id))

    async def set_language(self, key: UserKey, language: str | None) -> int:
        changed = await self._write(_set_language, (key.platform, key.user_id), language)
        # Their cached rows hold the old revision; also any a concurrent read cached while this ran.
        self._erased(key)
        return changed

    async def forget_user(self, key: UserKey) -> None:
        self._drop_cached(key)
        await self._write(_erase, [(key.platform, key.user_id)])
        self._erased(key)
        await self._call(_scrub)

    async def delete_inactive(self, before: datetime) -> int:
        self._rows.clear()
        deleted = await self._write(_delete_inactive, to_db_time(before))
        if deleted:
            self._erased()
            await self._call(_scrub)
        return deleted

    def _drop_cached(self, key: UserKey) -> None:
        for name in [n for n in self._rows if n[:2] == (key.platform, key.user_id)]:
            del self._rows[name]

    def _erased(self, key: UserKey | None = None) -> None:
        """Drop erased rows that a concurrent read cached while the delete ran (None: all of them)."""
        self._erasures += 1
        if key is None:
            self._rows.clear()
        else:
            self._drop_cached(key)

    # Reminders --------------------------------------------------------------------------------
    async def schedule(self, rows: Iterable[NewReminder]) -> int:
        return await self._write(_insert_reminders, list(rows))

    async def subscribe(self, subscriber: Subscriber, deadline_ids: Iterable[str], rows: Iterable[NewReminder]) -> int:
        return await self._write(_subscribe, subscriber, list(deadline_ids), list(rows))

    async def replace_pending(self, row: NewReminder) -> int:
        return await self._write(_replace_pending, row)

    async def subscriptions(self, pack: str) -> dict[Subscriber, set[str]]:
        subs: dict[Subscriber, set[str]] = {}
        rows = await self._call(_read, "SELECT platform, recipient_kind, recipient_id, scope, deadline_id"
                                " FROM reminder_subs WHERE pack = ?", (pack,))
        for platform, rkind, rid, scope, deadline_id in rows:
            subs.setdefault(Subscriber(Recipient(platform, rkind, rid), pack, scope), set()).add(deadline_id)
        return subs

    async def move_due(self, pack: str, kind: str, about: str, offset_s: int, due_at: datetime) -> int:
        t = to_db_time(due_at)
        return await self._write(_rowcount, "UPDATE reminders SET due_at = ? WHERE pack = ? AND kind = ? AND about = ?"
                                 " AND offset_s = ? AND status = ? AND due_at != ?",
                                 (t, pack, kind, about, offset_s, PENDING, t))

    async def pending(self, recipient: Recipient, pack: str) -> list[Reminder]:
        rows = await self._call(
            _read,
            f"SELECT {_REMINDER_COLUMNS} FROM reminders WHERE platform = ? AND recipient_kind = ? AND recipient_id = ?"
            " AND pack = ? AND status IN (?, ?) ORDER BY due_at, id",
            (recipient.platform, recipient.kind, recipient.id, pack, PENDING, SENDING),
        )
        return [_reminder(r) for r in rows]

    async def cancel(self, recipient: Recipient, pack: str | None = None) -> tuple[int, bool]:
        return await self._write(_cancel, recipient, pack)

    async def skip_pending(self, recipient: Recipient, pack: str, kind: str) -> int:
        return await self._write(
            _rowcount,
            "UPDATE reminders SET status = ? WHERE platform = ? AND recipient_kind = ? AND recipient_id = ?"
            " AND pack = ? AND kind = ? AND status = ?",
            (SKIPPED, recipient.platform, recipient.kind, recipient.id, pack, kind, PENDING),
        )

    async def claim(self, now: datetime, limit: int, owner: str, lease_until: datetime,
                    platforms: Sequence[str], packs: Sequence[str]) -> list[Reminder]:
        if limit <= 0 or not platforms or not packs:
            return []
        t = to_db_time(now)
        # One UPDATE ... RETURNING claims a whole batch atomically: inside BEGIN IMMEDIATE no other
        # process can take the same rows, and a batch costs one transaction instead of one per row.
        claimed = await self._write(
            _read,
            f"UPDATE reminders SET status = ?, owner = ?, lease_until = ?, attempts = attempts + 1"
            f" WHERE id IN (SELECT id FROM reminders WHERE pack IN ({_marks(len(packs))})"
            f" AND platform IN ({_marks(len(platforms))})"
            f" AND ((status = ? AND due_at <= ?) OR (status = ? AND lease_until < ?)) ORDER BY due_at LIMIT ?)"
            f" RETURNING {_REMINDER_COLUMNS}",
            (SENDING, owner, to_db_time(lease_until), *packs, *platforms, PENDING, t, SENDING, t, limit),
        )
        return sorted((_reminder(r) for r in claimed), key=lambda r: (r.due_at, r.id))

    async def extend_leases(self, owner: str, ids: Sequence[int], lease_until: datetime) -> int:
        if not ids:
            return 0
        return await self._write(
            _rowcount,
            f"UPDATE reminders SET lease_until = ? WHERE owner = ? AND status = ? AND id IN ({_marks(len(ids))})",
            (to_db_time(lease_until), owner, SENDING, *ids),
        )

    async def record(self, owner: str, outcomes: Sequence[tuple[int, str]], sent: Counter[tuple[str, date]]) -> int:
        return await self._write(_record, owner, list(outcomes),
                                 [(day.isoformat(), platform, "reminder_sent", n) for (platform, day), n in sent.items()])

    async def release(self, rid: int, owner: str, due_at: datetime) -> bool:
        return await self._write(
            _rowcount,
            "UPDATE reminders SET status = ?, due_at = ?, owner = NULL, lease_until = NULL WHERE id = ? AND owner = ?",
            (PENDING, to_db_time(due_at), rid, owner),
        ) == 1

    async def next_due(self, platforms: Sequence[str], packs: Sequence[str]) -> datetime | None:
        if not platforms or not packs:
            return None
        marks, pack_marks = _marks(len(platforms)), _marks(len(packs))
        ((first,),) = await self._call(
            _read,
            f"SELECT MIN(t) FROM (SELECT MIN(due_at) AS t FROM reminders WHERE status = ? AND pack IN ({pack_marks})"
            f" AND platform IN ({marks}) UNION ALL SELECT MIN(lease_until) FROM reminders WHERE status = ?"
            f" AND pack IN ({pack_marks}) AND platform IN ({marks}))",
            (PENDING, *packs, *platforms, SENDING, *packs, *platforms),
        )
        return from_db_time(first) if first else None

    async def counts(self) -> dict[str, int]:
        return dict(await self._call(_read, "SELECT status, COUNT(*) FROM reminders GROUP BY status", ()))

    async def channel(self, platform: str, scope: str, pack: str) -> Recipient | None:
        rows = await self._call(_read, "SELECT recipient_kind, recipient_id FROM reminder_subs"
                                " WHERE platform = ? AND scope = ? AND pack = ? LIMIT 1", (platform, scope, pack))
        return Recipient(platform, rows[0][0], rows[0][1]) if rows else None

    async def unsubscribe_scope(self, platform: str, scope: str, pack: str | None = None) -> bool:
        return await self._write(_unsubscribe_scope, platform, scope, pack)

    # Counters and facts -----------------------------------------------------------------------
    async def funnel(self, since: date, until: date) -> dict[tuple[str, str], int]:
        rows = await self._call(
            _read,
            "SELECT platform, counter, SUM(n) FROM funnel WHERE day BETWEEN ? AND ? GROUP BY platform, counter",
            (since.isoformat(), until.isoformat()),
        )
        return {(p, c): n for p, c, n in rows}

    async def add_counts(self, platform: str, counts: dict[str, int], day: date) -> None:
        rows = [(day.isoformat(), platform, counter, n) for counter, n in counts.items()]
        await self._write(lambda db: db.executemany(_COUNT_SQL, rows))

    async def get_meta(self, name: str) -> str | None:
        rows = await self._call(_read, "SELECT value FROM meta WHERE name = ?", (name,))
        return rows[0][0] if rows else None

    async def set_meta(self, name: str, value: str) -> None:
        await self._write(_rowcount, "INSERT INTO meta (name, value) VALUES (?, ?)"
                          " ON CONFLICT(name) DO UPDATE SET value = excluded.value", (name, value))

    async def claim_update(self, platform: str, update_id: int, now: datetime, keep: timedelta) -> bool:
        return await self._write(_claim_update, platform, update_id, to_db_time(now), to_db_time(now - keep))

    async def take_lease(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        # One statement: the upsert changes the row only where the lease is free or the holder's own.
        return await self._write(_rowcount, _TAKE_LEASE, (name, holder, to_db_time(until), to_db_time(now))) == 1

    async def export_rows(self, tables: Sequence[str]) -> dict[str, tuple[list[str], list[tuple]]]:
        """Return {table: (columns, rows)} as stored, read in one transaction (for ``optout-bot db copy``)."""
        return await self._write(_export, list(tables))

    async def ping(self) -> bool:
        try:
            return await self._call(_read, "SELECT 1", ()) == [(1,)]
        except (sqlite3.Error, StorageError):
            return False


# What runs on the database thread ------------------------------------------------------------------
def _read(db: sqlite3.Connection, sql: str, params: Sequence[object]) -> list[tuple]:
    return db.execute(sql, params).fetchall()


def _rowcount(db: sqlite3.Connection, sql: str, params: Sequence[object]) -> int:
    return db.execute(sql, params).rowcount


def _get_user(db: sqlite3.Connection, name: tuple[str, str, str]) -> UserRow | None:
    return db.execute(
        f"SELECT {_USER_COLUMNS} FROM users WHERE platform = ? AND user_id = ? AND pack = ?", name
    ).fetchone()


def _save_step(db: sqlite3.Connection, name: tuple[str, str, str], row: UserRow, expected_rev: int,
               counts: list[tuple[str, str, str, int]]) -> None:
    if expected_rev == 0:
        changed = db.execute(
            f"INSERT INTO users (platform, user_id, pack, {_USER_COLUMNS}) VALUES ({_marks(14)})"
            " ON CONFLICT DO NOTHING",
            (*name, *row),
        ).rowcount
    else:
        # An update, never an insert: a row erased by another process (/forget, retention) since this
        # one was read must stay erased, and the step is redone on fresh data.
        version, node, step, answers, history, pending, locale, rev, _created, updated, language = row
        changed = db.execute(
            "UPDATE users SET guide_version = ?, node = ?, step = ?, answers = ?, history = ?, pending = ?,"
            " locale = ?, rev = ?, updated_at = ?, language = ?"
            " WHERE platform = ? AND user_id = ? AND pack = ? AND rev = ?",
            (version, node, step, answers, history, pending, locale, rev, updated, language, *name, expected_rev),
        ).rowcount
    if changed != 1:
        raise StaleStateError(":".join(name))  # rolled back by _transaction, counters included
    if counts:
        db.executemany(_COUNT_SQL, counts)


def _get_language(db: sqlite3.Connection, person: tuple[str, str]) -> str | None:
    row = db.execute(
        "SELECT language FROM users WHERE platform = ? AND user_id = ? AND language IS NOT NULL"
        " ORDER BY updated_at DESC LIMIT 1", person
    ).fetchone()
    return row[0] if row else None


def _set_language(db: sqlite3.Connection, person: tuple[str, str], language: str | None) -> int:
    return db.execute(
        "UPDATE users SET language = ?, rev = rev + 1 WHERE platform = ? AND user_id = ? AND language IS NOT ?",
        (language, *person, language),
    ).rowcount


def _delete_inactive(db: sqlite3.Connection, before: str) -> int:
    people = db.execute(
        "SELECT platform, user_id FROM users GROUP BY platform, user_id HAVING MAX(updated_at) < ?", (before,)
    ).fetchall()
    _erase(db, people)
    return len(people)


def _insert_reminders(db: sqlite3.Connection, rows: list[NewReminder]) -> int:
    before = db.total_changes
    # The unique key (recipient, pack, kind, about, offset_s) is what makes a restart, a redeploy or a
    # second copy unable to schedule one reminder twice.
    db.executemany(
        "INSERT INTO reminders (platform, recipient_kind, recipient_id, user_id, pack, scope, kind, about, offset_s,"
        " due_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [(r.recipient.platform, r.recipient.kind, r.recipient.id, _user_id(r.recipient), r.pack, r.scope, r.kind,
          r.about, r.offset_s, to_db_time(r.due_at)) for r in rows],
    )
    return db.total_changes - before


def _subscribe(db: sqlite3.Connection, sub: Subscriber, deadline_ids: list[str], rows: list[NewReminder]) -> int:
    to = sub.recipient
    if sub.scope is not None:
        # A scope has one channel per pack: moving it drops what was scheduled for the old one.
        other = ("platform = ? AND scope = ? AND pack = ? AND NOT (recipient_kind = ? AND recipient_id = ?)")
        params = (to.platform, sub.scope, sub.pack, to.kind, to.id)
        db.execute(f"DELETE FROM reminders WHERE {other} AND status = ?", (*params, PENDING))
        db.execute(f"DELETE FROM reminder_subs WHERE {other}", params)
    db.executemany(
        "INSERT INTO reminder_subs (platform, recipient_kind, recipient_id, pack, deadline_id, user_id, scope)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [(to.platform, to.kind, to.id, sub.pack, d, _user_id(to), sub.scope) for d in deadline_ids],
    )
    return _insert_reminders(db, rows)


def _replace_pending(db: sqlite3.Connection, row: NewReminder) -> int:
    to = row.recipient
    db.execute(
        "DELETE FROM reminders WHERE platform = ? AND recipient_kind = ? AND recipient_id = ? AND pack = ?"
        " AND kind = ? AND status = ?",
        (to.platform, to.kind, to.id, row.pack, row.kind, PENDING),
    )
    return _insert_reminders(db, [row])


def _cancel(db: sqlite3.Connection, to: Recipient, pack: str | None) -> tuple[int, bool]:
    where = "platform = ? AND recipient_kind = ? AND recipient_id = ?" + (" AND pack = ?" if pack else "")
    params = (to.platform, to.kind, to.id, *((pack,) if pack else ()))
    cancelled = db.execute(f"DELETE FROM reminders WHERE {where} AND status = ?", (*params, PENDING)).rowcount
    had = db.execute(f"DELETE FROM reminder_subs WHERE {where}", params).rowcount
    return cancelled, had > 0


def _record(db: sqlite3.Connection, owner: str, outcomes: list[tuple[int, str]],
            counts: list[tuple[str, str, str, int]]) -> int:
    before = db.total_changes
    db.executemany(
        "UPDATE reminders SET status = ?, owner = NULL, lease_until = NULL WHERE id = ? AND owner = ?",
        [(status, rid, owner) for rid, status in outcomes],
    )
    recorded = db.total_changes - before
    db.executemany(_COUNT_SQL, counts)
    return recorded


def _unsubscribe_scope(db: sqlite3.Connection, platform: str, scope: str, pack: str | None) -> bool:
    where = "platform = ? AND scope = ?" + (" AND pack = ?" if pack else "")
    params = (platform, scope, *((pack,) if pack else ()))
    db.execute(f"DELETE FROM reminders WHERE {where} AND status = ?", (*params, PENDING))
    return db.execute(f"DELETE FROM reminder_subs WHERE {where}", params).rowcount > 0


def _claim_update(db: sqlite3.Connection, platform: str, update_id: int, now: str, expired: str) -> bool:
    if update_id % CLEAN_UPDATES_EVERY == 0:
        db.execute("DELETE FROM seen_updates WHERE seen_at <= ?", (expired,))
    return db.execute(
        "INSERT INTO seen_updates (platform, update_id, seen_at) VALUES (?, ?, ?) ON CONFLICT(platform, update_id)"
        " DO UPDATE SET seen_at = excluded.seen_at WHERE seen_updates.seen_at <= ?",
        (platform, update_id, now, expired)).rowcount == 1


def _export(db: sqlite3.Connection, tables: list[str]) -> dict[str, tuple[list[str], list[tuple]]]:
    exported = {}
    for table in tables:
        cursor = db.execute(f"SELECT * FROM {table}")
        exported[table] = ([d[0] for d in cursor.description], cursor.fetchall())
    return exported


def _migrate(db: sqlite3.Connection) -> int:
    (version,) = db.execute("PRAGMA user_version").fetchone()
    if version > len(MIGRATIONS):
        raise newer_schema(version, len(MIGRATIONS))
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        # executescript commits first, so the script and the version bump share one transaction only
        # when wrapped explicitly.
        db.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
        log.info("database migrated to schema version %d", number)
    return len(MIGRATIONS)


def _connect(path: str) -> sqlite3.Connection:
    # isolation_level=None: transactions are opened explicitly (BEGIN IMMEDIATE), so a read never holds
    # a stale snapshot and two bot processes on one file serialise their writes.
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode = WAL").fetchall()
        # NORMAL in WAL mode: a commit survives a crash of the bot process (the case that matters
        # here); only an OS crash or power cut may lose the last commits. FULL would fsync on every
        # step and cap a step at the disk's flush time.
        db.execute("PRAGMA synchronous = NORMAL")
        db.execute("PRAGMA busy_timeout = 5000")
        db.execute("PRAGMA foreign_keys = ON")
        # Deleted rows are overwritten, not left in free pages (the default depends on how SQLite was built).
        db.execute("PRAGMA secure_delete = ON")
        _migrate(db)
    except BaseException:
        db.close()
        raise
    return db


async def open_storage(path: Path | str, *, create: bool = True) -> SqliteStorage:
    """Open the SQLite database file (creating it unless ``create`` is False), switch on WAL, migrate."""
    path = Path(path)
    memory = str(path) == ":memory:"
    if not create and not memory and not path.exists():
        # Opening would create an empty database (and its folder) where the operator mistyped a path.
        raise StorageError(f"DATABASE_URL: no database at {path} (has the bot run with this setting?)")
    worker = DatabaseThread()
    try:
        if not memory:
            path.parent.mkdir(parents=True, exist_ok=True)
        db = await worker.run(_connect, str(path))
    except BaseException as exc:
        worker.stop()
        if isinstance(exc, OSError):
            raise StorageError(f"DATABASE_URL: cannot open {path}: {exc.strerror or exc}") from None
        if isinstance(exc, sqlite3.Error):
            raise StorageError(f"DATABASE_URL: {path} is not a usable SQLite database: {exc}") from None
        raise
    return SqliteStorage(db, worker, str(path))
