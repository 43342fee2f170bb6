"""The web chat built as the composition root builds it, on the shipped packs and a real SQLite file."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from html import unescape
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.clock import ManualClock
from bot.compose import Services, build_services, web_platform
from bot.settings import Settings
from tests.conftest import AFTER, SHIPPED_GUIDE

CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
BUTTONS = re.compile(r'<button type="submit" name="b" value="([^"]+)">([^<]+)</button>')


def settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = dict(content_path=SHIPPED_GUIDE, database_url=f"sqlite:///{tmp_path / 'web.db'}",
                                     web_port=8081, health_port=0)
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    built = await build_services(settings(tmp_path), clock=ManualClock(AFTER))
    yield built
    await built.storage.close()


@pytest.fixture
async def web_client(services: Services) -> AsyncIterator[Callable[..., object]]:
    """Make a client of a fresh web chat on the shared services; keyword arguments override settings."""
    clients: list[TestClient] = []

    async def make(**overrides: object) -> TestClient:
        services.settings = services.settings.model_copy(update=overrides)
        platform = web_platform(services, [])
        client = TestClient(TestServer(platform.chat.application()))  # type: ignore[attr-defined]
        await client.start_server()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


def buttons(page: str) -> dict[str, str]:
    """{label: posted value} of the page's step buttons."""
    return {unescape(label): unescape(value) for value, label in BUTTONS.findall(page)}


def csrf(page: str) -> str:
    return CSRF.findall(page)[0]
