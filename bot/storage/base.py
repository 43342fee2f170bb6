"""The storage ports: one interface per concern. Every backend passes the contract suites in tests/storage.

- ``UserStore``: where each user is in a guide pack (read, revision-checked save, erase, retention);
- ``ReminderQueue``: reminders and subscriptions (schedule, claim under a lease, record, release) and the
  channels that receive a server's announcements;
- ``CounterStore``: the anonymous funnel, small facts the bot keeps about itself, and a liveness ping;
- ``Coordination``: what several instances on one database agree on (who runs a once-at-a-time job);
- ``SourceSnapshots``: the main text of each guide source as the content watch last read it.

A backend (a ``Storage``) implements all three over one database; one call is one transaction.
"""

from __future__ import annotations

import abc
import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.events import Recipient, UserKey


class StorageError(Exception):
    """The database cannot be opened or used; str() is one line that says what to fix."""


class StaleStateError(Exception):
    """The user's row changed or vanished since it was read (another process wrote or erased it): read again and redo."""


def newer_schema(found: int, known: int) -> StorageError:
    """The one line every backend gives when the database was migrated by a newer bot."""
    return StorageError(
        f"DATABASE_URL: the database schema is version {found}, newer than this bot knows ({known}): "
        "upgrade the bot or point DATABASE_URL at another database"
    )


@dataclass
class UserState:
    """Where one user is in one guide pack. Nothing here is text the user typed."""

    key: UserKey
    pack: str  # the guide pack (e.g. "claude"): one person's answers in two packs never mix
    guide_version: str
    node: str
    step: int = 0
    answers: dict[str, str] = field(default_factory=dict)
    # For Back: the nodes left behind, each with the answers as they were before leaving it.
    history: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    # A confirmation or menu the user was shown and may answer next ("forget", "remind").
    pending: str | None = None
    # The platform's language hint (Telegram language_code, Discord locale), if it gave one.
    locale: str | None = None
    # The language the person chose with /language (a code of bot.i18n.LANGUAGES); it beats the hint.
    # The same on every row of the person: UserStore.set_language writes it to all their packs.
    language: str | None = None
    # How many times the row was written (0: never); a save succeeds only if the stored row still has it.
    rev: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None


def state_from_row(key: UserKey, pack: str, row: Sequence, when: Callable[[object], datetime] = lambda t: t) -> UserState:
    """A user's state from the users table's columns as both SQL backends read them (``when``: the
    backend's stored time to a datetime)."""
    version, node, step, answers, history, pending, locale, rev, created, updated, language = row
    return UserState(
        key=key, pack=pack, guide_version=version, node=node, step=step, answers=json.loads(answers),
        history=[(n, a) for n, a in json.loads(history)], pending=pending, locale=locale, language=language,
        rev=rev, created_at=when(created), updated_at=when(updated),
    )


@dataclass
class Person:
    """What the bot keeps about a person beside their rows in each pack: which pack they moved in last (the
    pack their commands and typed messages go to), and the record of "Check all my assistants"."""

    key: UserKey
    last_pack: str | None = None
    # bot.conversation.check_all's record, as that module writes it (JSON); opaque to storage.
    check_all: str | None = None
    updated_at: datetime | None = None


class UserStore(abc.ABC):
    @abc.abstractmethod
    async def get_user(self, key: UserKey, pack: str) -> UserState | None: ...

    async def load(self, key: UserKey, pack: str | None, default: str | None = None) -> tuple[Person, UserState | None]:
        """The person, and their row in ``pack`` (None: in the pack they moved in last, else in ``default``;
        no row if they have none there).

        What a step reads: the person record and at most one user row, whatever the number of packs.
        """
        person = await self.get_person(key) or Person(key)
        pack = pack or person.last_pack or default
        return person, (await self.get_user(key, pack) if pack else None)

    @abc.abstractmethod
    async def get_person(self, key: UserKey) -> Person | None:
        """The person's record, or None when there is none (erased with every other row by forget_user)."""

    @abc.abstractmethod
    async def save_person(self, person: Person) -> None:
        """Store the person's record (the last write wins: it holds a pointer and a menu's progress, and
        a step's own row is revision-checked). Retention counts it as activity like a user row."""

    @abc.abstractmethod
    async def save_step(self, state: UserState, counters: tuple[str, ...] = ()) -> None:
        """Store the user's state and add one to each funnel counter, in one transaction.

        ``rev`` 0 creates the row; any other ``rev`` must find the stored row at that revision. If the
        row exists already, or no longer exists, or was written since, raise StaleStateError (nothing
        is written): so a user erased by another process is never written back. On success
        ``state.rev`` is the new revision.
        """

    @abc.abstractmethod
    async def get_language(self, key: UserKey) -> str | None:
        """The language the person chose, read from any of their rows (most recent first); None if none."""

    @abc.abstractmethod
    async def set_language(self, key: UserKey, language: str | None) -> int:
        """Put the person's chosen language on every row of theirs (every pack); return how many rows changed.

        A changed row's ``rev`` goes up, so a step decided on an older read of that row is redone
        (StaleStateError) rather than writing the old choice back. Rows already holding it are left alone.
        """

    @abc.abstractmethod
    async def forget_user(self, key: UserKey) -> None:
        """Delete every row about this person: every pack, their reminders and subscriptions."""

    @abc.abstractmethod
    async def delete_inactive(self, before: datetime) -> int:
        """Delete people (every row about them) not active in any pack since ``before``; return how many."""


