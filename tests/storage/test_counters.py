"""The CounterStore contract, on every backend: the anonymous funnel, the bot's own facts, ping."""

from __future__ import annotations

from datetime import date, timedelta

from bot.storage import Storage
from tests.storage.conftest import T0, state


async def test_funnel_counts_add_up_per_day_and_platform(backend: Storage) -> None:
    await backend.save_step(state("1"), ("started", "reached:plan"))
    await backend.save_step(state("2"), ("started",))
    await backend.save_step(state("3", platform="discord", at=T0 - timedelta(days=2)), ("started",))
    assert await backend.funnel(date(2026, 11, 22), date(2026, 11, 22)) == {
        ("telegram", "started"): 2,
        ("telegram", "reached:plan"): 1,
    }
    everything = await backend.funnel(date(2026, 1, 1), date(2026, 12, 31))
    assert everything[("discord", "started")] == 1
    assert await backend.funnel(date(2026, 11, 23), date(2026, 12, 31)) == {}


async def test_the_funnel_outlives_the_users_it_counted(backend: Storage) -> None:
    await backend.save_step(state("1"), ("started",))
    await backend.forget_user(state("1").key)
    assert await backend.funnel(T0.date(), T0.date()) == {("telegram", "started"): 1}


async def test_counts_without_a_step_add_to_the_same_funnel(backend: Storage) -> None:
    # Share cards and panel presses belong to no user's step: they are counted on their own.
    day = T0.date()
    await backend.save_step(state("1"), ("share_offered",))
    await backend.add_counts("telegram", {"share_sent": 2, "chatgpt/share_sent": 1}, day)
    await backend.add_counts("telegram", {"share_sent": 1, "share_offered": 1}, day)
    await backend.add_counts("discord", {"panel_press": 1}, day - timedelta(days=1))
    assert await backend.funnel(day, day) == {
        ("telegram", "share_offered"): 2, ("telegram", "share_sent"): 3, ("telegram", "chatgpt/share_sent"): 1,
    }
    assert (await backend.funnel(day - timedelta(days=1), day))[("discord", "panel_press")] == 1


async def test_meta_round_trips(backend: Storage) -> None:
    assert await backend.get_meta("x") is None
    await backend.set_meta("x", "1")
    await backend.set_meta("x", "2")
    assert await backend.get_meta("x") == "2"


async def test_ping_answers_until_closed(backend: Storage) -> None:
    assert await backend.ping()
    await backend.close()
    assert not await backend.ping()
