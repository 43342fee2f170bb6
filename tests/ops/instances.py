"""Several `optout-bot run` processes on one PostgreSQL database, in Telegram webhook mode behind a splitter.

The splitter stands in for the load balancer (nginx in docker-compose.yml's ``ha`` profile): it passes
each webhook POST to the next instance in turn and hands back that instance's status, so Telegram (the
fake) sees what it would see behind a real proxy.
"""

from __future__ import annotations

import itertools
import time
from datetime import datetime, timedelta
from pathlib import Path

from aiohttp import ClientError, ClientSession, ClientTimeout, web

from bot.clock import ManualClock
from bot.events import UserKey
from bot.reminders.service import ReminderService
from bot.storage import open_backend
from tests.fakes.telegram_api import FakeBotAPI
from tests.ops.helpers import free_port
from tests.reminders.helpers import write_guide
from tests.telegram.conftest import FAKE_NOW, MINI_GUIDE, BotProcess, bot_env

HOOK_PATH = "/telegram-hook"
SECRET = "ha-webhook-Secret_0123456789"
START = datetime.fromisoformat(FAKE_NOW)


class Splitter:
    """A round-robin HTTP proxy on 127.0.0.1 in front of the instances' webhook ports."""

    def __init__(self) -> None:
        self.targets: list[str] = []
        self.routed: list[int] = []  # which target each POST went to
        self.port = free_port()
        self._next = itertools.count()
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{HOOK_PATH}"

    async def __aenter__(self) -> Splitter:
        app = web.Application()
        app.router.add_route("POST", HOOK_PATH, self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self._session = ClientSession(timeout=ClientTimeout(total=10))
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        index = next(self._next) % len(self.targets)
        self.routed.append(index)
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("content-type", "x-telegram-bot-api-secret-token")}
        try:
            async with self._session.post(self.targets[index], data=await request.read(), headers=headers) as upstream:
                return web.Response(status=upstream.status, body=await upstream.read())
        except (ClientError, OSError):
            return web.Response(status=502)  # as nginx answers when the instance is gone


class Instance(BotProcess):
    """One `optout-bot run` in webhook mode; its FAKE_NOW follows the test's clock, as a real clock would."""

    def __init__(self, fake: FakeBotAPI, workdir: Path, database_url: str, public_url: str, t0: float,
                 guide: Path = MINI_GUIDE, **extra: str) -> None:
        self.webhook_port = free_port()
        self.t0 = t0
        super().__init__(fake, workdir, bot_env(
            fake, workdir, guide, DATABASE_URL=database_url, TELEGRAM_WEBHOOK_URL=public_url,
            TELEGRAM_WEBHOOK_SECRET=SECRET, TELEGRAM_WEBHOOK_LISTEN="127.0.0.1",
            TELEGRAM_WEBHOOK_PORT=str(self.webhook_port), **extra,
        ))

    @property
    def hook(self) -> str:
        """This instance's own webhook address, behind the splitter."""
        return f"http://127.0.0.1:{self.webhook_port}{HOOK_PATH}"

    async def start(self, wait_ready: bool = True) -> BotProcess:
        self.env["FAKE_NOW"] = (START + timedelta(seconds=time.monotonic() - self.t0)).isoformat()
        return await super().start(wait_ready)


def instances(fake: FakeBotAPI, tmp_path: Path, database_url: str, splitter: Splitter, count: int = 2,
              guide: Path = MINI_GUIDE, **extra: str) -> list[Instance]:
    """``count`` instances on one database, each registered with the splitter (none started yet)."""
    t0 = time.monotonic()
    made = []
    for n in range(count):
        workdir = tmp_path / f"instance-{n}"
        workdir.mkdir()
        made.append(Instance(fake, workdir, database_url, splitter.url, t0, guide, INSTANCE_NAME=f"bot-{n}", **extra))
    splitter.targets = [i.hook for i in made]
    return made


async def subscribed_to_a_deadline(fake: FakeBotAPI, database_url: str, tmp_path: Path, ids: list[int],
                                   due_in_s: int) -> Path:
    """Write a guide whose deadline reminder falls due ``due_in_s`` seconds after START (the instances run
    their clocks from START on the test's clock), subscribe ``ids`` to it in the database, and return the
    guide's path."""
    guide_path = tmp_path / "guide.yaml"
    guide = write_guide(guide_path, [("soon", START + timedelta(hours=2), [f"PT1H59M{60 - due_in_s}S"])])
    for uid in ids:
        fake.user(uid)
    storage = await open_backend(database_url)
    try:
        service = ReminderService(storage, storage, guide, ManualClock(START - timedelta(minutes=1)))
        for uid in ids:
            assert await service.subscribe(UserKey("telegram", str(uid)), "dl", START - timedelta(minutes=1))
    finally:
        await storage.close()
    return guide_path
