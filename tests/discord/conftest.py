"""Run ``optout-bot run`` as an operator would, against the fake Discord on 127.0.0.1."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.guide import Guide, load_guide
from tests.fakes.discord_api import FakeDiscord

ROOT = Path(__file__).resolve().parents[2]
BOT = ROOT / ".venv" / "bin" / "optout-bot"
TOKEN = "MTA5ODc2NTQzMjEwOTg3NjU0.GfAkE1.s3cr3t-t0ken-never-in-logs_xyz"
FAKE_NOW = "2026-11-22T12:00:00Z"


def guide_path() -> Path:
    """The shipped guide (its own tests check that it passes the content check)."""
    return ROOT / "content" / "claude.yaml"


GUIDE_PATH = guide_path()


@pytest.fixture(scope="session")
def guide() -> Guide:
    return load_guide(GUIDE_PATH)


class BotProcess:
    """One ``optout-bot run`` subprocess; its stdout and stderr go to a file the test can read."""

    def __init__(self, fake: FakeDiscord, db: Path, log: Path, **env: str) -> None:
        self.fake = fake
        self.db = db
        self.log = log
        self.env = env
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, identifies: int | None = None) -> BotProcess:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "TELEGRAM_"))},
            "DISCORD_BOT_TOKEN": TOKEN,
            "DISCORD_API_BASE_URL": self.fake.base_url,
            "DATABASE_URL": f"sqlite:///{self.db}",
            "HEALTH_PORT": "0",
            "NO_PROXY": "127.0.0.1,localhost",
            "CONTENT_PATH": str(GUIDE_PATH),
            # DEBUG makes discord.py write every gateway payload; the token test asks for it explicitly.
            "LOG_LEVEL": "INFO",
            "FAKE_NOW": FAKE_NOW,
            # The fake sends its one server at once; discord.py's default 2 s wait for more is dead time.
            "DISCORD_GUILD_READY_TIMEOUT": "0.1",
            **self.env,
        }
        before = self.fake.identifies
        since = len(self.output())  # a restarted bot appends to the same log
        out = self.log.open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            str(BOT), "run", cwd=self.db.parent, env=env, stdout=out, stderr=asyncio.subprocess.STDOUT
        )
        out.close()
        await self.wait_for_log("discord: running", since=since)
        await self.fake.wait_identified(identifies or before + 1)
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    async def wait_for_log(self, text: str, within: float = 30.0, since: int = 0) -> None:
        deadline = time.monotonic() + within
        while text not in self.output()[since:]:
            if self.proc is not None and self.proc.returncode is not None:
                raise AssertionError(f"optout-bot exited ({self.proc.returncode}):\n{self.output()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} in the bot's output:\n{self.output()[-3000:]}")
            await asyncio.sleep(0.05)

    async def stop(self) -> int:
        if self.proc is None or self.proc.returncode is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.proc.wait(), 15)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise AssertionError(f"optout-bot did not stop on SIGTERM:\n{self.output()[-3000:]}") from None


@contextlib.asynccontextmanager
async def serving_fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord(TOKEN)
    await server.start()
    try:
        yield server
    finally:
        await server.close()


@contextlib.asynccontextmanager
async def running_bot(fake: FakeDiscord, workdir: Path) -> AsyncIterator[BotProcess]:
    process = await BotProcess(fake, workdir / "optout.db", workdir / "bot.log").start()
    try:
        yield process
    finally:
        code = await process.stop()
    assert code == 0, process.output()[-3000:]
    assert fake.violations == [], fake.violations


# One fake Discord and one bot per module (each test plays its own members): a bot's start is most of
# a test's time. A module that needs a fresh fake or its own processes overrides these two with
# function-scoped ones built from serving_fake and running_bot; one that uses them marks its tests
# pytest.mark.asyncio(loop_scope="module"), the loop they run on.
@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def fake() -> AsyncIterator[FakeDiscord]:
    async with serving_fake() as server:
        yield server


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(fake: FakeDiscord, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotProcess]:
    async with running_bot(fake, tmp_path_factory.mktemp("bot")) as process:
        yield process


if sys.platform == "win32":  # pragma: no cover - the bot targets Linux containers
    pytest.skip("POSIX signals needed", allow_module_level=True)
