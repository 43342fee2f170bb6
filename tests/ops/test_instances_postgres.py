"""Two `optout-bot run` processes on one PostgreSQL database, behind a webhook splitter, against the fake Bot API.

The server is a throwaway one the session starts (tests/postgres_server.py); without server binaries
these tests skip with one line.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from bot import texts
from bot.clock import ManualClock
from bot.events import UserKey
from bot.reminders.service import ReminderService
from bot.storage import open_backend
from tests.fakes.telegram_api import FakeBotAPI
from tests.ops.instances import SECRET, START, Instance, Splitter, instances
from tests.reminders.helpers import write_guide

pytestmark = pytest.mark.timeout(170)


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as api:
        yield api


@pytest_asyncio.fixture
async def splitter() -> AsyncIterator[Splitter]:
    async with Splitter() as proxy:
        yield proxy


@pytest_asyncio.fixture
async def started() -> AsyncIterator[list[Instance]]:
    bots: list[Instance] = []
    yield bots
    for bot in bots:
        await bot.kill()


async def _user_row(url: str, user_id: int) -> tuple[int, dict[str, str]] | None:
    con = await asyncpg.connect(url)
    try:
        row = await con.fetchrow("SELECT step, answers FROM users WHERE platform = 'telegram' AND user_id = $1",
                                 str(user_id))
    finally:
        await con.close()
    return (row["step"], json.loads(row["answers"])) if row else None


async def test_one_press_reaching_both_instances_at_once_moves_the_user_once(
        fake: FakeBotAPI, splitter: Splitter, started: list[Instance], postgres_url: str, tmp_path: Path) -> None:
    one, two = instances(fake, tmp_path, postgres_url, splitter)
    started += [one, two]
    await asyncio.gather(one.start(), two.start())
    # Both started at once, and one of them ran the start-up retention sweep.
    for bot in (one, two):
        await bot.wait_output("the retention sweep or its skip", lambda b=bot: "retention: " in b.output)
    sweeps = sorted(b.output.count("retention: deleted 0 user(s)") for b in (one, two))
    assert sweeps == [0, 1] and "another instance holds today's sweep" in one.output + two.output
    user = fake.user(8_100_001)
    await user.send("/start")
    await user.pop_message()
    await user.press("Help me decide")
    plan = await user.pop_message()
    assert plan.text == "Which plan do you use?" and "Free" in plan.labels
    step, answers = await _user_row(postgres_url, user.id)
    assert answers == {}

    # A double tap: two updates of one press, one to each instance, at the same moment.
    data = plan.button("Free")["callback_data"]
    (q1, u1), (q2, u2) = fake.callback_update(user, plan, data), fake.callback_update(user, plan, data)
    statuses = await asyncio.gather(fake.post_update(one.hook, u1, SECRET), fake.post_update(two.hook, u2, SECRET))
    assert statuses == [200, 200]
    await user.wait_answered(q1)
    await user.wait_answered(q2)

    assert await _user_row(postgres_url, user.id) == (step + 1, {"plan": "free"})  # exactly one transition
    toasts = sorted([q1.answer_text or "", q2.answer_text or ""])
    assert toasts[0] == "" and toasts[1].startswith(texts.STALE_BUTTON[:40])  # the other press is refused
    assert plan.edits == 1  # the question shows the chosen answer once
    await fake.wait_for(lambda: any(m.text == "Do you use Claude Code?" for m in user.pending()), 10, "the next question")


async def test_sigkill_of_one_instance_during_1000_reminders_loses_none(
        fake: FakeBotAPI, splitter: Splitter, started: list[Instance], postgres_url: str, tmp_path: Path) -> None:
    n = 1000
    guide_path = tmp_path / "guide.yaml"
    # Due 3 s after START: the instances run their clocks from START on the test's clock.
    guide = write_guide(guide_path, [("soon", START + timedelta(hours=2), ["PT1H59M57S"])])
    ids = [9_000_000 + i for i in range(n)]
    for uid in ids:
        fake.user(uid)
    storage = await open_backend(postgres_url)
    try:
        service = ReminderService(storage, storage, guide, ManualClock(START - timedelta(minutes=1)))
        for uid in ids:
            assert await service.subscribe(UserKey("telegram", str(uid)), "dl", START - timedelta(minutes=1))
    finally:
        await storage.close()
    one, two = instances(fake, tmp_path, postgres_url, splitter, guide=guide_path)
    started += [one, two]
    due = one.t0 + 3.0  # the reminders' due time on the test's clock
    await asyncio.gather(one.start(), two.start())

    await fake.wait_for(lambda: len(fake.sent_at) >= 200, within=60, what="200 reminders delivered")
    await one.kill()
    before_kill = len(fake.sent_at)
    assert before_kill < n, "the kill came too late to test anything"

    await fake.wait_for(lambda: all(fake.chats[uid] for uid in ids), within=100, what="every user reached")
    await asyncio.sleep(1)  # anything still in flight would land now
    per_chat = Counter(chat for _, chat in fake.sent_at)
    assert set(per_chat) == set(ids)  # no loss
    assert sum(c - 1 for c in per_chat.values()) <= 1  # at most one repeat, from the message in flight at the kill
    assert min(t for t, _ in fake.sent_at) >= due  # none before its time
    storage = await open_backend(postgres_url)
    try:
        assert await storage.counts() == {"sent": n}
    finally:
        await storage.close()
    assert await two.stop() == 0
