"""SIGTERM mid-conversation: the step in flight finishes, the user's place is kept, the exit is 0 within 10 s."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

from tests.fakes.telegram_api import FakeBotAPI
from tests.ops.running import running_bot

USER = 555000111


def _telegram(fake: FakeBotAPI) -> dict[str, str]:
    return {"TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url, "LOG_FORMAT": "json"}


def _stored(db: Path, user_id: str) -> tuple[str, int, str] | None:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute("SELECT node, step, answers FROM users WHERE platform = 'telegram' AND user_id = ?",
                            (user_id,)).fetchone()


def _slow_answers(fake: FakeBotAPI, delay: float) -> asyncio.Event:
    """Make Telegram slow to acknowledge button presses; return an event set when the bot starts one."""
    started = asyncio.Event()
    original = fake._api_answercallbackquery

    async def slow(params: dict[str, Any]) -> bool:
        started.set()
        await asyncio.sleep(delay)
        return await original(params)

    fake._api_answercallbackquery = slow  # type: ignore[method-assign]
    return started


async def test_sigterm_mid_conversation_keeps_the_step_and_exits_0(fake: FakeBotAPI, tmp_path: Path) -> None:
    user = fake.user(USER)
    async with running_bot(tmp_path, **_telegram(fake)) as bot:
        await bot.wait_ready()
        await user.send("/start")
        await user.pop_until_buttons()
        assert (await user.tap("Help me decide")).text == "✅ Help me decide\n\nWhich plan do you use?"

        # The engine has stored the step and the adapter is still answering Telegram when SIGTERM lands.
        in_flight = _slow_answers(fake, delay=1.5)
        await user.press("Pro", wait=False)
        await asyncio.wait_for(in_flight.wait(), 10)
        code = await bot.terminate(within=10)

        assert code == 0, bot.log
        assert "Traceback" not in bot.log
        messages = [r["message"] for r in bot.log_records()]
        assert any(m.startswith("stopping") for m in messages)

    # The step in flight was finished: the user got the next question before the bot went away.
    assert user.bot_messages[-1].text == "✅ Pro\n\nDo you use Claude Code?"
    assert user.bot_messages[-1].labels[:2] == ["Yes", "No"]
    assert not (tmp_path / "bot.db-wal").exists(), "the database was not closed"
    node, _step, answers = _stored(tmp_path / "bot.db", str(USER))
    assert (node, answers) == ("code", '{"plan":"pro"}')

    # After a restart the user carries on from there with the buttons they already have.
    async with running_bot(tmp_path, **_telegram(fake)) as bot:
        await bot.wait_ready()
        user.skip_all()
        step = await user.tap("Yes")
        assert step.text.startswith("✅ Yes\n\n") and "Help improve Claude" in step.text
        assert await bot.terminate(within=10) == 0
    assert _stored(tmp_path / "bot.db", str(USER))[0] == "result"


async def test_health_endpoints_of_a_running_bot(fake: FakeBotAPI, tmp_path: Path) -> None:
    user = fake.user(USER)
    async with running_bot(tmp_path, **_telegram(fake)) as bot:
        await bot.wait_ready()
        assert await bot.get("/healthz") == (200, "ok")
        status, body = await bot.get("/readyz")
        assert status == 200 and '"telegram": true' in body

        await user.send("/start")
        await user.pop_until_buttons()
        # The counter moves when the handler returns, just after the reply went out: poll for it.
        metrics = await bot.wait_metric('optout_updates_total{instance="test-bot",outcome="ok",platform="telegram"} 1.0')
        assert 'optout_engine_step_seconds_count{instance="test-bot"} 1.0' in metrics
        assert await bot.terminate(within=10) == 0
        # One JSON object per line, and the user id, which is in the database, in none of them.
        assert {r["level"] for r in bot.log_records()} <= {"INFO", "WARNING"}
        assert str(USER) not in bot.log


async def test_ctrl_c_stops_an_idle_bot_cleanly(fake: FakeBotAPI, tmp_path: Path) -> None:
    async with running_bot(tmp_path, **_telegram(fake)) as bot:
        await bot.wait_ready()
        bot.proc.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(bot.proc.wait(), 10) == 0
    assert "Traceback" not in bot.log and "KeyboardInterrupt" not in bot.log
    # The database was closed cleanly: SQLite folded the WAL back into the file and removed it.
    assert not (tmp_path / "bot.db-wal").exists()
