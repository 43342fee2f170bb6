""""Check all my assistants" on Telegram: `optout-bot run` on the shipped packs, a restart in the middle."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot import texts
from bot.guide import DEFAULT_CONTENT_PATH
from tests.telegram.conftest import FAKE_NOW

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_pick_two_walk_them_across_a_restart_and_read_the_summary(fake, start_bot) -> None:
    bot = await start_bot(DEFAULT_CONTENT_PATH)
    user = fake.user(8_100_001)
    await user.send("/start")
    await user.pop_until_buttons()
    await user.tap("🧩 Other assistants")
    select = await user.tap(texts.CHECK_ALL)
    assert select.text.startswith("Which of these do you use?")
    await user.tap("⬜ ChatGPT")
    select = await user.tap("⬜ Gemini")
    assert select.labels[:3] == ["⬜ Claude", "☑️ ChatGPT", "☑️ Gemini"]
    first = await user.tap(texts.CHECK_ALL_GO)
    assert first.text.startswith("✅ ChatGPT, Gemini\n\n1 of 2: ChatGPT\n\n")

    await user.send("/steps")
    result = (await user.pop_until_buttons())[-1]
    assert "Improve the model for everyone" in result.text and texts.CHECK_ALL_NEXT in result.labels
    thanks = await user.tap("✅ I've turned it off")
    assert texts.CHECK_ALL_NEXT in thanks.labels

    # The clock must not run back across the restart (commands go to the pack used last).
    bot.env["FAKE_NOW"] = (datetime.fromisoformat(FAKE_NOW) + timedelta(hours=1)).isoformat()
    await bot.restart()
    second = await user.tap(texts.CHECK_ALL_NEXT)
    assert second.text.startswith("2 of 2: Gemini")
    await user.send("/steps")
    result = (await user.pop_until_buttons())[-1]
    assert "Keep Activity" in result.text
    summary = await user.tap(texts.CHECK_ALL_SUMMARY)
    assert summary.text == ("Your check is done.\n\nTurned off (as you told me):\n\n• ChatGPT\n\n"
                            "Still to do (tap one for its steps):\n\n• Gemini")
    assert summary.labels == ["Gemini", texts.CHECK_ALL, texts.CONTINUE_WHERE]
