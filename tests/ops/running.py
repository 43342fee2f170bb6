"""A bot started as an operator starts it (``optout-bot run`` with env vars), for tests that talk to it while it runs."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from tests.ops.helpers import BOT, bot_env, free_port


@dataclass
class RunningBot:
    proc: asyncio.subprocess.Process
    log_path: Path
    health: str  # http://127.0.0.1:PORT

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_records(self) -> list[dict]:
        """The JSON log lines (LOG_FORMAT=json); a line that is not JSON fails the test."""
        return [json.loads(line) for line in self.log.splitlines() if line.strip()]

    async def get(self, path: str) -> tuple[int, str]:
        async with aiohttp.ClientSession() as session, session.get(self.health + path) as resp:
            return resp.status, await resp.text()

    async def wait_ready(self, within: float = 20.0) -> None:
        """Poll /readyz until it answers 200; fail at once, with the log, if the bot exits instead."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            if self.proc.returncode is not None:
                raise AssertionError(f"the bot exited with {self.proc.returncode}:\n{self.log}")
            try:
                if (await self.get("/readyz"))[0] == 200:
                    return
            except aiohttp.ClientError:
                pass  # not listening yet
            if loop.time() > deadline:
                raise AssertionError(f"/readyz not 200 within {within} s:\n{self.log}")
            await asyncio.sleep(0.05)

    async def wait_metric(self, line: str, within: float = 10.0) -> str:
        """Poll /metrics until it holds ``line``; return the whole page."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            status, page = await self.get("/metrics")
            if status == 200 and line in page.splitlines():
                return page
            if loop.time() > deadline:
                raise AssertionError(f"/metrics did not show {line!r} within {within} s:\n{page}")
            await asyncio.sleep(0.05)

    async def terminate(self, within: float) -> int:
        """Send SIGTERM and wait up to ``within`` seconds for the exit code."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.proc.wait(), within)
        except TimeoutError:
            raise AssertionError(f"the bot did not exit within {within} s of SIGTERM:\n{self.log}") from None


@asynccontextmanager
async def running_bot(tmp_path: Path, **settings: str | None) -> AsyncIterator[RunningBot]:
    """Start ``optout-bot run`` in ``tmp_path`` with the health server on a free port; kill it if a test fails."""
    port = free_port()
    log_path = tmp_path / f"bot-{port}.log"
    # No HEALTH_HOST: the default (loopback) is what these tests reach the endpoints on.
    env = bot_env(tmp_path, HEALTH_PORT=str(port), **settings)
    with log_path.open("w") as log:
        proc = await asyncio.create_subprocess_exec(
            str(BOT), "run", cwd=tmp_path, env=env,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )
    bot = RunningBot(proc, log_path, f"http://127.0.0.1:{port}")
    try:
        yield bot
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
