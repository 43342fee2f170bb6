"""Run ``optout-bot`` as an operator would: the installed command, env vars, a clean working directory."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
BOT = Path(sys.executable).with_name("optout-bot")
MINI_GUIDE = ROOT / "tests" / "fixtures" / "mini.yaml"


def bot_env(tmp_path: Path, **settings: str | None) -> dict[str, str]:
    """Return an environment holding only the given settings (None removes one; none leak in from the runner)."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    env.update(
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        HEALTH_PORT="0",
        CONTENT_PATH=str(MINI_GUIDE),
        DATABASE_URL=f"sqlite:///{tmp_path / 'bot.db'}",
        PYTHONUNBUFFERED="1",
        INSTANCE_NAME="test-bot",  # the instance label of every metric
    )
    for name, value in settings.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run_bot(
    args: list[str], tmp_path: Path, *, stdin: str = "", timeout: float = 60, **settings: str | None
) -> subprocess.CompletedProcess[str]:
    """Run the command to completion in ``tmp_path`` (so no stray .env is read)."""
    return subprocess.run(
        [str(BOT), *args],
        cwd=tmp_path,
        env=bot_env(tmp_path, **settings),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate: Callable[[], object], deadline_s: float, what: str) -> object:
    """Poll ``predicate`` until it returns something truthy; fail after ``deadline_s`` seconds."""
    deadline = time.monotonic() + deadline_s
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {deadline_s} s waiting for {what}")
        time.sleep(0.05)


def assert_one_clear_line(proc: subprocess.CompletedProcess[str], *needles: str) -> str:
    """Check a failed start: non-zero exit, no traceback, one stderr line naming what to fix."""
    assert proc.returncode != 0, proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    naming = [line for line in lines if all(n in line for n in needles)]
    assert len(naming) == 1, f"expected one line naming {needles}, got:\n{proc.stderr}"
    return naming[0]
