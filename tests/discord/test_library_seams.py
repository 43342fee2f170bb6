"""What the Discord adapter relies on in discord.py beyond its plain API; each test fails when discord.py changes it."""

from __future__ import annotations

import inspect
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import discord
import discord.http
import pytest
import yarl
from discord.gateway import DiscordWebSocket

from adapters.discord import DiscordPlatform
from adapters.discord.platform import VOICE_WARNING
from bot.compose import build_services
from bot.platform import PlatformError
from bot.settings import Settings
from tests.discord.conftest import FAKE_NOW, GUIDE_PATH, TOKEN, serving_fake
from tests.fakes.discord_api import FakeDiscord
from tests.ops.helpers import free_port


# A fresh fake and bot for each test here: these tests count the fake's connections and syncs.
@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with serving_fake() as server:
        yield server


def test_route_base_builds_every_rest_url() -> None:
    original = discord.http.Route.BASE
    try:
        discord.http.Route.BASE = "http://127.0.0.1:1/api/v10"
        assert discord.http.Route("GET", "/users/@me").url == "http://127.0.0.1:1/api/v10/users/@me"
    finally:
        discord.http.Route.BASE = original


def test_the_gateway_a_client_connects_to_is_the_default_gateway() -> None:
    assert isinstance(DiscordWebSocket.DEFAULT_GATEWAY, yarl.URL)
    assert "cls.DEFAULT_GATEWAY" in inspect.getsource(DiscordWebSocket.from_client)


def _platform(base_url: str, tmp_path: Path):
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        discord_bot_token=TOKEN, discord_api_base_url=base_url, content_path=GUIDE_PATH,
        database_url=f"sqlite:///{tmp_path / 'optout.db'}", fake_now=datetime.fromisoformat(FAKE_NOW),
        discord_guild_ready_timeout=0.1,
    )
    return build_services(settings)


async def test_the_library_defaults_are_back_once_the_platform_stops(fake: FakeDiscord, tmp_path: Path) -> None:
    defaults = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    services = await _platform(fake.base_url, tmp_path)
    platform = DiscordPlatform(services.settings, services.engine, services.reminders, services.storage, services.clock)
    try:
        await platform.start()
        assert discord.http.Route.BASE == fake.base_url.rstrip("/")
        assert DiscordWebSocket.DEFAULT_GATEWAY != defaults[1]
        await platform.stop()
        assert (discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY) == defaults
    finally:
        await services.storage.close()


async def test_the_library_defaults_are_back_after_a_failed_start(tmp_path: Path) -> None:
    defaults = discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    services = await _platform(f"http://127.0.0.1:{free_port()}/api/v10", tmp_path)
    platform = DiscordPlatform(services.settings, services.engine, services.reminders, services.storage, services.clock)
    try:
        with pytest.raises(PlatformError, match=r"cannot reach the Discord API at http://127\.0\.0\.1"):
            await platform.start()
        assert (discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY) == defaults
    finally:
        await services.storage.close()


def _warnings_of_a_new_client(make_client: str) -> list[str]:
    code = (
        "import logging, sys\n"
        "logging.basicConfig(stream=sys.stdout, level=logging.WARNING, format='%(name)s %(message)s')\n"
        "import discord\n"
        f"{make_client}\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    return [line for line in out.stdout.splitlines() if line.startswith("discord.client ")]


def test_discord_py_warns_about_voice_libraries_the_bot_does_not_need() -> None:
    # When this fails, discord.py stopped warning (or changed the text): drop or fix the filter in platform.py.
    lines = _warnings_of_a_new_client("discord.Client(intents=discord.Intents.none())")
    assert len(lines) == 2 and all(VOICE_WARNING in line for line in lines)


def test_the_bots_client_starts_without_voice_warnings() -> None:
    make = (
        "from adapters.discord.platform import OptoutClient\n"
        "OptoutClient(None, [], None, None)\n"
        "assert discord.VoiceClient.warn_nacl is False  # discord.py's own once-only flag, not ours\n"
    )
    assert _warnings_of_a_new_client(make) == []
