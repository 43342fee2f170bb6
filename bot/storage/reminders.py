"""Reminder rows in SQLite: schedule without duplicates, claim under a lease, record the outcome.

Every write is one ``BEGIN IMMEDIATE`` transaction, so two bot processes on one database file (a
redeploy overlapping the old copy, or two copies started by mistake) serialise their claims and
never both take the same reminder. A claim is a lease: a process that dies while holding it leaves
the row ``sending`` until ``lease_until``, after which any process may claim it again. That is the
only case a reminder can repeat, and only once per crash.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import aiosqlite

from bot.storage.sqlite import SqliteStorage, from_db_time, to_db_time

PENDING, SENDING, SENT = "pending", "sending", "sent"
SKIPPED, FAILED, UNREACHABLE = "skipped", "failed", "unreachable"

GUILD_PREFIX = "guild:"


@dataclass(frozen=True, slots=True)
class NewReminder:
    """A reminder to schedule. ``about`` is the deadline id (or the due day of a check-back)."""

    recipient: str
    user_key: str | None  # the recipient for a user; None for a Discord server
    platform: str
    kind: str
    about: str
    offset_s: int
    due_at: datetime


@dataclass(frozen=True, slots=True)
class Reminder:
    id: int
    recipient: str
    platform: str
    kind: str
    about: str
    offset_s: int
    due_at: datetime
    status: str
    attempts: int


_COLUMNS = "id, recipient, platform, kind, about, offset_s, due_at, status, attempts"


def _row(row: Sequence) -> Reminder:
    rid, recipient, platform, kind, about, offset_s, due, status, attempts = row
    return Reminder(rid, recipient, platform, kind, about, offset_s, from_db_time(due), status, attempts)


def _marks(n: int) -> str:
    return ",".join("?" * n)


class ReminderStore:
    """The reminder queries, over a ``SqliteStorage`` connection and its write transactions."""

    def __init__(self, storage: SqliteStorage) -> None:
        self._storage = storage

    async def _read(self, sql: str, params: Sequence[object] = ()) -> list[Sequence]:
        # One hop to the database thread for the whole read: a cursor left open between hops would
        # keep a statement in progress while another task's write commits on the same connection.
        return list(await self._storage.connection.execute_fetchall(sql, params))

    # Scheduling -------------------------------------------------------------------------------
    async def subscribe(self, recipient: str, user_key: str | None, deadline_ids: Iterable[str],
                        rows: Iterable[NewReminder]) -> int:
        """Record that ``recipient`` follows these deadlines and schedule ``rows``; return how many are new."""
        async with self._storage.transaction() as db:
            await db.executemany(
                "INSERT INTO reminder_subs (recipient, deadline_id, user_key) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                [(recipient, d, user_key) for d in deadline_ids],
            )
            return await self._insert(db, rows)

    async def schedule(self, rows: Iterable[NewReminder]) -> int:
        """Insert reminders whose unique key is not taken yet; return how many were new."""
        async with self._storage.transaction() as db:
            return await self._insert(db, rows)

    @staticmethod
    async def _insert(db: aiosqlite.Connection, rows: Iterable[NewReminder]) -> int:
        before = db.total_changes
        # The unique key (recipient, kind, about, offset_s) is what makes a restart, a redeploy or a
        # second copy unable to schedule one reminder twice.
        await db.executemany(
            "INSERT INTO reminders (recipient, user_key, platform, kind, about, offset_s, due_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [(r.recipient, r.user_key, r.platform, r.kind, r.about, r.offset_s, to_db_time(r.due_at)) for r in rows],
        )
        return db.total_changes - before

    async def replace_pending(self, recipient: str, kind: str, row: NewReminder) -> int:
        """Drop the recipient's pending reminders of ``kind`` and schedule ``row`` instead; return 1 if new."""
        async with self._storage.transaction() as db:
            await db.execute("DELETE FROM reminders WHERE recipient = ? AND kind = ? AND status = ?",
                             (recipient, kind, PENDING))
            return await self._insert(db, [row])

    async def subscriptions(self) -> dict[str, set[str]]:
        """Return {recipient: the deadline ids it has been scheduled for}."""
        subs: dict[str, set[str]] = {}
        for recipient, deadline_id in await self._read("SELECT recipient, deadline_id FROM reminder_subs"):
            subs.setdefault(recipient, set()).add(deadline_id)
        return subs

    async def move_due(self, kind: str, about: str, offset_s: int, due_at: datetime) -> int:
        """Give pending reminders of one deadline offset a new due time (the deadline moved)."""
        async with self._storage.transaction() as db:
            cur = await db.execute(
                "UPDATE reminders SET due_at = ? WHERE kind = ? AND about = ? AND offset_s = ? AND status = ?"
                " AND due_at != ?",
                (to_db_time(due_at), kind, about, offset_s, PENDING, to_db_time(due_at)),
            )
            return cur.rowcount

    # Reading and cancelling ------------------------------------------------------------------
    async def pending(self, recipient: str) -> list[Reminder]:
        rows = await self._read(
            f"SELECT {_COLUMNS} FROM reminders WHERE recipient = ? AND status IN (?, ?) ORDER BY due_at",
            (recipient, PENDING, SENDING),
        )
        return [_row(r) for r in rows]

    async def is_subscribed(self, recipient: str) -> bool:
        return bool(await self._read("SELECT 1 FROM reminder_subs WHERE recipient = ? LIMIT 1", (recipient,)))

    async def cancel(self, recipient: str) -> tuple[int, bool]:
        """Delete the recipient's pending reminders and subscriptions; return (reminders, had subscriptions)."""
        async with self._storage.transaction() as db:
            cur = await db.execute("DELETE FROM reminders WHERE recipient = ? AND status = ?", (recipient, PENDING))
            cancelled = cur.rowcount
            cur = await db.execute("DELETE FROM reminder_subs WHERE recipient = ?", (recipient,))
            return cancelled, cur.rowcount > 0

    async def skip_pending(self, recipient: str, kind: str) -> int:
        """Mark the recipient's pending reminders of ``kind`` skipped (kept, so they are not scheduled again)."""
        async with self._storage.transaction() as db:
            cur = await db.execute(
                "UPDATE reminders SET status = ? WHERE recipient = ? AND kind = ? AND status = ?",
                (SKIPPED, recipient, kind, PENDING),
            )
            return cur.rowcount

    # Claiming and recording ------------------------------------------------------------------
    async def claim_due(self, now: datetime, limit: int, owner: str, lease_until: datetime,
                        platforms: Sequence[str]) -> list[Reminder]:
        """Claim up to ``limit`` due reminders (or ones whose claim lapsed) for ``owner``, oldest first."""
        if limit <= 0 or not platforms:
            return []
        t = to_db_time(now)
        async with self._storage.transaction() as db:
            # One UPDATE ... RETURNING claims a whole batch atomically: inside BEGIN IMMEDIATE no other
            # process can take the same rows, and a batch costs one transaction instead of one per row.
            claimed = await db.execute_fetchall(
                f"UPDATE reminders SET status = ?, owner = ?, lease_until = ?, attempts = attempts + 1"
                f" WHERE id IN (SELECT id FROM reminders WHERE platform IN ({_marks(len(platforms))})"
                f" AND ((status = ? AND due_at <= ?) OR (status = ? AND lease_until < ?)) ORDER BY due_at LIMIT ?)"
                f" RETURNING {_COLUMNS}",
                (SENDING, owner, to_db_time(lease_until), *platforms, PENDING, t, SENDING, t, limit),
            )
            rows = [_row(r) for r in claimed]
        return sorted(rows, key=lambda r: (r.due_at, r.id))

    async def extend_leases(self, owner: str, ids: Sequence[int], lease_until: datetime) -> int:
        """Keep the claims of reminders still in flight (queued behind the platform's rate limiter)."""
        if not ids:
            return 0
        async with self._storage.transaction() as db:
            cur = await db.execute(
                f"UPDATE reminders SET lease_until = ? WHERE owner = ? AND status = ? AND id IN ({_marks(len(ids))})",
                (to_db_time(lease_until), owner, SENDING, *ids),
            )
            return cur.rowcount

    async def finish(self, rid: int, owner: str, status: str, counted: tuple[str, date] | None = None) -> bool:
        """Record a claimed reminder's outcome (and count it in the funnel when sent)."""
        return await self.finish_many(owner, [(rid, status)], Counter([counted] if counted else [])) == 1

    async def finish_many(self, owner: str, outcomes: Sequence[tuple[int, str]],
                          sent: Counter[tuple[str, date]]) -> int:
        """Record claimed reminders' outcomes and add ``sent`` {(platform, day): n} to the funnel, in one
        transaction; return how many claims were still ``owner``'s."""
        async with self._storage.transaction() as db:
            before = db.total_changes
            await db.executemany(
                "UPDATE reminders SET status = ?, owner = NULL, lease_until = NULL WHERE id = ? AND owner = ?",
                [(status, rid, owner) for rid, status in outcomes],
            )
            recorded = db.total_changes - before
            await db.executemany(
                "INSERT INTO funnel (day, platform, counter, n) VALUES (?, ?, 'reminder_sent', ?)"
                " ON CONFLICT(day, platform, counter) DO UPDATE SET n = n + excluded.n",
                [(day.isoformat(), platform, n) for (platform, day), n in sent.items()],
            )
            return recorded

    async def retry_at(self, rid: int, owner: str, due_at: datetime) -> bool:
        """Put a claimed reminder back in the queue to be tried again at ``due_at``."""
        async with self._storage.transaction() as db:
            cur = await db.execute(
                "UPDATE reminders SET status = ?, due_at = ?, owner = NULL, lease_until = NULL WHERE id = ? AND owner = ?",
                (PENDING, to_db_time(due_at), rid, owner),
            )
            return cur.rowcount == 1

    async def next_due(self, platforms: Sequence[str]) -> datetime | None:
        """Return when the next reminder falls due (or a lapsed claim may be taken over)."""
        if not platforms:
            return None
        marks = _marks(len(platforms))
        ((first,),) = await self._read(
            f"SELECT MIN(t) FROM (SELECT MIN(due_at) AS t FROM reminders WHERE status = ? AND platform IN ({marks})"
            f" UNION ALL SELECT MIN(lease_until) FROM reminders WHERE status = ? AND platform IN ({marks}))",
            (PENDING, *platforms, SENDING, *platforms),
        )
        return from_db_time(first) if first else None

    async def counts(self) -> dict[str, int]:
        """Return {status: number of reminders}: for tests, benchmarks and operators."""
        return {s: n for s, n in await self._read("SELECT status, COUNT(*) FROM reminders GROUP BY status")}

    # Discord announcement channels ------------------------------------------------------------
    async def set_channel(self, guild_id: str, channel_id: str, now: datetime) -> None:
        async with self._storage.transaction() as db:
            await db.execute(
                "INSERT INTO announce_channels (guild_id, channel_id, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT(guild_id) DO UPDATE SET channel_id = excluded.channel_id",
                (guild_id, channel_id, to_db_time(now)),
            )

    async def remove_channel(self, guild_id: str) -> bool:
        """Stop a server's announcements: forget its channel and pending announcements; False if it had none."""
        recipient = GUILD_PREFIX + guild_id
        async with self._storage.transaction() as db:
            cur = await db.execute("DELETE FROM announce_channels WHERE guild_id = ?", (guild_id,))
            existed = cur.rowcount > 0
            await db.execute("DELETE FROM reminders WHERE recipient = ? AND status = ?", (recipient, PENDING))
            await db.execute("DELETE FROM reminder_subs WHERE recipient = ?", (recipient,))
        return existed

    async def channel(self, guild_id: str) -> str | None:
        rows = await self._read("SELECT channel_id FROM announce_channels WHERE guild_id = ?", (guild_id,))
        return rows[0][0] if rows else None
