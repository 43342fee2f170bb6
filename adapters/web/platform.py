"""The web chat as a platform of ``optout-bot run``: an aiohttp server started and stopped with the others."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from adapters.web.app import PLATFORM, WebChat
from bot.platform import Delivery, Outgoing, PlatformError

log = logging.getLogger(__name__)


class WebPlatform:
    name = PLATFORM

    def __init__(self, chat: WebChat, host: str, port: int) -> None:
        self.chat = chat
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        self._gone: asyncio.Future[str] | None = None

    async def start(self) -> None:
        runner = web.AppRunner(self.chat.application(), access_log=None)  # no access log: no IPs or ids kept
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port, shutdown_timeout=2.0).start()
        except OSError as exc:
            await runner.cleanup()
            raise PlatformError(
                f"WEB_PORT: cannot listen on {self.host}:{self.port} ({exc.strerror or exc}); pick a free port"
            ) from None
        self._runner = runner
        self._gone = asyncio.get_running_loop().create_future()
        log.info("web: serving the chat on http://%s:%d/", self.host, self.port)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()  # lets the requests in flight finish

    def ready(self) -> bool:
        return self._runner is not None

    async def send(self, message: Outgoing) -> Delivery:
        # A web page cannot be written to later; the web chat schedules nothing (its reminders are
        # calendar files), so this is only reached by a row from elsewhere.
        return Delivery.UNREACHABLE

    async def failed(self) -> str:
        if self._gone is None:
            self._gone = asyncio.get_running_loop().create_future()
        return await self._gone  # a listening server does not give up on its own
