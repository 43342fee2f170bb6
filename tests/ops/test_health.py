"""/healthz, /readyz and /metrics as a scraper or orchestrator sees them, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.compose import Services, build_services
from bot.events import Start, UserKey
from bot.health import HealthServer
from bot.platform import Delivery, Outgoing
from bot.settings import load_settings
from tests.ops.helpers import MINI_GUIDE, ROOT


@dataclass
class StubPlatform:
    """Stands in for a remote platform connection whose state the test sets."""

    name: str
    up: bool = True

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def ready(self) -> bool:
        return self.up

    async def send(self, message: Outgoing) -> Delivery:
        return Delivery.SENT


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    settings = load_settings(
        env_file=None, content_path=MINI_GUIDE, database_url=f"sqlite:///{tmp_path / 'bot.db'}", health_port=0
    )
    services = await build_services(settings)
    yield services
    await services.storage.close()


@pytest.fixture
def running() -> list[StubPlatform]:
    """The platforms the health server sees as running; a test fills it."""
    return []


@pytest.fixture
async def http(services: Services, running: list[StubPlatform]) -> AsyncIterator[tuple[aiohttp.ClientSession, str]]:
    server = HealthServer("127.0.0.1", 0, services.storage, running)
    await server.start()
    async with aiohttp.ClientSession() as session:
        yield session, f"http://127.0.0.1:{server.port}"
    await server.stop()


async def test_healthz_answers_ok(http) -> None:
    session, base = http
    async with session.get(f"{base}/healthz") as resp:
        assert resp.status == 200
        assert await resp.text() == "ok"


async def test_readyz_is_ready_with_database_and_connected_platforms(http, running: list[StubPlatform]) -> None:
    session, base = http
    running[:] = [StubPlatform("telegram"), StubPlatform("discord")]
    async with session.get(f"{base}/readyz") as resp:
        assert resp.status == 200
        body = await resp.json()
    assert body == {"ready": True, "database": True, "platforms": {"telegram": True, "discord": True}, "not_ready": []}


async def test_readyz_names_the_platform_that_is_down(http, running: list[StubPlatform]) -> None:
    session, base = http
    running[:] = [StubPlatform("telegram"), StubPlatform("discord", up=False)]
    async with session.get(f"{base}/readyz") as resp:
        assert resp.status == 503
        assert (await resp.json())["not_ready"] == ["discord"]


async def test_readyz_is_not_ready_before_any_platform_runs(http) -> None:
    session, base = http
    async with session.get(f"{base}/readyz") as resp:
        assert resp.status == 503
        assert (await resp.json())["not_ready"] == ["platforms (none running)"]


async def test_readyz_names_the_database_when_it_does_not_answer(http, services: Services, running: list[StubPlatform]) -> None:
    session, base = http
    running[:] = [StubPlatform("telegram")]
    await services.storage.close()
    async with session.get(f"{base}/readyz") as resp:
        assert resp.status == 503
        body = await resp.json()
    assert body["database"] is False and body["not_ready"] == ["database"]


async def test_metrics_serves_prometheus_text_with_the_engine_histogram(http, services: Services) -> None:
    session, base = http
    before = await _sample(session, base, "optout_engine_step_seconds_count")
    await services.engine.handle(UserKey("telegram", "1"), Start())
    async with session.get(f"{base}/metrics") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        text = await resp.text()
    for name in ("optout_updates_total", "optout_reminders_total", "optout_errors_total", "optout_engine_step_seconds"):
        assert f"# TYPE {name} " in text
    assert await _sample(session, base, "optout_engine_step_seconds_count") == before + 1


async def test_every_metric_carries_the_instance_label(services: Services) -> None:
    server = HealthServer("127.0.0.1", 0, services.storage, [], instance="bot-7")
    await server.start()
    try:
        await services.engine.handle(UserKey("telegram", "1"), Start())
        async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{server.port}/metrics") as resp:
            text = await resp.text()
    finally:
        await server.stop()
    samples = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert any(line.startswith("optout_engine_step_seconds_count{") for line in samples)  # the names are kept
    assert samples and all('instance="bot-7"' in line for line in samples), text


async def test_metrics_speaks_openmetrics_when_asked(http) -> None:
    session, base = http
    async with session.get(f"{base}/metrics", headers={"Accept": "application/openmetrics-text"}) as resp:
        assert resp.headers["Content-Type"].startswith("application/openmetrics-text")
        assert (await resp.text()).rstrip().endswith("# EOF")


async def test_a_taken_port_is_an_oserror(services: Services) -> None:
    first = HealthServer("127.0.0.1", 0, services.storage, [])
    await first.start()
    try:
        with pytest.raises(OSError):
            await HealthServer("127.0.0.1", first.port, services.storage, []).start()
    finally:
        await first.stop()


async def _sample(session: aiohttp.ClientSession, base: str, name: str) -> float:
    async with session.get(f"{base}/metrics") as resp:
        for line in (await resp.text()).splitlines():
            if line.startswith(f"{name} "):
                return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def _healthcheck_command() -> list[str]:
    """The Dockerfile's HEALTHCHECK CMD (exec form), run with this interpreter instead of the image's."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    (line,) = [line for line in text.splitlines() if line.startswith("HEALTHCHECK")]
    command = json.loads(line[line.index("CMD") + 3 :])
    assert command[0] == "python"
    return [sys.executable, *command[1:]]


async def test_docker_healthcheck_command_passes_and_fails(services: Services) -> None:
    server = HealthServer("127.0.0.1", 0, services.storage, [])
    await server.start()
    try:
        up = await asyncio.to_thread(_probe, server.port)
    finally:
        await server.stop()
    down = await asyncio.to_thread(_probe, server.port)
    assert (up, down) == (0, 1)


def _probe(port: int | None) -> int:
    env = {**os.environ, "HEALTH_PORT": str(port), "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    return subprocess.run(_healthcheck_command(), env=env, capture_output=True, timeout=30).returncode
