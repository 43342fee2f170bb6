"""The PostgreSQL backend (``DATABASE_URL=postgresql://user:pass@host:5432/db``): several bot instances on one database.

asyncpg with a connection pool; one call is one statement where it can be (a step, a claim, a record:
data-modifying CTEs keep them atomic without a round trip per statement) and one transaction otherwise.
Across instances the database does the coordination: a step updates the user's row only at the revision
it read (exactly one of two racing steps wins; an erased user is never written back), and a claim takes
due reminders with ``FOR UPDATE SKIP LOCKED`` under a lease, so no two instances hold one reminder.

Unlike SQLite's backend it keeps no cache of user rows: behind a load balancer one user's updates hop
between instances, so a cached row would often be stale, and a read that saves nothing could show a
user whom another instance has erased. A step is therefore two round trips (read, then write).

The password is given to asyncpg apart from the URL and scrubbed from every message this module makes,
so it reaches neither a log nor an exception.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import asyncpg

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
from bot.storage.postgres_migrations import MIGRATIONS

log = logging.getLogger(__name__)
T = TypeVar("T")

# Connections per instance. A step is one short statement, so a few connections keep up with hundreds
# of users in flight; two instances and an operator's psql stay far below PostgreSQL's default
# max_connections (100).
POOL_SIZE = 10
CONNECT_TIMEOUT_S = 10.0
# Any fixed number: the key of the advisory lock an instance holds while it migrates.
MIGRATION_LOCK = 0x6F70_746F_7574  # "optout"
FUNNEL_STRIPES = 16  # rows per counter and day, at most
# Errors of a connection that cannot be used again: it is closed, and the pool opens a new one. asyncpg
# raises InternalClientError for a connection the server ended while it sat idle in the pool.
BROKEN_CONNECTION = (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError,
                     TimeoutError)
# Errors of the connection or the server (as opposed to bugs): each becomes one StorageError line.
DATABASE_ERRORS = (asyncpg.PostgresError, *BROKEN_CONNECTION)

_USER_COLUMNS = "guide_version, node, step, answers, history, pending, locale, rev, created_at, updated_at, language"
_REMINDER_COLUMNS = (
    "id, platform, recipient_kind, recipient_id, pack, scope, kind, about, offset_s, due_at, status, attempts"
)
# Each connection adds to its own stripe of a counter (see the funnel table in postgres_migrations), so
# concurrent steps seldom wait for one another's row lock.
_STRIPE = f"(pg_backend_pid() % {FUNNEL_STRIPES})::smallint"
# Counters come sorted and grouped, so steps that do share a stripe lock its rows in one order (no
# deadlock) and one step never touches a row twice (which ON CONFLICT DO UPDATE refuses).
_COUNT_STEP = f"""
counted AS (
    INSERT INTO funnel (day, platform, counter, stripe, n)
    SELECT $13, $1, c, {_STRIPE}, count(*) FROM unnest($14::text[]) AS c
    WHERE EXISTS (SELECT FROM saved) GROUP BY c ORDER BY c
    ON CONFLICT (day, platform, counter, stripe) DO UPDATE SET n = funnel.n + excluded.n
)
SELECT count(*) FROM saved
"""
_ADD_COUNTS = f"""
INSERT INTO funnel (day, platform, counter, stripe, n)
SELECT $1, $2, c, {_STRIPE}, n FROM unnest($3::text[], $4::bigint[]) AS s(c, n) ORDER BY c
ON CONFLICT (day, platform, counter, stripe) DO UPDATE SET n = funnel.n + excluded.n
"""
_INSERT_USER = f"""
WITH saved AS (
    INSERT INTO users (platform, user_id, pack, guide_version, node, step, answers, history, pending, locale, rev,
                       created_at, updated_at, language)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12, $15)
    ON CONFLICT DO NOTHING RETURNING 1
), {_COUNT_STEP}"""
# An update, never an insert: a row erased by another instance (/forget, retention) since this one was
# read must stay erased, and the step is redone on fresh data.
_UPDATE_USER = f"""
WITH saved AS (
    UPDATE users SET guide_version = $4, node = $5, step = $6, answers = $7, history = $8, pending = $9,
                     locale = $10, rev = rev + 1, updated_at = $12, language = $15
    WHERE platform = $1 AND user_id = $2 AND pack = $3 AND rev = $11 RETURNING 1
), {_COUNT_STEP}"""
_INSERT_REMINDERS = """
INSERT INTO reminders (platform, recipient_kind, recipient_id, user_id, pack, scope, kind, about, offset_s, due_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                     $9::integer[], $10::timestamptz[])
ON CONFLICT DO NOTHING
"""
_CLAIM = f"""
UPDATE reminders SET status = '{SENDING}', owner = $1, lease_until = $2, attempts = attempts + 1
WHERE id IN (
    SELECT id FROM reminders WHERE pack = ANY($3::text[]) AND platform = ANY($4::text[])
    AND ((status = '{PENDING}' AND due_at <= $5) OR (status = '{SENDING}' AND lease_until < $5))
    ORDER BY due_at LIMIT $6 FOR UPDATE SKIP LOCKED
)
RETURNING {_REMINDER_COLUMNS}
"""
_RECORD = f"""
WITH done AS (
    UPDATE reminders r SET status = o.status, owner = NULL, lease_until = NULL
    FROM unnest($2::bigint[], $3::text[]) AS o(id, status)
    WHERE r.id = o.id AND r.owner = $1 RETURNING 1
), counted AS (
    INSERT INTO funnel (day, platform, counter, stripe, n)
    SELECT d, p, 'reminder_sent', {_STRIPE}, n FROM unnest($4::date[], $5::text[], $6::bigint[]) AS s(d, p, n)
    ORDER BY d, p
    ON CONFLICT (day, platform, counter, stripe) DO UPDATE SET n = funnel.n + excluded.n
)
SELECT count(*) FROM done
"""
# Every table with a user_id column holds data about a person; finding them from the schema means a
# table added by a later migration is erased too without touching this code.
_USER_TABLES = """
SELECT c.table_name FROM information_schema.columns c
JOIN information_schema.tables t USING (table_schema, table_name)
WHERE c.table_schema = current_schema() AND c.column_name = 'user_id' AND t.table_type = 'BASE TABLE'
ORDER BY c.table_name
"""
_LOAD = f"""
SELECT p.platform IS NOT NULL AS known, p.last_pack, p.check_all, p.updated_at AS person_updated, u.pack,
       {", ".join(f"u.{c}" for c in _USER_COLUMNS.split(", "))}
