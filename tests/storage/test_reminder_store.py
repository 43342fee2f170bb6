"""The reminder store's contract: one row per unique key, exclusive claims under a lease, outcomes kept."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.events import UserKey
from bot.storage import SqliteStorage, open_storage
from bot.storage.reminders import NewReminder, ReminderStore

T0 = datetime(2025, 9, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=10)


def row(user: str = "telegram:1", offset_s: int = 86400, due: datetime = T0, about: str = "final",
        kind: str = "deadline") -> NewReminder:
    return NewReminder(user, user, user.partition(":")[0], kind, about, offset_s, due)


@pytest.fixture
async def store(storage: SqliteStorage) -> ReminderStore:
    return ReminderStore(storage)


async def test_the_unique_key_keeps_one_row(store: ReminderStore) -> None:
    assert await store.schedule([row(), row(offset_s=7 * 86400)]) == 2
    assert await store.schedule([row(), row(due=T0 + timedelta(hours=1))]) == 0
    assert await store.schedule([row(user="telegram:2")]) == 1
    assert await store.counts() == {"pending": 3}


async def test_claim_takes_due_rows_once_oldest_first(store: ReminderStore) -> None:
    await store.schedule([row(offset_s=1, due=T0), row(offset_s=2, due=T0 - timedelta(hours=1)),
                          row(offset_s=3, due=T0 + timedelta(seconds=1))])
    claimed = await store.claim_due(T0, 10, "a", T0 + LEASE, ["telegram"])
    assert [r.offset_s for r in claimed] == [2, 1]
    assert all(r.status == "sending" and r.attempts == 1 for r in claimed)
    assert await store.claim_due(T0, 10, "b", T0 + LEASE, ["telegram"]) == []


async def test_claim_honours_the_limit_and_the_running_platforms(store: ReminderStore) -> None:
    await store.schedule([row(user=f"telegram:{i}") for i in range(5)] + [row(user="discord:9")])
    assert len(await store.claim_due(T0, 3, "a", T0 + LEASE, ["telegram"])) == 3
    assert {r.platform for r in await store.claim_due(T0, 10, "a", T0 + LEASE, ["telegram"])} == {"telegram"}
    assert await store.claim_due(T0, 10, "a", T0 + LEASE, []) == []
    assert [r.recipient for r in await store.claim_due(T0, 10, "a", T0 + LEASE, ["discord"])] == ["discord:9"]


async def test_a_lapsed_claim_is_taken_over_and_a_live_one_kept(store: ReminderStore) -> None:
    await store.schedule([row(), row(user="telegram:2")])
    first = await store.claim_due(T0, 10, "dead", T0 + LEASE, ["telegram"])
    assert await store.extend_leases("dead", [first[1].id], T0 + 3 * LEASE) == 1
    later = T0 + LEASE + timedelta(seconds=1)
    again = await store.claim_due(later, 10, "alive", later + LEASE, ["telegram"])
    assert [r.id for r in again] == [first[0].id] and again[0].attempts == 2
    # The dead owner's late answer does not overwrite the new claim.
    assert await store.finish(first[0].id, "dead", "sent") is False
    assert await store.finish(first[0].id, "alive", "sent", ("telegram", T0.date())) is True


async def test_finish_records_the_outcome_and_the_funnel(storage: SqliteStorage, store: ReminderStore) -> None:
    await store.schedule([row()])
    (claimed,) = await store.claim_due(T0, 1, "a", T0 + LEASE, ["telegram"])
    await store.finish(claimed.id, "a", "sent", ("telegram", T0.date()))
    assert await store.counts() == {"sent": 1}
    assert await storage.funnel(T0.date(), T0.date()) == {("telegram", "reminder_sent"): 1}
    assert await store.schedule([row()]) == 0  # a sent reminder is never scheduled again


async def test_retry_puts_it_back_for_later(store: ReminderStore) -> None:
    await store.schedule([row()])
    (claimed,) = await store.claim_due(T0, 1, "a", T0 + LEASE, ["telegram"])
    await store.retry_at(claimed.id, "a", T0 + timedelta(minutes=1))
    assert await store.claim_due(T0 + timedelta(seconds=59), 1, "a", T0 + LEASE, ["telegram"]) == []
    assert await store.next_due(["telegram"]) == T0 + timedelta(minutes=1)
    (again,) = await store.claim_due(T0 + timedelta(minutes=1), 1, "a", T0 + LEASE, ["telegram"])
    assert again.attempts == 2


async def test_next_due_sees_pending_rows_and_lapsing_claims(store: ReminderStore) -> None:
    assert await store.next_due(["telegram"]) is None
    await store.schedule([row(due=T0 + timedelta(days=3)), row(offset_s=5, due=T0)])
    await store.claim_due(T0, 1, "a", T0 + LEASE, ["telegram"])
    assert await store.next_due(["telegram"]) == T0 + LEASE
    assert await store.next_due(["discord"]) is None


async def test_cancel_and_skip_leave_sent_rows(store: ReminderStore) -> None:
    await store.schedule([row(), row(offset_s=7), row(kind="verify", about="", offset_s=0)])
    (claimed, *_) = await store.claim_due(T0, 1, "a", T0 + LEASE, ["telegram"])
    await store.finish(claimed.id, "a", "sent")
    assert await store.skip_pending("telegram:1", "verify") == 1
    assert await store.cancel("telegram:1") == (1, False)
    assert await store.counts() == {"sent": 1, "skipped": 1}


async def test_forget_and_retention_erase_reminder_rows(storage: SqliteStorage, store: ReminderStore) -> None:
    await store.subscribe("telegram:1", "telegram:1", ["", "final"], [row()])
    await store.subscribe("guild:5", None, ["", "final"], [NewReminder("guild:5", None, "discord", "deadline", "final", 1, T0)])
    await storage.forget_user(UserKey("telegram", "1"))
    assert await store.pending("telegram:1") == []
    assert set(await store.subscriptions()) == {"guild:5"}  # a server's announcements are not a user's data


async def test_channels_set_replace_and_remove(store: ReminderStore) -> None:
    assert await store.channel("5") is None
    await store.set_channel("5", "50", T0)
    await store.set_channel("5", "51", T0)
    assert await store.channel("5") == "51"
    await store.subscribe("guild:5", None, [""], [NewReminder("guild:5", None, "discord", "deadline", "final", 1, T0)])
    assert await store.remove_channel("5") is True
    assert await store.remove_channel("5") is False
    assert await store.pending("guild:5") == [] and await store.subscriptions() == {}


async def test_two_connections_racing_claim_each_row_once(tmp_path: Path) -> None:
    one, two = await open_storage(tmp_path / "race.db"), await open_storage(tmp_path / "race.db")
    try:
        a, b = ReminderStore(one), ReminderStore(two)
        await a.schedule([row(user=f"telegram:{i}") for i in range(400)])

        async def drain(store: ReminderStore, owner: str) -> list[int]:
            got: list[int] = []
            while batch := await store.claim_due(T0, 7, owner, T0 + LEASE, ["telegram"]):
                got += [r.id for r in batch]
                await asyncio.sleep(0)
            return got

        ids_a, ids_b = await asyncio.gather(drain(a, "a"), drain(b, "b"))
        assert len(ids_a) + len(ids_b) == 400 and not set(ids_a) & set(ids_b)
    finally:
        await one.close()
        await two.close()
