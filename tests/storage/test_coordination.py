"""Contract: the Coordination port (leases shared by every instance on one database), on every backend."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from bot.storage import Storage, open_backend
from tests.storage.conftest import T0

DAY = timedelta(days=1)


async def test_a_lease_is_held_by_one_holder_until_it_lapses(backend: Storage) -> None:
    assert await backend.take_lease("retention", "a", T0, T0 + DAY)
    assert not await backend.take_lease("retention", "b", T0 + timedelta(hours=23), T0 + timedelta(hours=47))
    assert await backend.take_lease("retention", "a", T0 + timedelta(hours=1), T0 + DAY * 2)  # the holder renews
    assert not await backend.take_lease("retention", "b", T0 + DAY + timedelta(hours=23), T0 + DAY * 3)
    assert await backend.take_lease("retention", "b", T0 + DAY * 2, T0 + DAY * 3)  # lapsed: anyone may take it
    assert not await backend.take_lease("retention", "a", T0 + DAY * 2, T0 + DAY * 3)


async def test_leases_of_different_names_are_independent(backend: Storage) -> None:
    assert await backend.take_lease("retention", "a", T0, T0 + DAY)
    assert await backend.take_lease("commands", "b", T0, T0 + DAY)
    assert not await backend.take_lease("commands", "a", T0, T0 + DAY)


async def test_of_many_racing_for_a_free_lease_exactly_one_wins(backend: Storage) -> None:
    won = await asyncio.gather(*(backend.take_lease("retention", f"h{i}", T0, T0 + DAY) for i in range(20)))
    assert sum(won) == 1


async def test_instances_racing_for_a_lapsed_lease_let_one_win(backend: Storage, backend_url: str) -> None:
    await backend.take_lease("retention", "old", T0 - DAY * 2, T0 - DAY)
    if backend_url == "memory://":
        pytest.skip("memory:// lives in one process: there is no second instance to race")
    others = [await open_backend(backend_url) for _ in range(3)]  # each one more instance on the database
    try:
        won = await asyncio.gather(*(other.take_lease("retention", f"h{i}-{j}", T0, T0 + DAY)
                                     for i, other in enumerate(others) for j in range(5)))
        assert sum(won) == 1
    finally:
        for other in others:
            await other.close()


HOUR = timedelta(hours=1)


async def test_an_update_is_claimed_once_until_the_claim_expires(backend: Storage) -> None:
    assert await backend.claim_update("telegram", 41, T0, HOUR)
    assert not await backend.claim_update("telegram", 41, T0 + timedelta(minutes=59), HOUR)  # a retry
    assert await backend.claim_update("discord", 41, T0, HOUR)  # another platform's numbering
    assert await backend.claim_update("telegram", 42, T0, HOUR)
    assert await backend.claim_update("telegram", 41, T0 + HOUR + timedelta(seconds=1), HOUR)  # forgotten


async def test_expired_claims_are_dropped_as_updates_go_by(backend: Storage, backend_url: str) -> None:
    from bot.storage.base import CLEAN_UPDATES_EVERY

    assert await backend.claim_update("telegram", 7, T0, HOUR)
    assert await backend.claim_update("telegram", CLEAN_UPDATES_EVERY * 3, T0 + HOUR * 2, HOUR)
    if backend_url.startswith("sqlite"):
        import sqlite3
        from contextlib import closing

        with closing(sqlite3.connect(backend_url.removeprefix("sqlite:///"))) as db:
            assert db.execute("SELECT update_id FROM seen_updates").fetchall() == [(CLEAN_UPDATES_EVERY * 3,)]
    elif backend_url.startswith("postgresql"):
        import asyncpg

        con = await asyncpg.connect(backend_url)
        try:
            assert [r[0] for r in await con.fetch("SELECT update_id FROM seen_updates")] == [CLEAN_UPDATES_EVERY * 3]
        finally:
            await con.close()


async def test_instances_handed_one_update_let_exactly_one_handle_it(backend: Storage, backend_url: str) -> None:
    if backend_url == "memory://":
        pytest.skip("memory:// lives in one process: there is no second instance")
    others = [await open_backend(backend_url) for _ in range(3)]
    try:
        for update_id in range(100, 110):
            won = await asyncio.gather(*(other.claim_update("telegram", update_id, T0, HOUR)
                                         for other in [backend, *others] for _ in range(2)))
            assert sum(won) == 1
    finally:
        for other in others:
            await other.close()


async def test_budget_members_are_counted_while_they_heartbeat(backend: Storage, backend_url: str) -> None:
    # One process on SQLite or in memory: no pool, the whole budget (None). On PostgreSQL, every instance
    # heartbeating counts until it leaves or stops heartbeating for ``ttl`` (on the database's clock).
    ttl = timedelta(seconds=60)
    first = await backend.budget_members("telegram:1", "a", ttl)
    if not backend_url.startswith("postgres"):
        assert first is None
        return
    assert first == 1
    assert await backend.budget_members("telegram:1", "b", ttl) == 2
    assert await backend.budget_members("telegram:2", "c", ttl) == 1  # another bot's pool
    assert await backend.budget_members("telegram:1", "a", ttl) == 2  # a heartbeat is not a new member
    await backend.leave_budget("telegram:1", "b")
    assert await backend.budget_members("telegram:1", "a", ttl) == 1
    await backend.budget_members("telegram:1", "d", timedelta(seconds=-1))  # its heartbeat has lapsed
    assert await backend.budget_members("telegram:1", "a", ttl) == 1