# Reminders ------------------------------------------------------------------------------------
PENDING, SENDING, SENT = "pending", "sending", "sent"
SKIPPED, FAILED, UNREACHABLE = "skipped", "failed", "unreachable"


@dataclass(frozen=True, slots=True)
class NewReminder:
    """A reminder to schedule. ``about`` is the deadline id (or the due day of a check-back).

    ``scope`` is set for a channel subscription: the opaque key (a Discord server's id) under which the
    platform's admins turn announcements on and off.
    """

    recipient: Recipient
    pack: str
    kind: str
    about: str
    offset_s: int
    due_at: datetime
    scope: str | None = None


@dataclass(frozen=True, slots=True)
class Reminder:
    id: int
    recipient: Recipient
    pack: str
    scope: str | None
    kind: str
    about: str
    offset_s: int
    due_at: datetime
    status: str
    attempts: int


@dataclass(frozen=True, slots=True)
class Subscriber:
    recipient: Recipient
    pack: str
    scope: str | None = None


@dataclass(frozen=True, slots=True)
class Following:
    """What a subscriber follows in a pack, and what it has been scheduled for."""

    deadlines: bool = False  # the pack's deadlines, those a maintainer adds later too
    changes_seen: str | None = None  # the pack's changes (None: not followed); the version it had seen
    scheduled: frozenset[str] = frozenset()  # the deadline ids it has been scheduled for


class ReminderQueue(abc.ABC):
    """Reminders keyed by (recipient, pack, kind, about, offset): scheduling one twice is a no-op."""

    # Scheduling -------------------------------------------------------------------------------
    @abc.abstractmethod
    async def schedule(self, rows: Iterable[NewReminder]) -> int:
        """Insert reminders whose unique key is not taken yet; return how many were new."""

    @abc.abstractmethod
    async def subscribe(self, subscriber: Subscriber, deadline_ids: Iterable[str], rows: Iterable[NewReminder], *,
                        deadlines: bool = False, changes_seen: str | None = None) -> int:
        """Record that the subscriber has been scheduled for these deadlines, and schedule ``rows``; with
        ``deadlines``, that it follows the pack's deadlines (new ones too); with ``changes_seen``, that it
        follows the pack's changes and has seen that version. A flag set once stays set. Return how
        many rows are new.

        With a ``scope`` (a channel subscription), the scope's earlier channel in that pack, its
        subscriptions and pending reminders, are replaced in the same transaction.
        """

    @abc.abstractmethod
    async def replace_pending(self, row: NewReminder) -> int:
        """Drop the recipient's pending reminders of ``row.kind`` in its pack and schedule ``row``; return 1 if new."""

    @abc.abstractmethod
    async def subscriptions(self, pack: str) -> dict[Subscriber, Following]:
        """Return {subscriber: what it follows and has been scheduled for} in one pack."""

    @abc.abstractmethod
    async def move_due(self, pack: str, kind: str, about: str, offset_s: int, due_at: datetime) -> int:
        """Give pending reminders of one deadline offset a new due time (the deadline moved); return how many."""

    # Reading and cancelling ------------------------------------------------------------------
    @abc.abstractmethod
    async def pending(self, recipient: Recipient, pack: str) -> list[Reminder]:
        """Return the recipient's pending and in-flight reminders in a pack, soonest first."""

    @abc.abstractmethod
    async def cancel(self, recipient: Recipient, pack: str | None = None) -> tuple[int, bool]:
        """Delete the recipient's pending reminders and subscriptions (in one pack, or all); return
        (reminders deleted, whether it had subscriptions)."""

    @abc.abstractmethod
    async def skip_pending(self, recipient: Recipient, pack: str, kind: str) -> int:
        """Mark pending reminders of ``kind`` skipped (kept, so they are not scheduled again); return how many."""

    # Claiming and recording ------------------------------------------------------------------
    @abc.abstractmethod
    async def claim(self, now: datetime, limit: int, owner: str, lease_until: datetime,
                    platforms: Sequence[str], packs: Sequence[str]) -> list[Reminder]:
        """Claim up to ``limit`` due reminders of these packs (or ones whose lease lapsed) for ``owner``, oldest first.

        No two callers, in this process or another, ever hold a claim on one reminder at once.
        """

    @abc.abstractmethod
    async def extend_leases(self, owner: str, ids: Sequence[int], lease_until: datetime) -> int:
        """Keep ``owner``'s claims on these reminders (still in flight); return how many were still its."""

    @abc.abstractmethod
    async def record(self, owner: str, outcomes: Sequence[tuple[int, str]], sent: Counter[tuple[str, date]]) -> int:
        """Record claimed reminders' outcomes and add ``sent`` {(platform, day): n} to the funnel's
        ``reminder_sent``, in one transaction; return how many claims were still ``owner``'s."""

    @abc.abstractmethod
    async def release(self, rid: int, owner: str, due_at: datetime) -> bool:
        """Put a claimed reminder back in the queue, due at ``due_at``; False if the claim was no longer ours."""

    @abc.abstractmethod
    async def next_due(self, platforms: Sequence[str], packs: Sequence[str]) -> datetime | None:
        """Return when the next reminder of these packs falls due (or a lapsed claim may be taken over)."""

    @abc.abstractmethod
    async def counts(self) -> dict[str, int]:
        """Return {status: number of reminders}: for tests, benchmarks and operators."""

    # Channels that receive a scope's announcements -------------------------------------------
    @abc.abstractmethod
    async def channel(self, platform: str, scope: str, pack: str) -> Recipient | None:
        """Return the channel that receives the scope's announcements in a pack, if any."""

    @abc.abstractmethod
    async def unsubscribe_scope(self, platform: str, scope: str, pack: str | None = None) -> bool:
        """Stop a scope's announcements in one pack, or every pack (subscriptions and pending reminders);
        False if it had none."""


