"""One member flooding the bot (200 /optout help, 200 presses) does not keep others from being answered.

The same bystander check as tests/telegram/test_fairness.py. discord.py hands each interaction to its
own task and the adapter answers within Discord's 3 s, so nothing is queued behind one member.
"""

from __future__ import annotations

import asyncio
import math

import pytest

from bot.guide import load_guide
from tests.discord.conftest import GUIDE_PATH, BotProcess
from tests.fakes.discord_api import FakeDiscord, Interaction

pytestmark = pytest.mark.asyncio(loop_scope="module")  # the loop of the module's fake and bot (conftest)

BURST = 200
BYSTANDERS = 40


async def bystanders_answered(fake: FakeDiscord, first_id: int) -> list[float]:
    """40 members run /optout start at 0.1 s intervals from 0.3 s on; return each one's wait for the first question."""
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.3
    interactions: list[Interaction] = []
    for i in range(BYSTANDERS):
        # Paced arrivals are the load under test (open loop), not a wait for an answer.
        await asyncio.sleep(max(0.0, start + i * 0.1 - loop.time()))
        interactions.append(await fake.member(first_id + i).slash("optout start"))
    async with asyncio.timeout(20):
        await asyncio.gather(*(inter.acked.wait() for inter in interactions))
    guide = load_guide(GUIDE_PATH)
    question = guide.node(guide.start)
    for inter in interactions:
        # Answered at once (no "thinking…" deferral) with the guide's first question and its buttons.
        assert inter.ack_type == 4 and inter.response_message_id is not None
        shown = fake.messages[inter.response_message_id]
        assert shown.labels()[:len(question.options)] == [o.label for o in question.options], shown.content
    return [inter.ack_seconds for inter in interactions if inter.ack_seconds is not None]


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


async def test_a_members_bursts_leave_everyone_else_answered(fake: FakeDiscord, bot: BotProcess) -> None:
    spammer = fake.member(7_100_000)
    helps = [await spammer.slash("optout help") for _ in range(BURST)]
    waits = await bystanders_answered(fake, 7_100_001)
    assert len(waits) == BYSTANDERS and p(waits, 0.99) < 1.0, sorted(waits)
    async with asyncio.timeout(20):
        await asyncio.gather(*(inter.acked.wait() for inter in helps))

    await spammer.slash("optout start")
    home = await spammer.pop_message()
    label = home.labels()[0]
    presses = [await spammer.press(label, home) for _ in range(BURST)]
    waits = await bystanders_answered(fake, 7_200_001)
    assert len(waits) == BYSTANDERS and p(waits, 0.99) < 1.0, sorted(waits)
    async with asyncio.timeout(20):
        await asyncio.gather(*(inter.acked.wait() for inter in presses))
    assert fake.violations == []
