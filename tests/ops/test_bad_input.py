"""Every start-up mistake an operator can make ends in one clear line and a non-zero exit, never a traceback.

Mistakes caught before any platform starts are checked in this process (``run_cli``: ``cli.main``
with the operator's environment); the installed command itself, a platform that fails and a real
.env read are checked as the subprocesses an operator starts (``run_bot``).
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
from pathlib import Path

import pytest

from tests.fakes.telegram_api import DEFAULT_TOKEN, FakeBotAPI
from tests.ops.helpers import assert_one_clear_line, free_port, run_bot, run_cli
from tests.ops.running import running_bot

# Console mode needs no platform, so these cases exercise only what is checked before any platform starts.
QUIT = "q\n"


def test_env_file_with_invalid_utf8(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"LOG_LEVEL=INFO\nTELEGRAM_BOT_TOKEN=\xff\xfe\n")
    proc = run_bot(["run"], tmp_path, stdin=QUIT)
    line = assert_one_clear_line(proc, ".env")
    assert "utf-8" in line


def test_env_file_with_a_value_of_the_wrong_type(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("HEALTH_PORT=abc\n")
    proc = run_cli(["run"], tmp_path, stdin=QUIT, HEALTH_PORT=None)
    assert_one_clear_line(proc, "HEALTH_PORT", "integer")


@pytest.mark.parametrize("line", ['TELEGRAM_BOT_TOKEN="123:abc', "paste the token here"])
def test_env_file_with_a_line_that_cannot_be_parsed(tmp_path: Path, line: str) -> None:
    # python-dotenv would skip the line and the bot would start without that token.
    (tmp_path / ".env").write_text(f"# settings\nLOG_LEVEL=INFO\n{line}\n")
    proc = run_cli(["run"], tmp_path, stdin=QUIT)
    assert_one_clear_line(proc, ".env: line 3", "NAME=value")
    assert "123:abc" not in proc.stderr


def test_database_path_under_a_regular_file(tmp_path: Path) -> None:
    (tmp_path / "not-a-dir").write_text("x")
    proc = run_cli(["run"], tmp_path, stdin=QUIT, DATABASE_URL=f"sqlite:///{tmp_path / 'not-a-dir' / 'bot.db'}")
    assert_one_clear_line(proc, "DATABASE_URL", "not-a-dir")


def test_database_file_that_is_not_sqlite(tmp_path: Path) -> None:
    (tmp_path / "bot.db").write_text("this is a text file, not a database\n" * 100)
    proc = run_cli(["run"], tmp_path, stdin=QUIT)
    assert_one_clear_line(proc, "DATABASE_URL", "not a usable SQLite database")


def test_database_url_of_another_kind(tmp_path: Path) -> None:
    proc = run_cli(["run"], tmp_path, stdin=QUIT, DATABASE_URL="mysql://db/optout")
    assert_one_clear_line(proc, "DATABASE_URL", "sqlite:///")


def test_guide_that_is_not_yaml(tmp_path: Path) -> None:
    (tmp_path / "guide.yaml").write_text("version: 1\nnodes: [\n")
    proc = run_cli(["run"], tmp_path, stdin=QUIT, CONTENT_PATH=str(tmp_path / "guide.yaml"))
    assert_one_clear_line(proc, "CONTENT_PATH", "not valid")


def test_guide_that_fails_content_check(tmp_path: Path) -> None:
    (tmp_path / "guide.yaml").write_text(
        'version: "1"\ntitle: t\nstart: a\nnodes:\n'
        "  - id: a\n    kind: info\n    blocks: [{id: b, text: hi}]\n    next: nowhere\n"
    )
    proc = run_cli(["run"], tmp_path, stdin=QUIT, CONTENT_PATH=str(tmp_path / "guide.yaml"))
    line = assert_one_clear_line(proc, "CONTENT_PATH", "content check")
    assert "nowhere" in line


def test_missing_guide_file(tmp_path: Path) -> None:
    proc = run_cli(["run"], tmp_path, stdin=QUIT, CONTENT_PATH=str(tmp_path / "missing.yaml"))
    assert_one_clear_line(proc, "CONTENT_PATH", "missing.yaml")


def test_fake_now_without_time_zone(tmp_path: Path) -> None:
    proc = run_cli(["run"], tmp_path, stdin=QUIT, FAKE_NOW="2025-09-20T12:00:00")
    assert_one_clear_line(proc, "FAKE_NOW", "time zone")


# Platforms ------------------------------------------------------------------------------------------
# The Telegram fake plays api.telegram.org on 127.0.0.1; Discord is pointed at a closed local port.


def _closed_port() -> int:
    return free_port()  # bound and released: nothing listens there


async def _run(tmp_path: Path, **settings: str | None) -> subprocess.CompletedProcess[str]:
    # The fake serves on this test's event loop, so the bot must run without blocking it.
    return await asyncio.to_thread(run_bot, ["run"], tmp_path, timeout=45, **settings)


async def test_wrong_telegram_token(fake: FakeBotAPI, tmp_path: Path) -> None:
    wrong = "7007007007:AAF-wrong-token-0000000000000000000"
    proc = await _run(tmp_path, TELEGRAM_BOT_TOKEN=wrong, TELEGRAM_API_BASE_URL=fake.base_url)
    line = assert_one_clear_line(proc, "TELEGRAM_BOT_TOKEN", "rejected")
    assert line.startswith("optout-bot: ")
    assert wrong not in proc.stderr and "AAF-wrong-token" not in proc.stderr
    assert fake.errors == [] and fake.calls["getMe"] == 0  # the fake answered 401 before any method ran


async def test_unreachable_telegram_api(tmp_path: Path) -> None:
    # _run's timeout is the bound: a start that hangs instead of failing raises TimeoutExpired.
    proc = await _run(
        tmp_path, TELEGRAM_BOT_TOKEN=DEFAULT_TOKEN, TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{_closed_port()}/bot"
    )
    assert_one_clear_line(proc, "TELEGRAM_", "127.0.0.1")
    assert DEFAULT_TOKEN not in proc.stderr


async def test_unreachable_discord_api(tmp_path: Path) -> None:
    token = "MTAx.discord-test-token.abcdefghijklmnopqrstuvwxyz"
    proc = await _run(
        tmp_path, DISCORD_BOT_TOKEN=token, DISCORD_API_BASE_URL=f"http://127.0.0.1:{_closed_port()}/api/v10"
    )
    assert_one_clear_line(proc, "DISCORD_", "127.0.0.1")
    assert token not in proc.stderr


async def test_a_failing_platform_does_not_take_down_the_other(fake: FakeBotAPI, tmp_path: Path) -> None:
    user = fake.user(4242)
    settings = {
        "TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url,
        "DISCORD_BOT_TOKEN": "MTAx.discord-test-token.abcdefghijklmnopqrstuvwxyz",
        "DISCORD_API_BASE_URL": f"http://127.0.0.1:{_closed_port()}/api/v10",
    }
    async with running_bot(tmp_path, **settings) as bot:
        await bot.wait_ready()
        status, body = await bot.get("/readyz")
        assert status == 200 and json.loads(body)["platforms"] == {"telegram": True}
        assert "health server on 127.0.0.1:" in bot.log  # HEALTH_HOST unset: loopback, not every address
        await user.send("/start")
        assert (await user.pop_until_buttons())[-1].labels[0] == "Help me decide"
        errors = [line for line in bot.log.splitlines() if "ERROR" in line]
        assert len(errors) == 1 and "DISCORD_" in errors[0] and "other platforms keep running" in errors[0]
        await bot.wait_metric('optout_errors_total{instance="test-bot",kind="platform_start"} 1.0')
        assert await bot.terminate(within=10) == 0
    assert "Traceback" not in bot.log


async def test_health_port_already_taken(fake: FakeBotAPI, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = await _run(
            tmp_path, HEALTH_PORT=str(port), HEALTH_HOST="127.0.0.1",
            TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_API_BASE_URL=fake.base_url,
        )
    assert_one_clear_line(proc, "HEALTH_PORT", str(port))


# Settings of the wrong shape --------------------------------------------------------------------
# Checked before anything happens: no database file, no health server, not one log line.
GOOD_TELEGRAM = {"TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN}
WEBHOOK = {**GOOD_TELEGRAM, "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/hook"}


@pytest.mark.parametrize(
    ("settings", "name", "says"),
    [
        ({"TELEGRAM_BOT_TOKEN": "not-a-token"}, "TELEGRAM_BOT_TOKEN", "malformed"),
        ({"TELEGRAM_BOT_TOKEN": "123456789:AAtoo-short"}, "TELEGRAM_BOT_TOKEN", "malformed"),
        ({"DISCORD_BOT_TOKEN": "not-a-token"}, "DISCORD_BOT_TOKEN", "malformed"),
        ({**WEBHOOK, "TELEGRAM_WEBHOOK_URL": "bot.example.org/hook", "TELEGRAM_WEBHOOK_SECRET": "s3cret"},
         "TELEGRAM_WEBHOOK_URL", "malformed"),
        ({**WEBHOOK, "TELEGRAM_WEBHOOK_SECRET": "not allowed!"}, "TELEGRAM_WEBHOOK_SECRET", "malformed"),
        ({**GOOD_TELEGRAM, "TELEGRAM_API_BASE_URL": "localhost:8081/bot"}, "TELEGRAM_API_BASE_URL", "malformed"),
        ({"DATABASE_URL": "sqlite://bot.db"}, "DATABASE_URL", "malformed"),
        ({"DATABASE_URL": "postgresql://optout:hunter2@db:port/optout"}, "DATABASE_URL", "malformed"),
        ({"DATABASE_URL": "postgresql://optout:hunter2@:5432/optout"}, "DATABASE_URL", "malformed"),
        ({"DATABASE_URL": "mysql://optout:hunter2@db/optout"}, "DATABASE_URL", "unknown scheme"),
        ({"CONTENT_PATH": "missing.yaml"}, "CONTENT_PATH", "no such file"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_a_setting_of_the_wrong_shape_stops_run_before_anything_happens(
    tmp_path: Path, settings: dict[str, str], name: str, says: str
) -> None:
    workdir = tmp_path / "run"
    workdir.mkdir()
    port = free_port()
    env = {"LOG_LEVEL": "DEBUG", "HEALTH_HOST": "127.0.0.1", "HEALTH_PORT": str(port), "DATABASE_URL": f"sqlite:///{workdir / 'bot.db'}", **settings}
    proc = run_cli(["run"], workdir, stdin=QUIT, **env)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [proc.stderr.strip()], proc.stderr  # one line, no log line before it
    assert proc.stderr.startswith(f"optout-bot: {name}: ") and says in proc.stderr
    assert list(workdir.iterdir()) == []  # no database file (nor anything else) was created
    for secret in ("not-a-token", "AAtoo-short", "hunter2", "not allowed!", DEFAULT_TOKEN):
        assert secret not in proc.stderr


def test_an_unreachable_postgresql_is_one_line_without_the_password(tmp_path: Path) -> None:
    url = f"postgresql://optout:hunter2@127.0.0.1:{free_port()}/optout"
    proc = run_cli(["run"], tmp_path, stdin=QUIT, DATABASE_URL=url, **GOOD_TELEGRAM)
    line = assert_one_clear_line(proc, "DATABASE_URL", "127.0.0.1")
    assert "hunter2" not in proc.stderr + proc.stdout and "optout@127.0.0.1" in line


def test_version_comes_from_the_installed_package(tmp_path: Path) -> None:
    from importlib.metadata import version

    proc = run_bot(["--version"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"optout-bot {version('optout-assistant')}"


def test_content_check_does_not_check_the_shipped_guide_in_place_of_a_missing_content_path(tmp_path: Path) -> None:
    proc = run_cli(["content", "check"], tmp_path, CONTENT_PATH=str(tmp_path / "missing.yaml"))
    line = assert_one_clear_line(proc, "CONTENT_PATH", "no such file", "missing.yaml")
    assert proc.stdout == "" and "ok" not in line
