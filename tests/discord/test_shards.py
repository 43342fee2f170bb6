"""Discord across instances: each `optout-bot run` runs its own gateway shards; only one syncs the commands."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.discord.conftest import BotProcess, serving_fake
from tests.fakes.discord_api import FakeDiscord


# A fresh fake and bot for each test here: these tests count the fake's connections and syncs.
@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with serving_fake() as server:
        yield server


async def test_two_instances_with_disjoint_shards_both_serve_and_one_syncs(
        fake: FakeDiscord, tmp_path: Path, postgres_url: str) -> None:
    # Discord's rule: a server's events go to shard (server id >> 22) % count, DMs to shard 0. Make the
    # fake's server belong to shard 1, so each instance has someone to answer.
    fake.guild_id |= 1 << 22
    one = BotProcess(fake, tmp_path / "one" / "x.db", tmp_path / "one.log", DATABASE_URL=postgres_url,
                     DISCORD_SHARD_COUNT="2", DISCORD_SHARD_IDS="1")
    zero = BotProcess(fake, tmp_path / "zero" / "x.db", tmp_path / "zero.log", DATABASE_URL=postgres_url,
                      DISCORD_SHARD_COUNT="2", DISCORD_SHARD_IDS="0")
    for bot in (one, zero):
        bot.db.parent.mkdir()
    try:
        await one.start()  # first, so that if the shard-1 instance synced, it would have done so already
        await zero.start(identifies=2)
        assert fake.shards == [(0, 2), (1, 2)]
        assert fake.sync_count() == 1
        assert "slash commands: left to the instance that runs shard 0" in one.output()
        assert "slash commands synced globally" in zero.output()
        assert "(shards 1 of 2)" in one.output() and "(shards 0 of 2)" in zero.output()

        in_server, in_dm = fake.member(5001), fake.member(5002, in_dm=True)
        await asyncio.gather(in_server.slash("optout start"), in_dm.slash("optout start"))
        for member in (in_server, in_dm):  # the server's shard (1) and the DMs' (0): both instances answer
            assert (await member.pop_message()).labels()[0] == "🧭 Help me decide"
    finally:
        codes = [await bot.stop() for bot in (one, zero)]
    assert codes == [0, 0]
    assert fake.violations == []
