"""What the bot relies on from discord.py for Discord's global rate limit (README: "Discord's global limit").

Discord limits a bot to about 50 requests a second over every route and every shard; interaction
answers are exempt. discord.py does not pace requests to that limit ahead of time: it waits out a 429
marked ``global`` (its retry_after) with every request of its HTTP client paused, then sends the request
again, once. The bot relies on that, and on its own DM limiter (DISCORD_DM_PER_SECOND) keeping reminders
far below the limit.
"""

from __future__ import annotations

import asyncio
import time

from adapters.discord import DiscordPlatform
from bot.events import Recipient
from bot.platform import Delivery, Outgoing
from tests.discord.test_sending import REMINDER, _posts, platform, services  # noqa: F401  (fixtures)
from tests.fakes.discord_api import FakeDiscord


async def test_a_global_429_is_waited_out_and_the_message_sent_once(fake: FakeDiscord, platform: DiscordPlatform) -> None:
    members = [fake.member(6100 + i) for i in range(2)]
    fake.global_limit_next.append(0.5)
    started = time.monotonic()
    results = await asyncio.gather(*(platform.send(Outgoing(Recipient("discord", "user", str(m.id)), (REMINDER,)))
                                     for m in members))
    assert results == [Delivery.SENT, Delivery.SENT]
    assert time.monotonic() - started >= 0.5  # the retry_after was honoured
    for member in members:
        assert (await member.pop_message()).content.startswith("⏰")
        assert member.pending() == 0  # once, not twice
    assert [s for _, _, s in fake.requests].count(429) == 1
