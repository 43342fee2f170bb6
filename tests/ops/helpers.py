"""Run ``optout-bot`` as an operator would: the installed command, env vars, a clean working directory."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bot.logs import NOISY as LIBRARY_LOGGERS
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


def run_cli(args: list[str], tmp_path: Path, *, stdin: str = "", **settings: str | None) -> subprocess.CompletedProcess[str]:
    """What ``run_bot`` runs, in this process: ``cli.main(args)`` in ``tmp_path`` with the same environment.

    For checks that end before any platform starts (a start-up mistake, a command's own output): a
    subprocess adds half a second of imports and nothing that is checked. The environment, working
    directory, standard streams and logging set-up are put back afterwards.
    """
    from bot.cli import main

    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    root = logging.getLogger()
    saved_logging = (root.handlers[:], root.level, {n: logging.getLogger(n).level for n in LIBRARY_LOGGERS})
    saved_stdin = sys.stdin
    out, err = io.StringIO(), io.StringIO()
    os.environ.clear()
    os.environ.update(bot_env(tmp_path, **settings))
    os.chdir(tmp_path)
    sys.stdin = io.StringIO(stdin)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(args)
            except SystemExit as exc:  # argparse's --version and usage errors
                code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.stdin = saved_stdin
        os.chdir(saved_cwd)
        os.environ.clear()
        os.environ.update(saved_env)
        root.handlers[:], level, levels = saved_logging
        root.setLevel(level)
        for name, named_level in levels.items():
            logging.getLogger(name).setLevel(named_level)
    return subprocess.CompletedProcess([str(BOT), *args], code, out.getvalue(), err.getvalue())