FROM (SELECT $1::text AS platform, $2::text AS user_id) k
LEFT JOIN people p ON p.platform = k.platform AND p.user_id = k.user_id
LEFT JOIN users u ON u.platform = k.platform AND u.user_id = k.user_id
    AND u.pack = coalesce($3::text, p.last_pack, $4::text)
"""

# A person's last activity is the newest of their rows in the packs and their person record (which
# "Check all my assistants" writes on its own; someone may have only that).
_IDLE_PEOPLE = """
SELECT platform, user_id FROM (SELECT platform, user_id, updated_at FROM users
    UNION ALL SELECT platform, user_id, updated_at FROM people) activity
{where} GROUP BY platform, user_id HAVING max(updated_at) < $1
"""


def _people(first: int) -> str:
    """A condition: (platform, user_id) is one of the people in the arrays ``$first`` and the one after."""
    return f"(platform, user_id) IN (SELECT * FROM unnest(${first}::text[], ${first + 1}::text[]))"


def _count(status: str) -> int:
    """The row count of a command status such as ``UPDATE 3`` or ``INSERT 0 5``."""
    return int(status.rsplit(" ", 1)[-1])


def _user_id(recipient: Recipient) -> str | None:
    return recipient.id if recipient.kind == "user" else None


def _reminder(row: asyncpg.Record) -> Reminder:
    rid, platform, rkind, rid_text, pack, scope, kind, about, offset_s, due, status, attempts = row
    return Reminder(rid, Recipient(platform, rkind, rid_text), pack, scope, kind, about, offset_s, due, status,
                    attempts)


def _reminder_columns(rows: list[NewReminder]) -> list[list[object]]:
    return [
        [r.recipient.platform for r in rows], [r.recipient.kind for r in rows], [r.recipient.id for r in rows],
        [_user_id(r.recipient) for r in rows], [r.pack for r in rows], [r.scope for r in rows],
        [r.kind for r in rows], [r.about for r in rows], [r.offset_s for r in rows], [r.due_at for r in rows],
    ]


async def _keep_session(con: asyncpg.Connection) -> None:
    """Hand a connection back to the pool as it is.

    asyncpg's default reset (RESET ALL, UNLISTEN *, CLOSE ALL, pg_advisory_unlock_all) costs one more
    round trip per call; this backend leaves nothing to undo (no SET, LISTEN, cursor or session-level
    lock: its advisory lock is transaction-scoped), and asyncpg still rolls back an open transaction.
    """


@dataclass(frozen=True)
class Target:
    """Where a ``postgresql://`` URL points, with the password kept apart from everything printable."""

    dsn: str  # the URL without its password
    password: str | None
    where: str  # user@host:port/db, for messages
    settings: dict[str, str]

    @classmethod
    def parse(cls, url: str) -> Target:
        parts = urlsplit(url)
        userinfo, at, hosts = parts.netloc.rpartition("@")
        user, colon, password = userinfo.partition(":")
        query = parse_qsl(parts.query, keep_blank_values=True)
        password = unquote(password) if colon else None
        for name, value in query:
            if name == "password":
                password = value
        query = [(n, v) for n, v in query if n != "password"]
        dsn = urlunsplit((parts.scheme, f"{user}{at}{hosts}" if user else hosts, parts.path, urlencode(query), ""))
        dbname = unquote(parts.path.lstrip("/")) or unquote(user) or "(default)"
        where = f"{unquote(user)}@{hosts or 'localhost'}/{dbname}" if user else f"{hosts or 'localhost'}/{dbname}"
        # Settings in the URL's query (e.g. ?application_name=...) win over these defaults.
        given = {n for n, _ in query}
        settings = {n: v for n, v in {"application_name": "optout-bot"}.items() if n not in given}
        return cls(dsn, password or None, where, settings)

    def scrub(self, text: str) -> str:
        if self.password:
            for form in {self.password, quote(self.password, safe=""), quote(self.password)}:
                text = text.replace(form, "***")
        return " ".join(text.split())  # one line

    def error(self, exc: BaseException) -> StorageError:
        """One line naming DATABASE_URL and the server (never the password) for a failure of ``exc``."""
        said = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if isinstance(exc, asyncpg.InvalidAuthorizationSpecificationError):
            text = f"PostgreSQL at {self.where} refused the login ({said}): check the user and password"
        elif isinstance(exc, asyncpg.InvalidCatalogNameError):
            text = f"no database on the server at {self.where} ({said}): create it first (createdb)"
        elif isinstance(exc, OSError | TimeoutError | asyncpg.ClientCannotConnectError):
            text = f"cannot reach PostgreSQL at {self.where}: {said}"
        elif isinstance(exc, asyncpg.InterfaceError | asyncpg.PostgresConnectionError | asyncpg.InternalClientError):
            text = f"lost the connection to PostgreSQL at {self.where}: {said}"
        else:
            text = f"PostgreSQL at {self.where} failed: {type(exc).__name__}: {said}"
        return StorageError(self.scrub(f"DATABASE_URL: {text}"))


