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
