"""Two `optout-bot run` processes on one database file: an erase on one is final for the other too."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

from bot import texts
from tests.fakes.telegram_api import FakeBotAPI
from tests.ops.helpers import MINI_GUIDE
from tests.telegram.conftest import BotProcess, bot_env

USER = 731_000_123  # the same Telegram user talks to both bots


def _rows(db: Path) -> list[tuple[str, str]]:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute("SELECT node, answers FROM users WHERE platform = 'telegram' AND user_id = ?",
                            (str(USER),)).fetchall()


async def test_forget_on_one_process_is_not_undone_by_a_press_on_the_other(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    async with FakeBotAPI() as fake_a, FakeBotAPI("7117117117:AAF-second-fake-token-0123456789abcd", "optout_two_bot") as fake_b:
        bots = []
        for name, fake in (("a", fake_a), ("b", fake_b)):
            workdir = tmp_path / name
            workdir.mkdir()
            bots.append(BotProcess(fake, workdir, bot_env(fake, workdir, MINI_GUIDE, DATABASE_URL=f"sqlite:///{db}")))
        one, two = bots
        try:
            await one.start()
            await two.start()
            on_a, on_b = fake_a.user(USER), fake_b.user(USER)
            await on_a.send("/start")
            await on_a.pop_message()
            await on_a.tap("Help me decide")
            code = await on_a.tap("Free")  # each press turns the message into the next step
            assert code.text.endswith("Do you use Claude Code?")
            assert [json.loads(answers) for _, answers in _rows(db)] == [{"plan": "free"}]

            await on_b.send("/forget")
            await on_b.pop_message()
            assert "erased everything" in (await on_b.tap(texts.FORGET_YES)).text
            assert _rows(db) == []

            # Process A still holds the user's row from before the erase; the next press lands there.
            await on_a.press("Yes")
            replies = await on_a.pop_until_buttons()
            assert not any("Claude Code follows the same setting" in m.text for m in replies), \
                "the old answers came back"
            assert [json.loads(answers) for _, answers in _rows(db)] in ([], [{}])
        finally:
            for bot in bots:
                await bot.stop()
                await bot.kill()
    assert "redoing the step" in one.output  # the first try was refused, as it must be
    for file in [db, *db.parent.glob(f"{db.name}-*")]:
        assert b'"plan":"free"' not in file.read_bytes(), f"{file.name} still holds an old answer"
