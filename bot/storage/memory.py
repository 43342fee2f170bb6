"""The in-memory backend (``DATABASE_URL=memory://``): for tests and a terminal chat that keeps nothing.

Nothing survives the process. Each call runs without awaiting, so on one event loop it is as atomic as
a transaction; the contract suites in tests/storage hold it to the same behaviour as SQLite.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

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
    Subscriber,
    UserState,
)

_UserName = tuple[str, str, str]  # platform, user id, pack


@dataclass
class _Row:
    new: NewReminder
    status: str = PENDING
    attempts: int = 0
    owner: str | None = None
    lease_until: datetime | None = None

    def key(self) -> tuple:
        n = self.new
        return n.recipient, n.pack, n.kind, n.about, n.offset_s


class MemoryStorage(Storage):
    def __init__(self) -> None:
        self._users: dict[_UserName, UserState] = {}
        self._people: dict[tuple[str, str], Person] = {}
        self._funnel: Counter[tuple[str, str, str]] = Counter()  # (day, platform, counter)
        self._meta: dict[str, str] = {}
        self._leases: dict[str, tuple[str, datetime]] = {}  # name -> (holder, until)
        self._updates: dict[tuple[str, int], datetime] = {}  # (platform, update id) -> when claimed
        self._reminders: dict[int, _Row] = {}
        self._unique: dict[tuple, int] = {}
        self._next_id = 1
        # (recipient, pack, deadline id) -> the scope of a channel subscription (None for a user's)
        self._subs: dict[tuple[Recipient, str, str], str | None] = {}
        self._snapshots: dict[tuple[str, str], SourceSnapshot] = {}
        # (recipient, pack) -> (scope, follows the deadlines, the version of the changes it had seen)
        self._follows: dict[tuple[Recipient, str], tuple[str | None, bool, str | None]] = {}
        self._open = True

    async def close(self) -> None:
        self._open = False

    # Users ------------------------------------------------------------------------------------
    async def get_user(self, key: UserKey, pack: str) -> UserState | None:
        state = self._users.get((key.platform, key.user_id, pack))
        return copy.deepcopy(state) if state is not None else None

    async def save_step(self, state: UserState, counters: tuple[str, ...] = ()) -> None:
        name = (state.key.platform, state.key.user_id, state.pack)
        stored = self._users.get(name)
        if (stored is None and state.rev != 0) or (stored is not None and stored.rev != state.rev):
            raise StaleStateError(":".join(name))
        now = state.updated_at or datetime.now(UTC)
        saved = copy.deepcopy(state)
        saved.rev += 1
        saved.updated_at = now
        saved.created_at = stored.created_at if stored is not None else state.created_at or now
        self._users[name] = saved
        for counter in counters:
            self._funnel[(now.date().isoformat(), state.key.platform, counter)] += 1
        state.rev += 1

    async def get_person(self, key: UserKey) -> Person | None:
        person = self._people.get((key.platform, key.user_id))
        return replace(person) if person is not None else None

    async def save_person(self, person: Person) -> None:
        self._people[(person.key.platform, person.key.user_id)] = replace(person)

    async def get_language(self, key: UserKey) -> str | None:
        theirs = [s for (p, u, _), s in self._users.items() if (p, u) == (key.platform, key.user_id) and s.language]
        return max(theirs, key=lambda s: s.updated_at or datetime.min.replace(tzinfo=UTC)).language if theirs else None

    async def set_language(self, key: UserKey, language: str | None) -> int:
        changed = 0
        for (p, u, _), state in self._users.items():
            if (p, u) == (key.platform, key.user_id) and state.language != language:
                state.language = language
                state.rev += 1
                changed += 1
        return changed

    async def forget_user(self, key: UserKey) -> None:
        self._erase({(key.platform, key.user_id)})

    async def delete_inactive(self, before: datetime) -> int:
        last: dict[tuple[str, str], datetime] = {}
        for (platform, user_id, _), state in self._users.items():
            assert state.updated_at is not None
            person = (platform, user_id)
            last[person] = max(last.get(person, state.updated_at), state.updated_at)
        for person, record in self._people.items():
            if record.updated_at is not None:
                last[person] = max(last.get(person, record.updated_at), record.updated_at)
        people = {p for p, at in last.items() if at < before}
        self._erase(people)
        return len(people)

    def _erase(self, people: set[tuple[str, str]]) -> None:
        def theirs(r: Recipient) -> bool:
            return r.kind == "user" and (r.platform, r.id) in people

        self._users = {n: s for n, s in self._users.items() if n[:2] not in people}
        self._people = {n: p for n, p in self._people.items() if n not in people}
        for rid in [rid for rid, row in self._reminders.items() if theirs(row.new.recipient)]:
            self._drop(rid)
        self._subs = {k: v for k, v in self._subs.items() if not theirs(k[0])}
        self._follows = {k: v for k, v in self._follows.items() if not theirs(k[0])}

    # Reminders --------------------------------------------------------------------------------
    def _drop(self, rid: int) -> None:
        row = self._reminders.pop(rid)
        del self._unique[row.key()]

    def _insert(self, rows: Iterable[NewReminder]) -> int:
        added = 0
        for new in rows:
            row = _Row(new)
            if row.key() in self._unique:
                continue
            self._reminders[self._next_id] = row
            self._unique[row.key()] = self._next_id
            self._next_id += 1
            added += 1
        return added

    def _view(self, rid: int) -> Reminder:
        row = self._reminders[rid]
        n = row.new
        return Reminder(rid, n.recipient, n.pack, n.scope, n.kind, n.about, n.offset_s, n.due_at, row.status,
                        row.attempts)

    async def schedule(self, rows: Iterable[NewReminder]) -> int:
        return self._insert(rows)

    async def subscribe(self, subscriber: Subscriber, deadline_ids: Iterable[str], rows: Iterable[NewReminder], *,
                        deadlines: bool = False, changes_seen: str | None = None) -> int:
        to, pack, scope = subscriber.recipient, subscriber.pack, subscriber.scope
        if scope is not None:
            def moved(r: Recipient, p: str, s: str | None) -> bool:
                return r.platform == to.platform and s == scope and p == pack and r != to

            for rid in [rid for rid, row in self._reminders.items()
                        if row.status == PENDING and moved(row.new.recipient, row.new.pack, row.new.scope)]:
                self._drop(rid)
            self._subs = {k: v for k, v in self._subs.items() if not moved(k[0], k[1], v)}
            self._follows = {k: v for k, v in self._follows.items() if not moved(k[0], k[1], v[0])}
        for deadline_id in deadline_ids:
            self._subs.setdefault((to, pack, deadline_id), scope)
        if deadlines or changes_seen is not None:
            _, had_deadlines, had_seen = self._follows.get((to, pack), (scope, False, None))
            self._follows[(to, pack)] = (scope, had_deadlines or deadlines, changes_seen or had_seen)
        return self._insert(rows)

    async def replace_pending(self, row: NewReminder) -> int:
        for rid in [rid for rid, r in self._reminders.items() if r.status == PENDING and r.new.kind == row.kind
                    and r.new.recipient == row.recipient and r.new.pack == row.pack]:
            self._drop(rid)
        return self._insert([row])

    async def subscriptions(self, pack: str) -> dict[Subscriber, Following]:
        scheduled: dict[Subscriber, set[str]] = {}
        for (to, p, deadline_id), scope in self._subs.items():
            if p == pack:
                scheduled.setdefault(Subscriber(to, pack, scope), set()).add(deadline_id)
        subs = {sub: Following(scheduled=frozenset(ids)) for sub, ids in scheduled.items()}
        for (to, p), (scope, deadlines, seen) in self._follows.items():
            if p == pack:
                sub = Subscriber(to, pack, scope)
                subs[sub] = Following(deadlines, seen, subs.get(sub, Following()).scheduled)
        return subs

    async def move_due(self, pack: str, kind: str, about: str, offset_s: int, due_at: datetime) -> int:
        moved = 0
        for row in self._reminders.values():
            n = row.new
            if (row.status == PENDING and (n.pack, n.kind, n.about, n.offset_s) == (pack, kind, about, offset_s)
                    and n.due_at != due_at):
                row.new = replace(n, due_at=due_at)
                moved += 1
        return moved

    async def pending(self, recipient: Recipient, pack: str) -> list[Reminder]:
        ids = [rid for rid, row in self._reminders.items()
               if row.new.recipient == recipient and row.new.pack == pack and row.status in (PENDING, SENDING)]
        return sorted((self._view(rid) for rid in ids), key=lambda r: (r.due_at, r.id))

    async def cancel(self, recipient: Recipient, pack: str | None = None) -> tuple[int, bool]:
        def hit(to: Recipient, p: str) -> bool:
            return to == recipient and (pack is None or p == pack)

        ids = [rid for rid, row in self._reminders.items() if row.status == PENDING and hit(row.new.recipient, row.new.pack)]
        for rid in ids:
            self._drop(rid)
        before = len(self._subs) + len(self._follows)
        self._subs = {k: v for k, v in self._subs.items() if not hit(k[0], k[1])}
        self._follows = {k: v for k, v in self._follows.items() if not hit(k[0], k[1])}
        return len(ids), len(self._subs) + len(self._follows) < before

    async def skip_pending(self, recipient: Recipient, pack: str, kind: str) -> int:
        skipped = 0
        for row in self._reminders.values():
            if row.status == PENDING and row.new.recipient == recipient and row.new.pack == pack and row.new.kind == kind:
                row.status = SKIPPED
                skipped += 1
        return skipped

    async def claim(self, now: datetime, limit: int, owner: str, lease_until: datetime,
                    platforms: Sequence[str], packs: Sequence[str]) -> list[Reminder]:
        if limit <= 0 or not platforms:
            return []
        due = [
            (row.new.due_at, rid) for rid, row in self._reminders.items()
            if row.new.pack in packs and row.new.recipient.platform in platforms
            and ((row.status == PENDING and row.new.due_at <= now)
                 or (row.status == SENDING and row.lease_until is not None and row.lease_until < now))
        ]
        claimed = []
        for _, rid in sorted(due)[:limit]:
            row = self._reminders[rid]
            row.status, row.owner, row.lease_until = SENDING, owner, lease_until
            row.attempts += 1
            claimed.append(self._view(rid))
        return claimed

    def _owned(self, rid: int, owner: str) -> _Row | None:
        row = self._reminders.get(rid)
        return row if row is not None and row.owner == owner else None

    async def extend_leases(self, owner: str, ids: Sequence[int], lease_until: datetime) -> int:
        extended = 0
        for rid in ids:
            row = self._owned(rid, owner)
            if row is not None and row.status == SENDING:
                row.lease_until = lease_until
                extended += 1
        return extended

    async def record(self, owner: str, outcomes: Sequence[tuple[int, str]], sent: Counter[tuple[str, date]]) -> int:
        recorded = 0
        for rid, status in outcomes:
            row = self._owned(rid, owner)
            if row is not None:
                row.status, row.owner, row.lease_until = status, None, None
                recorded += 1
        for (platform, day), n in sent.items():
            self._funnel[(day.isoformat(), platform, "reminder_sent")] += n
        return recorded

    async def release(self, rid: int, owner: str, due_at: datetime) -> bool:
        row = self._owned(rid, owner)
        if row is None:
            return False
        row.status, row.owner, row.lease_until = PENDING, None, None
        row.new = replace(row.new, due_at=due_at)
        return True

    async def next_due(self, platforms: Sequence[str], packs: Sequence[str]) -> datetime | None:
        times = [
            row.new.due_at if row.status == PENDING else row.lease_until
            for row in self._reminders.values()
            if row.new.pack in packs and row.new.recipient.platform in platforms and row.status in (PENDING, SENDING)
        ]
        return min((t for t in times if t is not None), default=None)

    async def counts(self) -> dict[str, int]:
        return dict(Counter(row.status for row in self._reminders.values()))

    async def channel(self, platform: str, scope: str, pack: str) -> Recipient | None:
        return next((to for (to, p), (s, _, _) in self._follows.items()
                     if to.platform == platform and s == scope and p == pack), None)

    async def unsubscribe_scope(self, platform: str, scope: str, pack: str | None = None) -> bool:
        def hit(to: Recipient, s: str | None, p: str) -> bool:
            return to.platform == platform and s == scope and (pack is None or p == pack)

        for rid in [rid for rid, row in self._reminders.items()
                    if row.status == PENDING and hit(row.new.recipient, row.new.scope, row.new.pack)]:
            self._drop(rid)
        before = len(self._subs) + len(self._follows)
        self._subs = {k: v for k, v in self._subs.items() if not hit(k[0], v, k[1])}
        self._follows = {k: v for k, v in self._follows.items() if not hit(k[0], v[0], k[1])}
        return len(self._subs) + len(self._follows) < before

    # Counters and facts -----------------------------------------------------------------------
    async def funnel(self, since: date, until: date) -> dict[tuple[str, str], int]:
        totals: Counter[tuple[str, str]] = Counter()
        for (day, platform, counter), n in self._funnel.items():
            if since.isoformat() <= day <= until.isoformat():
                totals[(platform, counter)] += n
        return dict(totals)

    async def get_meta(self, name: str) -> str | None:
        return self._meta.get(name)

    async def set_meta(self, name: str, value: str) -> None:
        self._meta[name] = value

    async def claim_update(self, platform: str, update_id: int, now: datetime, keep: timedelta) -> bool:
        if update_id % CLEAN_UPDATES_EVERY == 0:
            self._updates = {k: at for k, at in self._updates.items() if at > now - keep}
        at = self._updates.get((platform, update_id))
        if at is not None and at > now - keep:
            return False
        self._updates[(platform, update_id)] = now
        return True

    async def take_lease(self, name: str, holder: str, now: datetime, until: datetime) -> bool:
        current = self._leases.get(name)
        if current is not None and current[0] != holder and current[1] > now:
            return False
        self._leases[name] = (holder, until)
        return True

    async def ping(self) -> bool:
        return self._open

    # The source watch -------------------------------------------------------------------------
    async def get_snapshot(self, pack: str, source_id: str) -> SourceSnapshot | None:
        return self._snapshots.get((pack, source_id))

    async def put_snapshot(self, snapshot: SourceSnapshot) -> None:
        self._snapshots[(snapshot.pack, snapshot.source_id)] = snapshot
