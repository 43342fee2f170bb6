"""Two `optout-bot run` instances on one PostgreSQL database and one token stay within the bot's 30 messages
a second together, and a SIGKILLed instance's share goes back to the other within seconds.

The fake enforces Telegram's limit for the bot as a whole (one token bucket for every connection), as
Telegram does: the limit is the token's, not a process's.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.budget import HEARTBEAT, TTL
from tests.fakes.telegram_api import FakeBotAPI
from tests.ops.instances import Instance, Splitter, instances, subscribed_to_a_deadline

pytestmark = pytest.mark.timeout(120)

USERS = 300
LIMIT = 30  # Telegram's messages a second for one bot


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(flood_limit=LIMIT) as api:
        yield api


async def test_two_instances_share_one_budget_and_a_killed_ones_share_returns(
        fake: FakeBotAPI, splitter: Splitter, started: list[Instance], postgres_url: str, tmp_path: Path) -> None:
    ids = [9_500_000 + i for i in range(USERS)]
    # Due 5 s after START: both instances have started and joined the budget by then.
    guide_path = await subscribed_to_a_deadline(fake, postgres_url, tmp_path, ids, due_in_s=5)
    one, two = instances(fake, tmp_path, postgres_url, splitter, guide=guide_path)
    started += [one, two]
    await asyncio.gather(one.start(), two.start())
    for bot in (one, two):
        await bot.wait_output("both instances in the budget", lambda b=bot: "budget: 2 instance(s) share" in b.output)

    await fake.wait_for(lambda: len(fake.sent_at) >= 60, within=30, what="60 reminders delivered")
    await one.kill()
    killed_at = asyncio.get_running_loop().time()
    await two.wait_output("the share to come back", lambda: "budget: 1 instance(s) share" in two.output,
                          within=TTL.total_seconds() + 3 * HEARTBEAT)
    back_after = asyncio.get_running_loop().time() - killed_at
    assert back_after <= TTL.total_seconds() + 2 * HEARTBEAT
    back_at = max(t for t, _ in fake.sent_at)  # sends from here on are the survivor's, at the whole budget
    await fake.wait_for(lambda: all(fake.chats[uid] for uid in ids), within=60, what="every user reached")

    assert fake.floods == 0 and [e for e in fake.errors if e[1] == 429] == []  # no 429, ever
    per_chat = Counter(chat for _, chat in fake.sent_at)
    assert set(per_chat) == set(ids)  # nothing lost
    # Nothing doubled, but for a message the killed instance had on the wire when it died (it was sent,
    # and not yet recorded as sent).
    assert sum(c - 1 for c in per_chat.values()) <= 1
    # The survivor sends at more than half the budget once the dead instance's share is back.
    after = sorted(t for t, _ in fake.sent_at if t > back_at + HEARTBEAT)
    assert len(after) >= 60, len(after)
    rate = (len(after) - 1) / (after[-1] - after[0])
    assert rate > 0.6 * LIMIT, rate  # above the half share it had with two instances
    print(f"share back {back_after:.1f} s after the kill; the survivor then sent {rate:.1f} messages/s")
    assert await two.stop() == 0
