"""The operator's HTTP endpoints: ``/healthz`` (alive), ``/readyz`` (database and platforms), ``/metrics``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from aiohttp import web
from prometheus_client import REGISTRY
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from bot.metrics import InstanceLabelled
from bot.platform import Platform

log = logging.getLogger(__name__)


class Database(Protocol):
    async def ping(self) -> bool: ...


@dataclass(frozen=True)
class Readiness:
    """What /readyz looks at: the database, and the platforms running (a list the caller fills as they start)."""

    database: Database
    platforms: Sequence[Platform]
    metrics: Collector = REGISTRY


_READINESS: web.AppKey[Readiness] = web.AppKey("readiness")


async def healthz(request: web.Request) -> web.Response:
    """Answer while the event loop runs (the Docker HEALTHCHECK)."""
    return web.Response(text="ok")


async def readyz(request: web.Request) -> web.Response:
    """Answer 200 when the database answers and every running platform is connected, else 503."""
    readiness = request.app[_READINESS]
    database = await readiness.database.ping()
    platforms = {p.name: bool(p.ready()) for p in readiness.platforms}
    not_ready = [] if database else ["database"]
    not_ready += [name for name, up in platforms.items() if not up]
    if not platforms:
        not_ready.append("platforms (none running)")
    body = {"ready": not not_ready, "database": database, "platforms": platforms, "not_ready": not_ready}
    return web.json_response(body, status=200 if not not_ready else 503)


async def metrics(request: web.Request) -> web.Response:
    """Serve every metric in the format the scraper asks for (Prometheus text or OpenMetrics)."""
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    # content_type carries a version and charset, which aiohttp's content_type= argument rejects.
    return web.Response(body=encoder(request.app[_READINESS].metrics), headers={"Content-Type": content_type})


def health_app(readiness: Readiness) -> web.Application:
    app = web.Application()
    app[_READINESS] = readiness
    app.add_routes([web.get("/healthz", healthz), web.get("/readyz", readyz), web.get("/metrics", metrics)])
    return app


class HealthServer:
    """The endpoints on ``host:port``; port 0 picks a free port (``port`` tells which, once started).

    With ``instance``, every metric carries it as the ``instance`` label.
    """

    def __init__(self, host: str, port: int, database: Database, platforms: Sequence[Platform],
                 instance: str | None = None) -> None:
        # access_log=None: Docker probes /healthz every 30 s; a line each time would drown the real events.
        # A short shutdown_timeout keeps a lingering scrape from eating the 10 s stop budget.
        metrics = InstanceLabelled(instance) if instance else REGISTRY
        self._runner = web.AppRunner(health_app(Readiness(database, platforms, metrics)), access_log=None,
                                     shutdown_timeout=1.0)
        self._host = host
        self._port = port
        self.port: int | None = None

    async def start(self) -> None:
        """Listen; raise OSError when the address cannot be bound."""
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        try:
            await site.start()
        except OSError:
            await self._runner.cleanup()
            raise
        self.port = self._runner.addresses[0][1]
        log.info("health server on %s:%d (/healthz, /readyz, /metrics)", self._host, self.port)

    async def stop(self) -> None:
        await self._runner.cleanup()
