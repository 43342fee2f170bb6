"""Long polling is for one instance: a second `optout-bot run` polling with the same token stops with one line."""

from __future__ import annotations

import asyncio

import pytest

from tests.fakes.telegram_api import FakeBotAPI
from tests.telegram.conftest import BotProcess

pytestmark = pytest.mark.asyncio(loop_scope="module")

LINE = "another instance is already fetching updates with this token (getUpdates: 409 Conflict)"


async def test_a_second_poller_stops_with_one_clear_line_and_the_first_keeps_answering(
        fake: FakeBotAPI, start_bot) -> None:
    first: BotProcess = await start_bot()
    second: BotProcess = await start_bot(wait_ready=False)
    assert await second.wait_exit() == 2
    lines = [line for line in second.output.splitlines() if LINE in line]
    assert len(lines) == 1 and lines[0].startswith("optout-bot: TELEGRAM_BOT_TOKEN:"), second.output
    assert "Traceback" not in second.output and "retrying" not in second.output
    assert any(code == 409 for method, code, _ in fake.errors if method == "getUpdates")

    user = fake.user(4_900_001)
    await user.send("/start")
    assert (await user.pop_message()).labels[0] == "Help me decide"
    assert first.proc is not None and first.proc.returncode is None
    await asyncio.sleep(0)
    assert LINE not in first.output
