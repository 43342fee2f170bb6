from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.telegram_api import FakeBotAPI
from tests.ops.instances import Instance, Splitter


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    """The fake Telegram Bot API on 127.0.0.1, for a bot started with ``optout-bot run``."""
    async with FakeBotAPI() as api:
        yield api
        # The bot is gone but its last long poll still waits inside the fake (aiohttp does not cancel a
        # handler when the client disconnects); don't let the fake's clean-up wait that poll out.
        if api._runner is not None:
            api._runner._shutdown_timeout = 0.2


@pytest.fixture
async def splitter() -> AsyncIterator[Splitter]:
    """A round-robin proxy in front of the instances' webhook ports."""
    async with Splitter() as proxy:
        yield proxy


@pytest.fixture
async def started() -> AsyncIterator[list[Instance]]:
    """The instances a test starts; each is killed at the end, whatever the test did to it."""
    bots: list[Instance] = []
    yield bots
    for bot in bots:
        await bot.kill()
