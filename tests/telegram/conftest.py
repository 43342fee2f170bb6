"""Fixtures for the Telegram end-to-end tests: the fake Bot API and `optout-bot run` subprocesses.

Every module here runs its tests in one event loop per module (``loop_scope="module"``), so one
fake and one bot process can serve many tests, each playing its own users.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import pytest_asyncio

from tests.fakes.telegram_api import FakeBotAPI

ROOT = Path(__file__).resolve().parents[2]
OPTOUT_BOT = Path(sys.executable).parent / "optout-bot"
MINI_GUIDE = ROOT / "tests" / "fixtures" / "mini.yaml"
FAKE_NOW = "2026-11-22T12:00:00+00:00"  # after both 2025 deadlines, so texts do not depend on the real date
# Anything that is not the fake goes to this dead proxy and fails, so a subprocess cannot reach the internet.
DEAD_PROXY = "http://127.0.0.1:9"


class BotProcess:
    """`optout-bot run` as an operator starts it, pointed at the fake; output goes to a file."""

    def __init__(self, fake: FakeBotAPI, workdir: Path, env: dict[str, str]) -> None:
        self.fake = fake
        self.workdir = workdir
        self.env = env
        self.log_path = workdir / "bot.log"
        self.proc: asyncio.subprocess.Process | None = None
        self.starts = 0

    @property
    def db_path(self) -> Path:
        return Path(urlsplit(self.env["DATABASE_URL"]).path.removeprefix("/"))

    @property
    def output(self) -> str:
        """Everything the process wrote to stdout and stderr, across restarts."""
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    async def start(self, wait_ready: bool = True) -> BotProcess:
        self.starts += 1
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write(f"=== start {self.starts}\n")
        log = self.log_path.open("ab")
        try:
            self.proc = await asyncio.create_subprocess_exec(
                str(OPTOUT_BOT), "run", cwd=self.workdir, env=self.env, stdin=asyncio.subprocess.DEVNULL,
                stdout=log, stderr=asyncio.subprocess.STDOUT,
            )
        finally:
            log.close()
        if wait_ready:
            await self.wait_output(f"telegram: running (start {self.starts})", self._started_marker)
        return self

    def _started_marker(self) -> bool:
        text = self.output
        return text.count("telegram: running as @") >= self.starts

    async def wait_output(self, what: str, predicate: Callable[[], bool], within: float = 20.0) -> None:
        """Poll the output until ``predicate`` holds; fail early with the output if the process ends."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while not predicate():
            if self.proc is not None and self.proc.returncode is not None:
                raise AssertionError(f"the bot exited ({self.proc.returncode}) before {what}:\n{self.output[-3000:]}")
            if loop.time() > deadline:
                raise AssertionError(f"timed out waiting for {what}:\n{self.output[-3000:]}")
            await asyncio.sleep(0.05)

    async def wait_exit(self, within: float = 30.0) -> int:
        assert self.proc is not None
        try:
            return await asyncio.wait_for(self.proc.wait(), within)
        except TimeoutError:
            raise AssertionError(f"the bot did not exit within {within} s:\n{self.output[-3000:]}") from None

    async def stop(self, within: float = 15.0) -> int:
        """Stop as Docker does: SIGTERM, then wait for a clean exit."""
        if self.proc is None or self.proc.returncode is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.send_signal(signal.SIGTERM)
        return await self.wait_exit(within)

    async def kill(self) -> None:
        """End the process abruptly (a crash): nothing gets to finish."""
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()

    async def restart(self, *, crash: bool = False) -> BotProcess:
        if crash:
            await self.kill()
        else:
            assert await self.stop() == 0, self.output[-3000:]
        return await self.start()


def bot_env(fake: FakeBotAPI, workdir: Path, content: Path = MINI_GUIDE, **extra: str) -> dict[str, str]:
    """The environment an operator would set, pointed at the fake; nothing inherited can leak in."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(workdir),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "DATABASE_URL": f"sqlite:///{workdir / 'bot.db'}",
        "CONTENT_PATH": str(content),
        "HEALTH_PORT": "0",
        "LOG_LEVEL": "INFO",
        "FAKE_NOW": FAKE_NOW,
        "HTTP_PROXY": DEAD_PROXY,
        "HTTPS_PROXY": DEAD_PROXY,
        "ALL_PROXY": DEAD_PROXY,
        "NO_PROXY": "127.0.0.1,localhost",
    }
    env.update(extra)
    return env


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as api:
        yield api


@pytest_asyncio.fixture(loop_scope="module")
async def start_bot(fake: FakeBotAPI, tmp_path_factory: pytest.TempPathFactory):
    """Start `optout-bot run` processes on demand; every one is stopped when the test ends."""
    started: list[BotProcess] = []

    async def start(content: Path = MINI_GUIDE, wait_ready: bool = True, **extra: str) -> BotProcess:
        workdir = tmp_path_factory.mktemp("bot")
        bot = BotProcess(fake, workdir, bot_env(fake, workdir, content, **extra))
        started.append(bot)
        return await bot.start(wait_ready)

    yield start
    for bot in started:
        with contextlib.suppress(AssertionError):
            await bot.stop()
        await bot.kill()


@pytest.fixture(autouse=True)
def ptb_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any in-process PTB request to a non-loopback host fail, as PTB's own test suite does.

    tests/conftest.py already refuses non-loopback sockets; this fails earlier with the URL (token
    cut off) so the reason is plain.
    """
    from telegram.request import HTTPXRequest

    real = HTTPXRequest.do_request

    async def do_request(self: HTTPXRequest, url: str, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        host = urlsplit(url).hostname
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise AssertionError(f"an in-process PTB request tried the network: {host}")
        return await real(self, url, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(HTTPXRequest, "do_request", do_request)
