"""The terminal chat, started as a user would: `optout-bot chat` with piped input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import MINI_GUIDE, ROOT

EXPECTED = """\
Hi! What would you like to do?

You have 2 days left, until 8 October 2025.
  1) Help me decide
  2) Just show me the steps
  3) What changed?
  4) Sources

> 1
  ✔ Help me decide

Which plan do you use?
  1) Free
  2) Pro
  3) Team
  4) ⬅ Back
  5) ↺ Start over

> 2
  ✔ Pro

Do you use Claude Code?
  1) Yes
  2) No
  3) ⬅ Back
  4) ↺ Start over

> hello
I can only follow the buttons, not typed messages (and I don't keep what you type). Here is where we are:

Do you use Claude Code?
  1) Yes
  2) No
  3) ⬅ Back
  4) ↺ Start over

> 1
  ✔ Yes

1. Open Settings
2. Turn off Help improve Claude

Claude Code follows the same setting.
  1) I've turned it off
  2) Remind me
  3) 📚 Sources
  4) ⬅ Back
  5) ↺ Start over

> 4
Do you use Claude Code?
  1) Yes
  2) No
  3) ⬅ Back
  4) ↺ Start over

> 4
Hi! What would you like to do?

You have 2 days left, until 8 October 2025.
  1) Help me decide
  2) Just show me the steps
  3) What changed?
  4) Sources

Bye! You can change the setting at any time.
"""


def _chat(tmp_path: Path, script: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/chat.db", "CONTENT_PATH": str(MINI_GUIDE)}
    env.pop("FAKE_NOW", None)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", *args], input=script, capture_output=True, text=True,
        env=env, cwd=tmp_path, timeout=60,
    )


def test_scripted_transcript_line_by_line(tmp_path: Path) -> None:
    # 5 October 12:00 UTC: 2 whole days before 8 October is first read anywhere (UTC+14).
    run = _chat(tmp_path, "1\n2\nhello\n1\n4\n4\n", "--as-of", "2025-10-05")
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == EXPECTED.splitlines()
    assert run.stderr == ""


def test_chat_with_a_pack_opens_that_assistants_guide(tmp_path: Path) -> None:
    # The shipped packs: Claude's first (CONTENT_PATH), ChatGPT's beside it.
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/chat.db", "CONTENT_PATH": str(ROOT / "content" / "claude.yaml")}
    env.pop("FAKE_NOW", None)
    run = subprocess.run([sys.executable, "-m", "bot.cli", "chat", "--pack", "chatgpt"], input="", capture_output=True,
                         text=True, env=env, cwd=tmp_path, timeout=60)
    assert run.returncode == 0, run.stderr
    first_screen = run.stdout.split("\n\n")[0]
    assert first_screen.startswith("I help you check one ChatGPT setting: Improve the model for everyone."), run.stdout
    assert "How do you use ChatGPT?" in run.stdout
    assert "Claude" not in run.stdout


def test_the_same_guide_read_after_the_deadline(tmp_path: Path) -> None:
    run = _chat(tmp_path, "")
    assert run.returncode == 0
    assert run.stdout.splitlines()[:3] == ["Hi! What would you like to do?", "", "The deadline passed on 8 October 2025."]


def test_a_bad_date_is_one_line(tmp_path: Path) -> None:
    run = _chat(tmp_path, "", "--as-of", "next tuesday")
    assert run.returncode == 2
    assert run.stderr.strip() == "optout-bot: --as-of: not a date: 'next tuesday' (use YYYY-MM-DD)"


def test_run_without_tokens_opens_the_terminal_chat(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path}/run.db", CONTENT_PATH=str(MINI_GUIDE), HEALTH_PORT="0")
    run = subprocess.run([sys.executable, "-m", "bot.cli", "run"], input="2\n", capture_output=True, text=True,
                         env=env, cwd=tmp_path, timeout=60)
    assert run.returncode == 0
    assert "no TELEGRAM_BOT_TOKEN, DISCORD_BOT_TOKEN or WEB_PORT is set: opening the terminal chat" in run.stderr
    assert "1. Open Settings <& more>" in run.stdout


def test_the_console_entry_point_is_installed() -> None:
    script = Path(sys.executable).parent / "optout-bot"
    assert script.exists()
    run = subprocess.run([str(script), "--help"], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0 and "chat" in run.stdout and "content" in run.stdout
