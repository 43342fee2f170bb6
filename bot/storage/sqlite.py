"""The SQLite backend: aiosqlite, WAL mode, parameterised SQL.

aiosqlite is the project's SQLite driver: it runs every call on the connection's own thread, in the
order the calls were queued, and each call is one hop between the event loop and that thread. A hop is
what a step costs, so the hot path makes one: a step's save is a single statement (an UPDATE guarded
by the revision, or an INSERT that does nothing on conflict), which SQLite commits on its own. The
step's funnel counters are anonymous tallies, not anyone's state, so they are added up in memory and
written in one transaction every COUNTS_EVERY_S (and before the funnel is read, and on close): a crash
loses at most that second's tallies. Saving the counters in the step's transaction instead costs
three more hops (BEGIN, counters, COMMIT): bench/engine.py run side by side on a loaded 2-core machine
gave 1,500-2,100 steps/s that way against 3,000-3,400 batched.

Calls that need several statements run as one transaction (BEGIN IMMEDIATE ... COMMIT) under one
asyncio.Lock. While it is held, every other call waits for it, so no statement of another call lands
inside the transaction; when it is free, single statements and reads go straight to the thread, where
they run before any transaction queued after them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections import Counter, OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import aiosqlite

from bot.events import Recipient, UserKey
from bot.storage.base import (
    CLEAN_UPDATES_EVERY,
    PENDING,
    SENDING,
    SKIPPED,
    Following,
    NewReminder,
    Person,
    Reminder,
    SourceSnapshot,
    StaleStateError,
    Storage,
    StorageError,
    Subscriber,
    UserState,
    newer_schema,
    state_from_row,
)
from bot.storage.sqlite_migrations import MIGRATIONS

log = logging.getLogger(__name__)
T = TypeVar("T")
USER_CACHE_SIZE = 10_000  # rows of about 300 bytes: a few MiB at most
COUNTS_EVERY_S = 1.0  # how long the funnel's tallies wait in memory before they are written

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
_INSERT_USER = f"INSERT INTO users (platform, user_id, pack, {_USER_COLUMNS}) VALUES ({','.join('?' * 14)}) ON CONFLICT DO NOTHING"
# An update, never an insert: a row erased by another process (/forget, retention) since this one was
# read must stay erased, and the step is redone on fresh data.
_UPDATE_USER = (
    "UPDATE users SET guide_version = ?, node = ?, step = ?, answers = ?, history = ?, pending = ?,"
    " locale = ?, rev = ?, updated_at = ?, language = ? WHERE platform = ? AND user_id = ? AND pack = ? AND rev = ?"
)
_INSERT_REMINDER = (
    "INSERT INTO reminders (platform, recipient_kind, recipient_id, user_id, pack, scope, kind, about, offset_s,"
    " due_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
)
# The person record and one row of theirs: the pack asked for, else the one they moved in last, else the default.
_LOAD = (
    "SELECT p.platform IS NOT NULL, p.last_pack, p.check_all, p.updated_at, u.pack, "
    + ", ".join(f"u.{c}" for c in _USER_COLUMNS.split(", "))
    + " FROM (SELECT ? AS platform, ? AS user_id) k"
    " LEFT JOIN people p ON p.platform = k.platform AND p.user_id = k.user_id"
    " LEFT JOIN users u ON u.platform = k.platform AND u.user_id = k.user_id AND u.pack = coalesce(?, p.last_pack, ?)"
)
UserRow = tuple  # the _USER_COLUMNS of one stored row, as read
Body = Callable[[aiosqlite.Connection], Awaitable[T]]


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


def _cache(cache: OrderedDict, name: tuple, value: object) -> None:
    """Keep ``value`` as the most recent entry; past USER_CACHE_SIZE the least recent goes."""
    cache[name] = value
    cache.move_to_end(name)
    if len(cache) > USER_CACHE_SIZE:
        cache.popitem(last=False)


class SqliteStorage(Storage):
    """One aiosqlite connection; transactions under one lock, lone statements and reads straight through."""

    def __init__(self, db: aiosqlite.Connection, path: str) -> None:
        self._db = db
        self.path = path
        self._closed = False
        # Held from before a transaction's BEGIN is queued until its COMMIT or ROLLBACK has run.
        self._lock = asyncio.Lock()
        # The stored rows of recently active users, exactly as last read or written, so a step needs
        # no read; the revision check in save_step catches a row another process changed or erased.
        self._rows: OrderedDict[tuple[str, str, str], UserRow] = OrderedDict()
        # Bumped after each erase: a read that was in flight meanwhile may hold an erased row and must
        # not put it back in the cache.
        self._erasures = 0
        # The people records of the same users, likewise (last write wins for them: see Person).
        self._people: OrderedDict[tuple[str, str], Person | None] = OrderedDict()
        # The funnel's tallies not written yet: {(day, platform, counter): n}.
        self._counts: Counter[tuple[str, str, str]] = Counter()
        self._counts_due: asyncio.TimerHandle | None = None
        self._writing_counts: asyncio.Task[None] | None = None

    def _open(self) -> aiosqlite.Connection:
        if self._closed:
            raise StorageError("DATABASE_URL: the database is closed")
        return self._db

    async def _one(self, call: Callable[[aiosqlite.Connection], Awaitable[T]]) -> T:
        """Run one statement (committed by SQLite on its own) or one read, never inside a transaction."""
        if self._lock.locked():
            async with self._lock:
                return await call(self._open())
        return await call(self._open())

    async def _rows_of(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        return list(await self._one(lambda db: db.execute_fetchall(sql, params)))

    async def _changed(self, sql: str, params: Sequence[object]) -> int:
        """Run one writing statement whose SQL ends in RETURNING; return how many rows it wrote."""
        return len(await self._rows_of(sql, params))

    async def _transaction(self, body: Body[T]) -> T:
        # Shielded: a caller cancelled half-way must neither leave the transaction open nor cut it short.
        return await asyncio.shield(self._run_transaction(body))

    async def _run_transaction(self, body: Body[T]) -> T:
        async with self._lock:
            db = self._open()
            await db.execute_fetchall("BEGIN IMMEDIATE")
            try:
                result = await body(db)
                await db.execute_fetchall("COMMIT")
            except BaseException:
                try:
                    await db.execute_fetchall("ROLLBACK")
                except sqlite3.OperationalError:
                    pass  # the failed COMMIT already ended the transaction
                raise
            return result

    async def close(self) -> None:
        if self._closed:
            return
        try:
            await self._write_counts()
        finally:
            async with self._lock:
                self._closed = True
                await self._db.close()

    async def migrate(self) -> int:
        """Run the migrations this file has not seen yet; return the schema version."""
        async with self._lock:
            return await _migrate(self._open())

    # Users ------------------------------------------------------------------------------------
    async def get_user(self, key: UserKey, pack: str) -> UserState | None:
        name = (key.platform, key.user_id, pack)
        row = self._rows.get(name)
        if row is None:
            erasures = self._erasures
            rows = await self._rows_of(
                f"SELECT {_USER_COLUMNS} FROM users WHERE platform = ? AND user_id = ? AND pack = ?", name)
            if not rows:
                return None
            row = rows[0]
            if erasures == self._erasures:
                self._remember(name, row)
        else:
            self._rows.move_to_end(name)
        return state_from_row(key, pack, row, from_db_time)

    def _remember(self, name: tuple[str, str, str], row: UserRow) -> None:
        _cache(self._rows, name, row)

    def _remember_person(self, name: tuple[str, str], person: Person | None) -> None:
        _cache(self._people, name, person)

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
        if state.rev == 0:
            changed = await self._changed(_INSERT_USER + " RETURNING 1", (*name, *row))
        else:
            version, node, step, answers, history, pending, locale, rev, _created, updated, language = row
            changed = await self._changed(
                _UPDATE_USER + " RETURNING 1",
                (version, node, step, answers, history, pending, locale, rev, updated, language, *name, state.rev),
            )
        if changed != 1:
            self._rows.pop(name, None)
            raise StaleStateError(":".join(name))  # nothing written, and nothing counted
        state.rev += 1
        if state.rev == 1:
            self._remember(name, row)
        elif (previous := self._rows.get(name)) is not None:
            # The update keeps the stored created_at; the cached row must say the same.
            self._remember(name, row[:8] + previous[8:9] + row[9:])
        if counters:
            day = now.date().isoformat()
            self._counts.update((day, state.key.platform, c) for c in counters)
            if self._counts_due is None:
                self._counts_due = asyncio.get_running_loop().call_later(COUNTS_EVERY_S, self._counts_are_due)

    def _counts_are_due(self) -> None:
        self._counts_due = None
        if self._writing_counts is None or self._writing_counts.done():
            self._writing_counts = asyncio.ensure_future(self._write_counts())

    async def _write_counts(self) -> None:
        """Add the tallies kept in memory to the funnel table, in one transaction."""
        if self._counts_due is not None:
            self._counts_due.cancel()
            self._counts_due = None
        if self._writing_counts is not None and not self._writing_counts.done() \
                and self._writing_counts is not asyncio.current_task():
            await asyncio.shield(self._writing_counts)  # its tallies land before anything reads the funnel
        if not self._counts or self._closed:
            return
        counts, self._counts = self._counts, Counter()
        rows = [(day, platform, counter, n) for (day, platform, counter), n in counts.items()]
        try:
            await self._transaction(lambda db: db.executemany(_COUNT_SQL, rows))
        except (sqlite3.Error, StorageError) as exc:
            self._counts.update(counts)  # kept for the next try; tallies are never dropped on a busy file
            log.warning("funnel counters not written yet (%s); retrying in %.0f s", exc, COUNTS_EVERY_S)
            if self._counts_due is None and not self._closed:
                self._counts_due = asyncio.get_running_loop().call_later(COUNTS_EVERY_S, self._counts_are_due)

    async def load(self, key: UserKey, pack: str | None, default: str | None = None) -> tuple[Person, UserState | None]:
        name = (key.platform, key.user_id)
        if name in self._people:
            return await super().load(key, pack, default)  # from the caches, reading at most the row
        # Neither cached: the record and the row in one statement.
        erasures = self._erasures
        rows = await self._rows_of(_LOAD, (*name, pack, default))
        known, last_pack, check_all, updated, found_pack, *row = rows[0]
        person = Person(key, last_pack, check_all, from_db_time(updated)) if known else None
        if erasures == self._erasures:
            self._remember_person(name, person)
            if found_pack is not None:
                self._remember((*name, found_pack), tuple(row))
        state = await self.get_user(key, found_pack) if found_pack is not None else None
        return (replace(person) if person else Person(key)), state

    async def get_person(self, key: UserKey) -> Person | None:
        name = (key.platform, key.user_id)
        if name in self._people:
            # Also a person known to have no record (None): most people never get one (see save_person's callers).
            self._people.move_to_end(name)
            person = self._people[name]
            return replace(person) if person is not None else None
        erasures = self._erasures
        rows = await self._rows_of(
            "SELECT last_pack, check_all, updated_at FROM people WHERE platform = ? AND user_id = ?", name)
        found = None
        if rows:
            last_pack, check_all, updated = rows[0]
            found = Person(key, last_pack, check_all, from_db_time(updated))
        if erasures == self._erasures:
            self._remember_person(name, found)
        return replace(found) if found is not None else None

    async def save_person(self, person: Person) -> None:
        name = (person.key.platform, person.key.user_id)
        saved = replace(person, updated_at=person.updated_at or datetime.now(UTC))
        await self._changed(
            "INSERT INTO people (platform, user_id, last_pack, check_all, updated_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (platform, user_id) DO UPDATE SET last_pack = excluded.last_pack,"
            " check_all = excluded.check_all, updated_at = excluded.updated_at RETURNING 1",
            (*name, saved.last_pack, saved.check_all, to_db_time(saved.updated_at)))
        self._remember_person(name, saved)

    async def get_language(self, key: UserKey) -> str | None:
        rows = await self._rows_of(
            "SELECT language FROM users WHERE platform = ? AND user_id = ? AND language IS NOT NULL"
            " ORDER BY updated_at DESC LIMIT 1", (key.platform, key.user_id))
        return rows[0][0] if rows else None

    async def set_language(self, key: UserKey, language: str | None) -> int:
        changed = await self._changed(
            "UPDATE users SET language = ?, rev = rev + 1 WHERE platform = ? AND user_id = ? AND language IS NOT ?"
            " RETURNING 1", (language, key.platform, key.user_id, language))
        # Their cached rows hold the old revision; also any a concurrent read cached while this ran.
        self._erased(key)
        return changed

    async def forget_user(self, key: UserKey) -> None:
        self._drop_cached(key)
        people = [(key.platform, key.user_id)]
        await self._transaction(lambda db: _erase(db, people))
        self._erased(key)
        await self._scrub()

    async def delete_inactive(self, before: datetime) -> int:
        self._rows.clear()
        self._people.clear()
        deleted = await self._transaction(lambda db: _delete_inactive(db, to_db_time(before)))
        if deleted:
            self._erased()
            await self._scrub()
        return deleted

    async def _scrub(self) -> None:
        # Erased means erased on disk: secure_delete zeroes the freed pages, but the old pages also sit in
        # the WAL file until a checkpoint; copy them back and empty the WAL now.
        await self._rows_of("PRAGMA wal_checkpoint(TRUNCATE)")

    def _drop_cached(self, key: UserKey) -> None:
        for name in [n for n in self._rows if n[:2] == (key.platform, key.user_id)]:
            del self._rows[name]
        self._people.pop((key.platform, key.user_id), None)

    def _erased(self, key: UserKey | None = None) -> None:
        """Drop erased rows that a concurrent read cached while the delete ran (None: all of them)."""
        self._erasures += 1
        if key is None:
            self._rows.clear()
            self._people.clear()
        else:
            self._drop_cached(key)

    # Reminders --------------------------------------------------------------------------------
    async def schedule(self, rows: Iterable[NewReminder]) -> int:
        new = list(rows)
        return await self._transaction(lambda db: _insert_reminders(db, new))

    async def subscribe(self, subscriber: Subscriber, deadline_ids: Iterable[str], rows: Iterable[NewReminder], *,
                        deadlines: bool = False, changes_seen: str | None = None) -> int:
        ids, new = list(deadline_ids), list(rows)
        return await self._transaction(lambda db: _subscribe(db, subscriber, ids, new, deadlines, changes_seen))

    async def replace_pending(self, row: NewReminder) -> int:
        return await self._transaction(lambda db: _replace_pending(db, row))

    async def subscriptions(self, pack: str) -> dict[Subscriber, Following]:
        scheduled: dict[Subscriber, set[str]] = {}
        rows = await self._rows_of("SELECT platform, recipient_kind, recipient_id, scope, deadline_id"
                                   " FROM reminder_subs WHERE pack = ?", (pack,))
        for platform, rkind, rid, scope, deadline_id in rows:
            scheduled.setdefault(Subscriber(Recipient(platform, rkind, rid), pack, scope), set()).add(deadline_id)
        subs = {sub: Following(scheduled=frozenset(ids)) for sub, ids in scheduled.items()}
        follows = await self._rows_of("SELECT platform, recipient_kind, recipient_id, scope, deadlines, changes_seen"
                                      " FROM reminder_follows WHERE pack = ?", (pack,))
        for platform, rkind, rid, scope, deadlines, seen in follows:
            sub = Subscriber(Recipient(platform, rkind, rid), pack, scope)
            subs[sub] = Following(bool(deadlines), seen, subs.get(sub, Following()).scheduled)
        return subs

    async def move_due(self, pack: str, kind: str, about: str, offset_s: int, due_at: datetime) -> int:
        t = to_db_time(due_at)
        return await self._changed("UPDATE reminders SET due_at = ? WHERE pack = ? AND kind = ? AND about = ?"
                                   " AND offset_s = ? AND status = ? AND due_at != ? RETURNING 1",
                                   (t, pack, kind, about, offset_s, PENDING, t))

    async def pending(self, recipient: Recipient, pack: str) -> list[Reminder]:
        rows = await self._rows_of(
            f"SELECT {_REMINDER_COLUMNS} FROM reminders WHERE platform = ? AND recipient_kind = ? AND recipient_id = ?"
            " AND pack = ? AND status IN (?, ?) ORDER BY due_at, id",
            (recipient.platform, recipient.kind, recipient.id, pack, PENDING, SENDING),
        )
        return [_reminder(r) for r in rows]

    async def cancel(self, recipient: Recipient, pack: str | None = None) -> tuple[int, bool]:
        return await self._transaction(lambda db: _cancel(db, recipient, pack))

    async def skip_pending(self, recipient: Recipient, pack: str, kind: str) -> int:
        return await self._changed(
            "UPDATE reminders SET status = ? WHERE platform = ? AND recipient_kind = ? AND recipient_id = ?"
            " AND pack = ? AND kind = ? AND status = ? RETURNING 1",
            (SKIPPED, recipient.platform, recipient.kind, recipient.id, pack, kind, PENDING),
        )

    async def claim(self, now: datetime, limit: int, owner: str, lease_until: datetime,
                    platforms: Sequence[str], packs: Sequence[str]) -> list[Reminder]:
        if limit <= 0 or not platforms or not packs:
            return []
        t = to_db_time(now)
        # One UPDATE ... RETURNING claims a whole batch atomically: a writing statement takes SQLite's
        # write lock before it reads, so no other process can take the same rows, and a batch costs one
        # statement instead of one per row.
        claimed = await self._rows_of(
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
        return await self._changed(
            f"UPDATE reminders SET lease_until = ? WHERE owner = ? AND status = ? AND id IN ({_marks(len(ids))})"
            " RETURNING 1",
            (to_db_time(lease_until), owner, SENDING, *ids),
        )

    async def record(self, owner: str, outcomes: Sequence[tuple[int, str]], sent: Counter[tuple[str, date]]) -> int:
        done = list(outcomes)
        counts = [(day.isoformat(), platform, "reminder_sent", n) for (platform, day), n in sent.items()]
        return await self._transaction(lambda db: _record(db, owner, done, counts))

    async def release(self, rid: int, owner: str, due_at: datetime) -> bool:
        return await self._changed(
            "UPDATE reminders SET status = ?, due_at = ?, owner = NULL, lease_until = NULL WHERE id = ? AND owner = ?"
            " RETURNING 1",
            (PENDING, to_db_time(due_at), rid, owner),
        ) == 1

    async def next_due(self, platforms: Sequence[str], packs: Sequence[str]) -> datetime | None:
        if not platforms or not packs:
            return None
        marks, pack_marks = _marks(len(platforms)), _marks(len(packs))
        ((first,),) = await self._rows_of(
            f"SELECT MIN(t) FROM (SELECT MIN(due_at) AS t FROM reminders WHERE status = ? AND pack IN ({pack_marks})"
            f" AND platform IN ({marks}) UNION ALL SELECT MIN(lease_until) FROM reminders WHERE status = ?"
            f" AND pack IN ({pack_marks}) AND platform IN ({marks}))",
            (PENDING, *packs, *platforms, SENDING, *packs, *platforms),
        )
        return from_db_time(first) if first else None

    async def counts(self) -> dict[str, int]:
        return dict(await self._rows_of("SELECT status, COUNT(*) FROM reminders GROUP BY status"))

    async def channel(self, platform: str, scope: str, pack: str) -> Recipient | None:
        rows = await self._rows_of("SELECT recipient_kind, recipient_id FROM reminder_follows"
                                   " WHERE platform = ? AND scope = ? AND pack = ? LIMIT 1", (platform, scope, pack))
        return Recipient(platform, rows[0][0], rows[0][1]) if rows else None

    async def unsubscribe_scope(self, platform: str, scope: str, pack: str | None = None) -> bool:
        return await self._transaction(lambda db: _unsubscribe_scope(db, platform, scope, pack))

    # Counters and facts -----------------------------------------------------------------------
    async def funnel(self, since: date, until: date) -> dict[tuple[str, str], int]:
        await self._write_counts()
        rows = await self._rows_of(
            "SELECT platform, counter, SUM(n) FROM funnel WHERE day BETWEEN ? AND ? GROUP BY platform, counter",
            (since.isoformat(), until.isoformat()),
        )
        return {(p, c): n for p, c, n in rows}

    async def add_counts(self, platform: str, counts: dict[str, int], day: date) -> None:
        # Batched with the steps' tallies (see save_step).
        self._counts.update({(day.isoformat(), platform, counter): n for counter, n in counts.items()})
        if self._counts_due is None and not self._closed:
            self._counts_due = asyncio.get_running_loop().call_later(COUNTS_EVERY_S, self._counts_are_due)

    async def get_meta(self, name: str) -> str | None:
        rows = await self._rows_of("SELECT value FROM meta WHERE name = ?", (name,))
        return rows[0][0] if rows else None

    async def set_meta(self, name: str, value: str) -> None:
        await self._rows_of("INSERT INTO meta (name, value) VALUES (?, ?)"
                            " ON CONFLICT(name) DO UPDATE SET value = excluded.value", (name, value))

    async def claim_update(self, platform: str, update_id: int, now: datetime, keep: timedelta) -> bool:
        expired = to_db_time(now - keep)
        if update_id % CLEAN_UPDATES_EVERY == 0:
            await self._rows_of("DELETE FROM seen_updates WHERE seen_at <= ?", (expired,))
        return await self._changed(
            "INSERT INTO seen_updates (platform, update_id, seen_at) VALUES (?, ?, ?) ON CONFLICT(platform, update_id)"
            " DO UPDATE SET seen_at = excluded.seen_at WHERE seen_updates.seen_at <= ? RETURNING 1",
            (platform, update_id, to_db_time(now), expired)) == 1

    async def take_lease(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        # One statement: the upsert changes the row only where the lease is free or the holder's own.
        return await self._changed(_TAKE_LEASE + " RETURNING 1", (name, holder, to_db_time(until), to_db_time(now))) == 1

    async def export_rows(self, tables: Sequence[str]) -> dict[str, tuple[list[str], list[tuple]]]:
        """Return {table: (columns, rows)} as stored, read in one transaction (for ``optout-bot db copy``)."""
        await self._write_counts()
        names = list(tables)
        return await self._transaction(lambda db: _export(db, names))

    async def ping(self) -> bool:
        try:
            return await self._rows_of("SELECT 1") == [(1,)]
        except (sqlite3.Error, StorageError):
            return False

    # The source watch -------------------------------------------------------------------------
    async def get_snapshot(self, pack: str, source_id: str) -> SourceSnapshot | None:
        rows = await self._rows_of("SELECT url, main_text, fetched_at, etag, last_modified FROM source_snapshots"
                                   " WHERE pack = ? AND source_id = ?", (pack, source_id))
        if not rows:
            return None
        url, text, fetched_at, etag, modified = rows[0]
        return SourceSnapshot(pack, source_id, url, text, from_db_time(fetched_at), etag, modified)

    async def put_snapshot(self, snapshot: SourceSnapshot) -> None:
        s = snapshot
        await self._rows_of("INSERT INTO source_snapshots (pack, source_id, url, main_text, fetched_at, etag,"
                            " last_modified) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(pack, source_id) DO UPDATE SET"
                            " url = excluded.url, main_text = excluded.main_text, fetched_at = excluded.fetched_at,"
                            " etag = excluded.etag, last_modified = excluded.last_modified",
                            (s.pack, s.source_id, s.url, s.text, to_db_time(s.fetched_at), s.etag, s.last_modified))


# The bodies of transactions: each runs under the lock, between BEGIN IMMEDIATE and COMMIT ------------
async def _run(db: aiosqlite.Connection, sql: str, params: Sequence[object] = ()) -> list[tuple]:
    return list(await db.execute_fetchall(sql, params))


async def _run_many(db: aiosqlite.Connection, sql: str, rows: list[tuple]) -> int:
    """Run ``sql`` once per row; return how many rows it changed (total_changes: nothing else runs meanwhile)."""
    before = db.total_changes
    if rows:
        await db.executemany(sql, rows)
    return db.total_changes - before


async def _user_tables(db: aiosqlite.Connection) -> list[str]:
    # Every table with a user_id column holds data about a person; finding them from the schema means a
    # table added by a later migration is erased too without touching this code.
    return [name for (name,) in await _run(
        db, "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) p"
        " WHERE m.type = 'table' AND p.name = 'user_id'"
    )]


async def _erase(db: aiosqlite.Connection, people: list[tuple[str, str]]) -> None:
    for table in await _user_tables(db):
        await _run_many(db, f"DELETE FROM {table} WHERE platform = ? AND user_id = ?", people)


async def _delete_inactive(db: aiosqlite.Connection, before: str) -> int:
    # A person's last activity is the newest of their rows in the packs and their person record (which
    # "Check all my assistants" writes on its own; someone may have only that).
    people = await _run(
        db, "SELECT platform, user_id FROM (SELECT platform, user_id, updated_at FROM users"
        " UNION ALL SELECT platform, user_id, updated_at FROM people)"
        " GROUP BY platform, user_id HAVING MAX(updated_at) < ?", (before,)
    )
    await _erase(db, people)
    return len(people)


async def _insert_reminders(db: aiosqlite.Connection, rows: list[NewReminder]) -> int:
    # The unique key (recipient, pack, kind, about, offset_s) is what makes a restart, a redeploy or a
    # second copy unable to schedule one reminder twice.
    return await _run_many(db, _INSERT_REMINDER, [
        (r.recipient.platform, r.recipient.kind, r.recipient.id, _user_id(r.recipient), r.pack, r.scope, r.kind,
         r.about, r.offset_s, to_db_time(r.due_at)) for r in rows])


async def _subscribe(db: aiosqlite.Connection, sub: Subscriber, deadline_ids: list[str], rows: list[NewReminder],
                     deadlines: bool, changes_seen: str | None) -> int:
    to = sub.recipient
    if sub.scope is not None:
        # A scope has one channel per pack: moving it drops what was scheduled for the old one.
        other = ("platform = ? AND scope = ? AND pack = ? AND NOT (recipient_kind = ? AND recipient_id = ?)")
        params = (to.platform, sub.scope, sub.pack, to.kind, to.id)
        await _run(db, f"DELETE FROM reminders WHERE {other} AND status = ?", (*params, PENDING))
        await _run(db, f"DELETE FROM reminder_subs WHERE {other}", params)
        await _run(db, f"DELETE FROM reminder_follows WHERE {other}", params)
    await _run_many(
        db,
        "INSERT INTO reminder_subs (platform, recipient_kind, recipient_id, pack, deadline_id, user_id, scope)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [(to.platform, to.kind, to.id, sub.pack, d, _user_id(to), sub.scope) for d in deadline_ids],
    )
    if deadlines or changes_seen is not None:
        await _run(
            db,
            "INSERT INTO reminder_follows (platform, recipient_kind, recipient_id, pack, user_id, scope, deadlines,"
            " changes_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (platform, recipient_kind, recipient_id, pack)"
            " DO UPDATE SET deadlines = reminder_follows.deadlines OR excluded.deadlines,"
            " changes_seen = coalesce(excluded.changes_seen, reminder_follows.changes_seen)",
            (to.platform, to.kind, to.id, sub.pack, _user_id(to), sub.scope, int(deadlines), changes_seen),
        )
    return await _insert_reminders(db, rows)


async def _replace_pending(db: aiosqlite.Connection, row: NewReminder) -> int:
    to = row.recipient
    await _run(
        db,
        "DELETE FROM reminders WHERE platform = ? AND recipient_kind = ? AND recipient_id = ? AND pack = ?"
        " AND kind = ? AND status = ?",
        (to.platform, to.kind, to.id, row.pack, row.kind, PENDING),
    )
    return await _insert_reminders(db, [row])


async def _cancel(db: aiosqlite.Connection, to: Recipient, pack: str | None) -> tuple[int, bool]:
    where = "platform = ? AND recipient_kind = ? AND recipient_id = ?" + (" AND pack = ?" if pack else "")
    params = (to.platform, to.kind, to.id, *((pack,) if pack else ()))
    cancelled = len(await _run(db, f"DELETE FROM reminders WHERE {where} AND status = ? RETURNING 1", (*params, PENDING)))
    had = await _run(db, f"DELETE FROM reminder_subs WHERE {where} RETURNING 1", params)
    had += await _run(db, f"DELETE FROM reminder_follows WHERE {where} RETURNING 1", params)
    return cancelled, bool(had)


async def _record(db: aiosqlite.Connection, owner: str, outcomes: list[tuple[int, str]],
                  counts: list[tuple[str, str, str, int]]) -> int:
    recorded = await _run_many(
        db, "UPDATE reminders SET status = ?, owner = NULL, lease_until = NULL WHERE id = ? AND owner = ?",
        [(status, rid, owner) for rid, status in outcomes],
    )
    await _run_many(db, _COUNT_SQL, counts)
    return recorded


async def _unsubscribe_scope(db: aiosqlite.Connection, platform: str, scope: str, pack: str | None) -> bool:
    where = "platform = ? AND scope = ?" + (" AND pack = ?" if pack else "")
    params = (platform, scope, *((pack,) if pack else ()))
    await _run(db, f"DELETE FROM reminders WHERE {where} AND status = ?", (*params, PENDING))
    had = await _run(db, f"DELETE FROM reminder_subs WHERE {where} RETURNING 1", params)
    had += await _run(db, f"DELETE FROM reminder_follows WHERE {where} RETURNING 1", params)
    return bool(had)


async def _export(db: aiosqlite.Connection, tables: list[str]) -> dict[str, tuple[list[str], list[tuple]]]:
    exported = {}
    for table in tables:
        async with db.execute(f"SELECT * FROM {table}") as cursor:
            exported[table] = ([d[0] for d in cursor.description], list(await cursor.fetchall()))
    return exported


async def _migrate(db: aiosqlite.Connection) -> int:
    ((version,),) = await _run(db, "PRAGMA user_version")
    if version > len(MIGRATIONS):
        raise newer_schema(version, len(MIGRATIONS))
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        # executescript commits first, so the script and the version bump share one transaction only
        # when wrapped explicitly.
        await db.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
        log.info("database migrated to schema version %d", number)
    return len(MIGRATIONS)


async def _configure(db: aiosqlite.Connection) -> None:
    await _run(db, "PRAGMA journal_mode = WAL")
    # NORMAL in WAL mode: a commit survives a crash of the bot process (the case that matters here);
    # only an OS crash or power cut may lose the last commits. FULL would fsync on every step and cap a
    # step at the disk's flush time.
    await _run(db, "PRAGMA synchronous = NORMAL")
    await _run(db, "PRAGMA busy_timeout = 5000")
    await _run(db, "PRAGMA foreign_keys = ON")
    # Deleted rows are overwritten, not left in free pages (the default depends on how SQLite was built).
    await _run(db, "PRAGMA secure_delete = ON")
    await _migrate(db)


async def open_storage(path: Path | str, *, create: bool = True) -> SqliteStorage:
    """Open the SQLite database file (creating it unless ``create`` is False), switch on WAL, migrate."""
    path = Path(path)
    memory = str(path) == ":memory:"
    if not create and not memory and not path.exists():
        # Opening would create an empty database (and its folder) where the operator mistyped a path.
        raise StorageError(f"DATABASE_URL: no database at {path} (has the bot run with this setting?)")
    db: aiosqlite.Connection | None = None
    try:
        if not memory:
            path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are opened explicitly (BEGIN IMMEDIATE), so a read never
        # holds a stale snapshot and two bot processes on one file serialise their writes.
        db = await aiosqlite.connect(path, isolation_level=None)
        await _configure(db)
    except BaseException as exc:
        if db is not None:
            await db.close()
        if isinstance(exc, OSError):
            raise StorageError(f"DATABASE_URL: cannot open {path}: {exc.strerror or exc}") from None
        if isinstance(exc, sqlite3.Error):
            raise StorageError(f"DATABASE_URL: {path} is not a usable SQLite database: {exc}") from None
        raise
    return SqliteStorage(db, str(path))