# Counters and facts about the bot ----------------------------------------------------------------
class CounterStore(abc.ABC):
    @abc.abstractmethod
    async def funnel(self, since: date, until: date) -> dict[tuple[str, str], int]:
        """Return {(platform, counter): total} for days in [since, until]."""

    @abc.abstractmethod
    async def add_counts(self, platform: str, counts: dict[str, int], day: date) -> None:
        """Add to anonymous daily counters that belong to no user's step (share cards sent, panel presses)."""

    @abc.abstractmethod
    async def get_meta(self, name: str) -> str | None: ...

    @abc.abstractmethod
    async def set_meta(self, name: str, value: str) -> None: ...

    @abc.abstractmethod
    async def ping(self) -> bool:
        """Return True when the database answers."""


# Several instances on one database ---------------------------------------------------------------
# Update ids grow one by one, so a claim whose id is a multiple of this also drops the expired claims:
# the table stays small without a timer or a statement more per update.
CLEAN_UPDATES_EVERY = 500


class Coordination(abc.ABC):
    @abc.abstractmethod
    async def take_lease(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        """Hold the lease ``name`` for ``holder`` until ``until`` if it is free (never taken, or lapsed by
        ``now``) or ``holder``'s already; return whether ``holder`` now holds it.

        Of any number of callers racing for a free lease, in this process or another, exactly one wins.
        """

    @abc.abstractmethod
    async def claim_update(self, platform: str, update_id: int, now: datetime, keep: timedelta) -> bool:
        """Record that a platform update is being handled; False if it was claimed within ``keep`` before ``now``.

        Of several instances handed one update (a platform's retry reaching another instance), exactly
        one gets True. Claims older than ``keep`` are forgotten: the backend drops them as it goes.
        """

    # Not abstract: a backend only one process uses (SQLite, memory) has nobody to share with.
    async def budget_members(self, pool: str, member: str, ttl: timedelta) -> int | None:
        """Heartbeat: mark ``member`` of ``pool`` alive for ``ttl`` from now, on the database's clock (instances'
        clocks may differ), and return how many members are alive, ``member`` included.

        None: this backend serves one process, which has the whole budget (the default).
        """
        return None

    async def leave_budget(self, pool: str, member: str) -> None:
        """Drop ``member`` from ``pool`` (a clean stop), so the others take its share at their next heartbeat."""
        return None  # the default backend keeps no pool


# The source watch ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SourceSnapshot:
    """The main text of a pack's source as last read, and what the server said to send back next time."""

    pack: str
    source_id: str
    url: str  # the address it was read from: a snapshot of another address is no baseline
    text: str
    fetched_at: datetime
    etag: str | None = None
    last_modified: str | None = None


class SourceSnapshots(abc.ABC):
    """One snapshot per (pack, source id), kept by ``optout-bot content watch``; nothing about users."""

    @abc.abstractmethod
    async def get_snapshot(self, pack: str, source_id: str) -> SourceSnapshot | None: ...

    @abc.abstractmethod
    async def put_snapshot(self, snapshot: SourceSnapshot) -> None:
        """Store the snapshot, replacing the one of its (pack, source id)."""


class Storage(UserStore, ReminderQueue, CounterStore, Coordination, SourceSnapshots):
    """A backend: one database behind all five ports."""

    @abc.abstractmethod
    async def close(self) -> None: ...