class PostgresStorage(Storage):
    """One asyncpg pool; every call borrows a connection for one statement or one transaction."""

    def __init__(self, pool: asyncpg.Pool, target: Target) -> None:
        self._pool = pool
        self._target = target
        self._closed = False

    @property
    def where(self) -> str:
        return self._target.where

    async def _run(self, fn: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """Run ``fn(connection)`` on a pooled connection; a database failure becomes a StorageError."""
        if self._closed:
            raise StorageError("DATABASE_URL: the database is closed")
        try:
            async with self._pool.acquire() as con:
                try:
                    return await fn(con)
                except BROKEN_CONNECTION:
                    con.terminate()
                    raise
        except DATABASE_ERRORS as exc:
            raise self._target.error(exc) from None

    async def _in_transaction(self, fn: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        async def run(con: asyncpg.Connection) -> T:
            async with con.transaction():
                return await fn(con)

        return await self._run(run)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._pool.close()

    async def migrate(self, create: bool = True) -> int:
        """Run the migrations this database has not seen yet; return the schema version."""
        return await self._in_transaction(lambda con: _migrate(con, create, self._target))

    # Users ------------------------------------------------------------------------------------
    async def get_user(self, key: UserKey, pack: str) -> UserState | None:
        row = await self._run(lambda con: con.fetchrow(
            f"SELECT {_USER_COLUMNS} FROM users WHERE platform = $1 AND user_id = $2 AND pack = $3",
            key.platform, key.user_id, pack))
        return None if row is None else state_from_row(key, pack, tuple(row))

    async def load(self, key: UserKey, pack: str | None, default: str | None = None) -> tuple[Person, UserState | None]:
        # One round trip: the person record and the row of the pack asked for, or of the one they were in last.
        row = await self._run(lambda con: con.fetchrow(_LOAD, key.platform, key.user_id, pack, default))
        person = Person(key, row["last_pack"], row["check_all"], row["person_updated"]) if row["known"] else Person(key)
        state = None if row["pack"] is None else state_from_row(key, row["pack"], tuple(row)[5:])
        return person, state

    async def get_person(self, key: UserKey) -> Person | None:
        row = await self._run(lambda con: con.fetchrow(
            "SELECT last_pack, check_all, updated_at FROM people WHERE platform = $1 AND user_id = $2",
            key.platform, key.user_id))
        return None if row is None else Person(key, row[0], row[1], row[2])

    async def save_person(self, person: Person) -> None:
        key = person.key
        await self._run(lambda con: con.execute(
            "INSERT INTO people (platform, user_id, last_pack, check_all, updated_at) VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT (platform, user_id) DO UPDATE SET last_pack = excluded.last_pack,"
            " check_all = excluded.check_all, updated_at = excluded.updated_at",
            key.platform, key.user_id, person.last_pack, person.check_all, person.updated_at or datetime.now(UTC)))

    async def save_step(self, state: UserState, counters: tuple[str, ...] = ()) -> None:
        now = state.updated_at or datetime.now(UTC)
        key = state.key
        common = (
            key.platform, key.user_id, state.pack, state.guide_version, state.node, state.step,
            json.dumps(state.answers, separators=(",", ":")), json.dumps(state.history, separators=(",", ":")),
            state.pending, state.locale,
        )
        if state.rev == 0:
            sql, args = _INSERT_USER, (*common, state.created_at or now, now, now.date(), list(counters), state.language)
        else:
            sql, args = _UPDATE_USER, (*common, state.rev, now, now.date(), list(counters), state.language)
        if await self._run(lambda con: con.fetchval(sql, *args)) != 1:
            raise StaleStateError(f"{key.platform}:{key.user_id}:{state.pack}")  # nothing written, counters neither
        state.rev += 1

    async def get_language(self, key: UserKey) -> str | None:
        return await self._run(lambda con: con.fetchval(
            "SELECT language FROM users WHERE platform = $1 AND user_id = $2 AND language IS NOT NULL"
            " ORDER BY updated_at DESC LIMIT 1", key.platform, key.user_id))

    async def set_language(self, key: UserKey, language: str | None) -> int:
        return _count(await self._run(lambda con: con.execute(
            "UPDATE users SET language = $3, rev = rev + 1"
            " WHERE platform = $1 AND user_id = $2 AND language IS DISTINCT FROM $3",
            key.platform, key.user_id, language)))

    async def forget_user(self, key: UserKey) -> None:
        await self._in_transaction(lambda con: _erase(con, [key.platform], [key.user_id]))

    async def delete_inactive(self, before: datetime) -> int:
        return await self._in_transaction(lambda con: _delete_inactive(con, before))

    # Reminders --------------------------------------------------------------------------------
    async def schedule(self, rows: Iterable[NewReminder]) -> int:
        rows = list(rows)
        if not rows:
            return 0
        return _count(await self._run(lambda con: con.execute(_INSERT_REMINDERS, *_reminder_columns(rows))))

    async def subscribe(self, subscriber: Subscriber, deadline_ids: Iterable[str], rows: Iterable[NewReminder], *,
                        deadlines: bool = False, changes_seen: str | None = None) -> int:
        ids, new = list(deadline_ids), list(rows)
        return await self._in_transaction(lambda con: _subscribe(con, subscriber, ids, new, deadlines, changes_seen))

    async def replace_pending(self, row: NewReminder) -> int:
        to = row.recipient

        async def replace(con: asyncpg.Connection) -> int:
            await con.execute(
                "DELETE FROM reminders WHERE platform = $1 AND recipient_kind = $2 AND recipient_id = $3 AND pack = $4"
                " AND kind = $5 AND status = $6", to.platform, to.kind, to.id, row.pack, row.kind, PENDING)
            return _count(await con.execute(_INSERT_REMINDERS, *_reminder_columns([row])))

        return await self._in_transaction(replace)

    async def subscriptions(self, pack: str) -> dict[Subscriber, Following]:
        async def read(con: asyncpg.Connection) -> tuple[list, list]:
            scheduled = await con.fetch("SELECT platform, recipient_kind, recipient_id, scope, deadline_id"
                                        " FROM reminder_subs WHERE pack = $1", pack)
            follows = await con.fetch("SELECT platform, recipient_kind, recipient_id, scope, deadlines, changes_seen"
                                      " FROM reminder_follows WHERE pack = $1", pack)
            return scheduled, follows

        scheduled_rows, follow_rows = await self._in_transaction(read)
        scheduled: dict[Subscriber, set[str]] = {}
        for platform, rkind, rid, scope, deadline_id in scheduled_rows:
            scheduled.setdefault(Subscriber(Recipient(platform, rkind, rid), pack, scope), set()).add(deadline_id)
        subs = {sub: Following(scheduled=frozenset(ids)) for sub, ids in scheduled.items()}
        for platform, rkind, rid, scope, deadlines, seen in follow_rows:
            sub = Subscriber(Recipient(platform, rkind, rid), pack, scope)
            subs[sub] = Following(deadlines, seen, subs.get(sub, Following()).scheduled)
        return subs

    async def move_due(self, pack: str, kind: str, about: str, offset_s: int, due_at: datetime) -> int:
        return _count(await self._run(lambda con: con.execute(
            "UPDATE reminders SET due_at = $1 WHERE pack = $2 AND kind = $3 AND about = $4 AND offset_s = $5"
            " AND status = $6 AND due_at != $1", due_at, pack, kind, about, offset_s, PENDING)))

    async def pending(self, recipient: Recipient, pack: str) -> list[Reminder]:
        rows = await self._run(lambda con: con.fetch(
            f"SELECT {_REMINDER_COLUMNS} FROM reminders WHERE platform = $1 AND recipient_kind = $2"
            " AND recipient_id = $3 AND pack = $4 AND status = ANY($5::text[]) ORDER BY due_at, id",
            recipient.platform, recipient.kind, recipient.id, pack, [PENDING, SENDING]))
        return [_reminder(r) for r in rows]

    async def cancel(self, recipient: Recipient, pack: str | None = None) -> tuple[int, bool]:
        where = "platform = $1 AND recipient_kind = $2 AND recipient_id = $3" + (" AND pack = $4" if pack else "")
        params = (recipient.platform, recipient.kind, recipient.id, *((pack,) if pack else ()))

        async def cancel(con: asyncpg.Connection) -> tuple[int, bool]:
            cancelled = _count(await con.execute(
                f"DELETE FROM reminders WHERE {where} AND status = '{PENDING}'", *params))
            had = _count(await con.execute(f"DELETE FROM reminder_subs WHERE {where}", *params))
            had += _count(await con.execute(f"DELETE FROM reminder_follows WHERE {where}", *params))
            return cancelled, had > 0

        return await self._in_transaction(cancel)

    async def skip_pending(self, recipient: Recipient, pack: str, kind: str) -> int:
        return _count(await self._run(lambda con: con.execute(
            "UPDATE reminders SET status = $1 WHERE platform = $2 AND recipient_kind = $3 AND recipient_id = $4"
            " AND pack = $5 AND kind = $6 AND status = $7",
            SKIPPED, recipient.platform, recipient.kind, recipient.id, pack, kind, PENDING)))

    async def claim(self, now: datetime, limit: int, owner: str, lease_until: datetime,
                    platforms: Sequence[str], packs: Sequence[str]) -> list[Reminder]:
        if limit <= 0 or not platforms or not packs:
            return []
        # SKIP LOCKED: a row another instance is claiming right now is left to it, never waited for, so
        # concurrent claims split the due rows between them instead of queueing behind each other.
        rows = await self._run(lambda con: con.fetch(_CLAIM, owner, lease_until, list(packs), list(platforms), now, limit))
        return sorted((_reminder(r) for r in rows), key=lambda r: (r.due_at, r.id))

    async def extend_leases(self, owner: str, ids: Sequence[int], lease_until: datetime) -> int:
        if not ids:
            return 0
        return _count(await self._run(lambda con: con.execute(
            "UPDATE reminders SET lease_until = $1 WHERE owner = $2 AND status = $3 AND id = ANY($4::bigint[])",
            lease_until, owner, SENDING, list(ids))))

    async def record(self, owner: str, outcomes: Sequence[tuple[int, str]], sent: Counter[tuple[str, date]]) -> int:
        days, platforms, ns = [d for (_, d) in sent], [p for (p, _) in sent], list(sent.values())
        return await self._run(lambda con: con.fetchval(
            _RECORD, owner, [rid for rid, _ in outcomes], [status for _, status in outcomes], days, platforms, ns))

    async def release(self, rid: int, owner: str, due_at: datetime) -> bool:
        return _count(await self._run(lambda con: con.execute(
            "UPDATE reminders SET status = $1, due_at = $2, owner = NULL, lease_until = NULL WHERE id = $3 AND owner = $4",
            PENDING, due_at, rid, owner))) == 1

    async def next_due(self, platforms: Sequence[str], packs: Sequence[str]) -> datetime | None:
        if not platforms or not packs:
            return None
        # Two subqueries, each answered from its partial index; sent rows, which pile up, are never read.
        return await self._run(lambda con: con.fetchval(
            f"SELECT least((SELECT min(due_at) FROM reminders WHERE status = '{PENDING}' AND pack = ANY($1::text[])"
            f" AND platform = ANY($2::text[])), (SELECT min(lease_until) FROM reminders WHERE status = '{SENDING}'"
            f" AND pack = ANY($1::text[]) AND platform = ANY($2::text[])))",
            list(packs), list(platforms)))

    async def counts(self) -> dict[str, int]:
        rows = await self._run(lambda con: con.fetch("SELECT status, count(*) FROM reminders GROUP BY status"))
        return {status: n for status, n in rows}

    async def channel(self, platform: str, scope: str, pack: str) -> Recipient | None:
        row = await self._run(lambda con: con.fetchrow(
            "SELECT recipient_kind, recipient_id FROM reminder_follows WHERE platform = $1 AND scope = $2 AND pack = $3"
            " LIMIT 1", platform, scope, pack))
        return Recipient(platform, row[0], row[1]) if row else None

    async def unsubscribe_scope(self, platform: str, scope: str, pack: str | None = None) -> bool:
        # ($3 IS NULL): every pack.
        async def unsubscribe(con: asyncpg.Connection) -> bool:
            await con.execute("DELETE FROM reminders WHERE platform = $1 AND scope = $2 AND ($3::text IS NULL"
                              " OR pack = $3) AND status = $4", platform, scope, pack, PENDING)
            had = 0
            for table in ("reminder_subs", "reminder_follows"):
                had += _count(await con.execute(f"DELETE FROM {table} WHERE platform = $1 AND scope = $2"
                                                " AND ($3::text IS NULL OR pack = $3)", platform, scope, pack))
            return had > 0

        return await self._in_transaction(unsubscribe)

    # Counters and facts -----------------------------------------------------------------------
    async def funnel(self, since: date, until: date) -> dict[tuple[str, str], int]:
        rows = await self._run(lambda con: con.fetch(
            "SELECT platform, counter, sum(n)::bigint FROM funnel WHERE day BETWEEN $1 AND $2 GROUP BY platform, counter",
            since, until))
        return {(p, c): n for p, c, n in rows}

    async def add_counts(self, platform: str, counts: dict[str, int], day: date) -> None:
        # Sorted, as in a step: concurrent writers on one stripe lock its rows in one order.
        names = sorted(counts)
        await self._run(lambda con: con.execute(_ADD_COUNTS, day, platform, names, [counts[c] for c in names]))

    async def get_meta(self, name: str) -> str | None:
        return await self._run(lambda con: con.fetchval("SELECT value FROM meta WHERE name = $1", name))

    async def set_meta(self, name: str, value: str) -> None:
        await self._run(lambda con: con.execute(
            "INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            name, value))

    async def claim_update(self, platform: str, update_id: int, now: datetime, keep: timedelta) -> bool:
        expired = now - keep
        if update_id % CLEAN_UPDATES_EVERY == 0:
            await self._run(lambda con: con.execute("DELETE FROM seen_updates WHERE seen_at <= $1", expired))
        # The primary key decides between racing instances: one inserts, the others find its row.
        return await self._run(lambda con: con.fetchval(
            "INSERT INTO seen_updates (platform, update_id, seen_at) VALUES ($1, $2, $3)"
            " ON CONFLICT (platform, update_id) DO UPDATE SET seen_at = excluded.seen_at"
            " WHERE seen_updates.seen_at <= $4 RETURNING true", platform, update_id, now, expired)) is True

    async def take_lease(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        # One statement: the row lock of ON CONFLICT makes racing takers queue, and each sees the winner's row.
        return await self._run(lambda con: con.fetchval(
            "INSERT INTO leases (name, holder, until) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE"
            " SET holder = excluded.holder, until = excluded.until"
            " WHERE leases.holder = excluded.holder OR leases.until <= $4 RETURNING true",
            name, holder, until, now)) is True

    async def budget_members(self, pool: str, member: str, ttl: timedelta) -> int | None:
        # The database's clock on both sides of the comparison, so that instances' clocks need not agree.
        # Rows dead for a minute are dropped as it goes; a CTE's insert is not visible to the count, hence + 1.
        async def beat(con: asyncpg.Connection) -> int:
            await con.execute("DELETE FROM budget_members WHERE pool = $1 AND alive_until < clock_timestamp()"
                              " - interval '1 minute'", pool)
            return await con.fetchval(
                "WITH beat AS (INSERT INTO budget_members (pool, member, alive_until)"
                " VALUES ($1, $2, clock_timestamp() + $3) ON CONFLICT (pool, member)"
                " DO UPDATE SET alive_until = excluded.alive_until)"
                " SELECT count(*) + 1 FROM budget_members WHERE pool = $1 AND member <> $2"
                " AND alive_until > clock_timestamp()", pool, member, ttl)

        return int(await self._run(beat))

    async def leave_budget(self, pool: str, member: str) -> None:
        await self._run(lambda con: con.execute("DELETE FROM budget_members WHERE pool = $1 AND member = $2",
                                                pool, member))
    # The source watch -------------------------------------------------------------------------
    async def get_snapshot(self, pack: str, source_id: str) -> SourceSnapshot | None:
        row = await self._run(lambda con: con.fetchrow(
            "SELECT url, main_text, fetched_at, etag, last_modified FROM source_snapshots WHERE pack = $1 AND source_id = $2",
            pack, source_id))
        return None if row is None else SourceSnapshot(pack, source_id, row["url"], row["main_text"], row["fetched_at"],
                                                       row["etag"], row["last_modified"])

    async def put_snapshot(self, snapshot: SourceSnapshot) -> None:
        s = snapshot
        await self._run(lambda con: con.execute(
            "INSERT INTO source_snapshots (pack, source_id, url, main_text, fetched_at, etag, last_modified)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (pack, source_id) DO UPDATE SET url = excluded.url,"
            " main_text = excluded.main_text, fetched_at = excluded.fetched_at, etag = excluded.etag,"
            " last_modified = excluded.last_modified",
            s.pack, s.source_id, s.url, s.text, s.fetched_at, s.etag, s.last_modified))

    async def row_counts(self, tables: Sequence[str]) -> dict[str, int]:
        """Return {table: rows}, a funnel day's stripes counted as one row (for ``optout-bot db copy``)."""
        async def count(con: asyncpg.Connection) -> dict[str, int]:
            counts = {}
            for table in tables:
                rows = "(SELECT DISTINCT day, platform, counter FROM funnel) f" if table == "funnel" else f'"{table}"'
                counts[table] = await con.fetchval(f"SELECT count(*) FROM {rows}")
            return counts

        return await self._run(count)

    async def import_rows(self, rows: dict[str, tuple[list[str], list[tuple]]], *, replace: bool = False) -> None:
        """Insert {table: (columns, rows)} in one transaction: into empty tables, or emptied ones with ``replace``.

        Funnel totals go to stripe 0; reminders keep their ids, and new ones are numbered after them.
        """
        return await self._in_transaction(lambda con: _import(con, rows, replace, self._target.where))

    async def ping(self) -> bool:
        try:
            return await self._run(lambda con: con.fetchval("SELECT 1")) == 1
        except StorageError:
            return False


# Transactions ----------------------------------------------------------------------------------------
async def _user_tables(con: asyncpg.Connection) -> list[str]:
    return [name for (name,) in await con.fetch(_USER_TABLES)]


async def _erase(con: asyncpg.Connection, platforms: list[str], user_ids: list[str]) -> None:
    for table in await _user_tables(con):
        await con.execute(f'DELETE FROM "{table}" WHERE {_people(1)}', platforms, user_ids)


async def _delete_inactive(con: asyncpg.Connection, before: datetime) -> int:
    people = await con.fetch(_IDLE_PEOPLE.format(where=""), before)
    if not people:
        return 0
    platforms, user_ids = [p for p, _ in people], [u for _, u in people]
    # Lock their rows, then look again: a step another instance committed meanwhile keeps that person.
    for table in ("users", "people"):
        await con.execute(f"SELECT 1 FROM {table} WHERE {_people(1)} FOR UPDATE", platforms, user_ids)
    people = await con.fetch(_IDLE_PEOPLE.format(where=f"WHERE {_people(2)}"), before, platforms, user_ids)
    if people:
        await _erase(con, [p for p, _ in people], [u for _, u in people])
    return len(people)


async def _subscribe(con: asyncpg.Connection, sub: Subscriber, deadline_ids: list[str], rows: list[NewReminder],
                     deadlines: bool, changes_seen: str | None) -> int:
    to = sub.recipient
    if sub.scope is not None:
        # A scope has one channel per pack: moving it drops what was scheduled for the old one.
        other = "platform = $1 AND scope = $2 AND pack = $3 AND NOT (recipient_kind = $4 AND recipient_id = $5)"
        params = (to.platform, sub.scope, sub.pack, to.kind, to.id)
        await con.execute(f"DELETE FROM reminders WHERE {other} AND status = '{PENDING}'", *params)
        await con.execute(f"DELETE FROM reminder_subs WHERE {other}", *params)
        await con.execute(f"DELETE FROM reminder_follows WHERE {other}", *params)
    if deadlines or changes_seen is not None:
        await con.execute(
            "INSERT INTO reminder_follows (platform, recipient_kind, recipient_id, pack, user_id, scope, deadlines,"
            " changes_seen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
            " ON CONFLICT (platform, recipient_kind, recipient_id, pack) DO UPDATE SET"
            " deadlines = reminder_follows.deadlines OR excluded.deadlines,"
            " changes_seen = coalesce(excluded.changes_seen, reminder_follows.changes_seen)",
            to.platform, to.kind, to.id, sub.pack, _user_id(to), sub.scope, deadlines, changes_seen)
    if deadline_ids:
        await con.execute(
            "INSERT INTO reminder_subs (platform, recipient_kind, recipient_id, pack, deadline_id, user_id, scope)"
            " SELECT $1, $2, $3, $4, d, $5, $6 FROM unnest($7::text[]) AS d ON CONFLICT DO NOTHING",
            to.platform, to.kind, to.id, sub.pack, _user_id(to), sub.scope, deadline_ids)
    if not rows:
        return 0
    return _count(await con.execute(_INSERT_REMINDERS, *_reminder_columns(rows)))


async def _import(con: asyncpg.Connection, rows: dict[str, tuple[list[str], list[tuple]]], replace: bool,
                  where: str) -> None:
    tables = ", ".join(f'"{t}"' for t in rows)
    # No instance may write while the copy runs: it would be lost by --replace, or refused for a key.
    await con.execute(f"LOCK TABLE {tables} IN EXCLUSIVE MODE")
    held = {t: n for t in rows if (n := await con.fetchval(f'SELECT count(*) FROM "{t}"'))}
    if held and not replace:
        said = ", ".join(f"{t} {n}" for t, n in held.items())
        raise StorageError(f"DATABASE_URL: the database at {where} is not empty ({said} rows); copy into an empty"
                           " database, or pass --replace to empty it first")
    if held:
        await con.execute(f"TRUNCATE {tables} RESTART IDENTITY")
    for table, (columns, data) in rows.items():
        if table == "funnel":
            columns, data = [*columns, "stripe"], [(*row, 0) for row in data]
        if not data:
            continue
        names = ", ".join(f'"{c}"' for c in columns)
        marks = ", ".join(f"${i}" for i in range(1, len(columns) + 1))
        keep_ids = " OVERRIDING SYSTEM VALUE" if table == "reminders" else ""
        await con.executemany(f'INSERT INTO "{table}" ({names}){keep_ids} VALUES ({marks})', data)
    if "reminders" in rows:
        await con.execute("SELECT setval(pg_get_serial_sequence('reminders', 'id'),"
                          " coalesce((SELECT max(id) FROM reminders), 0) + 1, false)")


async def _migrate(con: asyncpg.Connection, create: bool, target: Target) -> int:
    # Transaction-scoped: two instances starting together take turns, and the second finds the work done.
    await con.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
    if await con.fetchval("SELECT to_regclass('schema_migrations')") is None:
        if not create:
            # Read-only commands (optout-bot stats) must not lay out a schema where the operator mistyped a URL.
            raise StorageError(f"DATABASE_URL: no bot schema in {target.where} (has the bot run with this setting?)")
        await con.execute("CREATE TABLE schema_migrations (version integer PRIMARY KEY,"
                          " applied_at timestamptz NOT NULL DEFAULT now())")
    version = await con.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations")
    if version > len(MIGRATIONS):
        raise newer_schema(version, len(MIGRATIONS))
    for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
        await con.execute(script)
        await con.execute("INSERT INTO schema_migrations (version) VALUES ($1)", number)
        log.info("database migrated to schema version %d", number)
    return len(MIGRATIONS)


async def open_postgres(url: str, *, create: bool = True) -> PostgresStorage:
    """Connect a pool to the database ``url`` names and bring its schema up to date."""
    target = Target.parse(url)
    try:
        pool = await asyncpg.create_pool(
            target.dsn, password=target.password, min_size=1, max_size=POOL_SIZE, reset=_keep_session,
            timeout=CONNECT_TIMEOUT_S, server_settings=target.settings,
        )
    except DATABASE_ERRORS as exc:
        raise target.error(exc) from None
    except ValueError as exc:  # asyncpg's own parsing of the rest of the URL
        raise StorageError(target.scrub(f"DATABASE_URL: cannot use {target.where}: {exc}")) from None
    storage = PostgresStorage(pool, target)
    try:
        await storage.migrate(create)
    except BaseException:
        await storage.close()
        raise
    log.info("database: PostgreSQL at %s", target.where)
    return storage
