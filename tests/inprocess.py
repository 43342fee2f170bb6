"""`optout-bot run`'s parts in the test's own process, on a clock the test moves.

What ``optout-bot run`` builds (bot.compose: services, platforms, serve) started here instead of in a
subprocess, with a ManualClock in place of the system clock: a reminder due in a minute is sent when
the test moves the clock, not a minute later. As PTB's own tests do, the real library talks to a fake
server (tests/fakes/); only a crash (SIGKILL) or signal handling needs a real process (the
BotProcess of tests/telegram/conftest.py and tests/discord/conftest.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from pathlib import Path

from bot.clock import ManualClock
from bot.compose import Services, build_services, create_platforms, load_packs, serve
from bot.settings import load_settings
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import FakeBotAPI


class InProcessBot:
    """The services and platforms of `optout-bot run`, served in this event loop until ``stop``."""

    def __init__(self, fake: FakeBotAPI | FakeDiscord, workdir: Path, content: Path, start: datetime,
                 **settings: object) -> None:
        self.clock = ManualClock(start)
        if isinstance(fake, FakeBotAPI):
            platform: dict[str, object] = {"telegram_bot_token": fake.token, "telegram_api_base_url": fake.base_url}
        else:
            platform = {"discord_bot_token": fake.token, "discord_api_base_url": fake.base_url,
                        "discord_guild_ready_timeout": 0.1}
        self.platform = "telegram" if isinstance(fake, FakeBotAPI) else "discord"
        self.settings = load_settings(
            env_file=None, database_url=f"sqlite:///{workdir / 'bot.db'}", content_path=content, health_port=0,
            **platform, **settings,
        )
        self.services: Services | None = None
        self._serving: asyncio.Task[int] | None = None

    async def start(self) -> InProcessBot:
        self.services = await build_services(self.settings, clock=self.clock)
        try:
            platforms = create_platforms(self.services)
            self._serving = asyncio.create_task(serve(self.services, platforms))
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 20
            while not all(p.ready() for p in platforms):
                if self._serving.done():
                    self._serving.result()  # raises what stopped it
                    raise AssertionError("the bot stopped before it was ready")
                if loop.time() > deadline:
                    raise AssertionError("the bot was not ready within 20 s")
                await asyncio.sleep(0.01)
        except BaseException:
            await self.stop()  # the database too: its open connection would keep the test run alive
            raise
        return self

    async def stop(self) -> None:
        if self._serving is not None and not self._serving.done():
            self._serving.cancel()  # serve's own clean-up runs: scheduler, platforms, retention
            with contextlib.suppress(asyncio.CancelledError):
                await self._serving
        if self.services is not None:
            await self.services.storage.close()
            self.services = None

    async def idle(self, within: float = 10.0) -> None:
        """Wait until no reminder is due or being sent at the clock's time (the scheduler has caught up)."""
        assert self.services is not None
        storage = self.services.storage
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        packs = [g.pack for g in load_packs(self.settings)]
        while True:
            due = await storage.next_due([self.platform], packs)
            if (due is None or due > self.clock.now()) and not (await storage.counts()).get("sending"):
                return
            if loop.time() > deadline:
                raise AssertionError(f"reminders due at {due} still unsent after {within:.0f} s")
            await asyncio.sleep(0.01)
