"""Logs as a collector reads them: one JSON object per line, no user ids below DEBUG, no message text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.telegram_api import FakeBotAPI
from tests.ops.helpers import run_bot
from tests.ops.running import running_bot

# Walk the guide in the terminal (`optout-bot run` without tokens), typing some free text on the way.
TYPED = "my email is someone@example.org"
SESSION = f"1\n{TYPED}\n1\n/privacy\nq\n"


def _records(stderr: str) -> list[dict]:
    records = []
    for line in stderr.splitlines():
        record = json.loads(line)  # a line that is not JSON fails here, naming itself
        assert {"time", "level", "logger", "message"} <= record.keys(), line
        records.append(record)
    return records


@pytest.mark.parametrize("level", ["INFO", "DEBUG"])
def test_json_logs_are_one_object_per_line(tmp_path: Path, level: str) -> None:
    proc = run_bot(["run"], tmp_path, stdin=SESSION, LOG_FORMAT="json", LOG_LEVEL=level)
    assert proc.returncode == 0, proc.stderr
    assert "Which plan do you use?" in proc.stdout  # the chat itself went to stdout
    records = _records(proc.stderr)
    messages = [r["message"] for r in records]
    assert "database migrated to schema version 1" in messages
    assert any("opening the terminal chat" in m for m in messages)
    # What a user types never reaches a log, at any level.
    assert TYPED not in proc.stderr and "someone@example.org" not in proc.stderr


def test_no_user_id_at_info(tmp_path: Path) -> None:
    proc = run_bot(["run"], tmp_path, stdin=SESSION, LOG_FORMAT="json", LOG_LEVEL="INFO")
    records = _records(proc.stderr)
    assert {r["level"] for r in records} <= {"INFO", "WARNING", "ERROR"}
    assert "console:local" not in proc.stderr


def test_text_logs_are_one_line_per_event(tmp_path: Path) -> None:
    proc = run_bot(["run"], tmp_path, stdin=SESSION, LOG_FORMAT="text", LOG_LEVEL="INFO")
    lines = proc.stderr.splitlines()
    assert lines and all(" INFO " in line or " WARNING " in line for line in lines), proc.stderr


async def test_debug_logs_of_a_telegram_bot_hold_no_token(fake: FakeBotAPI, tmp_path: Path) -> None:
    user = fake.user(777000777)
    settings = {"TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url}
    async with running_bot(tmp_path, LOG_FORMAT="json", LOG_LEVEL="DEBUG", **settings) as bot:
        await bot.wait_ready()
        await user.send("/start")
        await user.pop_until_buttons()
        await user.send(TYPED)
        await user.pop_until_buttons()
        await user.press("Help me decide")
        assert await bot.terminate(within=10) == 0
    records = bot.log_records()
    assert any(r["level"] == "DEBUG" for r in records)
    secret = fake.token.split(":", 1)[1]
    assert secret not in bot.log and fake.token not in bot.log
    assert TYPED not in bot.log and "someone@example.org" not in bot.log
