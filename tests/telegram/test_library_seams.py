"""What the Telegram adapter relies on in python-telegram-bot beyond its plain API; each test fails when PTB changes it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.compose import build_services, create_platforms
from bot.settings import load_settings
from tests.fakes.telegram_api import DEFAULT_TOKEN
from tests.telegram.conftest import MINI_GUIDE

READ_RETRY_AFTER = (
    "import warnings\n"
    "warnings.simplefilter('error')\n"
    "from telegram.error import RetryAfter\n"
    "print(type(RetryAfter(5).retry_after).__name__)\n"
)


def _read_retry_after(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k != "PTB_TIMEDELTA"}
    return subprocess.run(
        [sys.executable, "-c", READ_RETRY_AFTER], env={**clean, **env}, capture_output=True, text=True, timeout=60
    )


def test_without_the_opt_in_ptb_still_warns_on_every_flood_error() -> None:
    # When this fails, PTB made timedelta the default: drop PTB_TIMEDELTA from bot/compose.py.
    proc = _read_retry_after()
    assert proc.returncode != 0
    assert "PTBDeprecationWarning" in proc.stderr and "PTB_TIMEDELTA" in proc.stderr


def test_with_the_opt_in_a_flood_error_is_built_without_a_warning() -> None:
    proc = _read_retry_after(PTB_TIMEDELTA="1")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "timedelta"


async def test_the_root_opts_in_when_it_builds_the_telegram_platform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PTB_TIMEDELTA", raising=False)
    settings = load_settings(
        env_file=None, telegram_bot_token=DEFAULT_TOKEN, content_path=MINI_GUIDE,
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
    )
    services = await build_services(settings)
    try:
        assert [p.name for p in create_platforms(services)] == ["telegram"]
    finally:
        await services.storage.close()
    assert os.environ["PTB_TIMEDELTA"] == "1"
