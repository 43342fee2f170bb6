"""OPERATOR_DISCORD_CHANNEL_ID: the daily watch's summary posted in a server channel, through the fake Discord."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from adapters.discord import DiscordPlatform
from bot.clock import ManualClock
from bot.compose import build_services
from bot.settings import load_settings
from bot.watch.daily import daily_watch
from tests.discord.conftest import TOKEN
from tests.fakes.discord_api import FakeDiscord
from tests.watch.site import Page, Site, article, write_pack


async def test_the_summary_is_posted_in_the_operator_channel(tmp_path: Path) -> None:
    fake = FakeDiscord(TOKEN)
    await fake.start()
    try:
        async with Site() as site:
            site.pages["/faq"] = Page(article())
            pack = write_pack(tmp_path, "demo", {"faq": site.url("/faq"), "gone": site.url("/gone")})
            settings = load_settings(
                env_file=None, discord_bot_token=TOKEN, discord_api_base_url=fake.base_url, content_path=pack,
                database_url=f"sqlite:///{tmp_path / 'bot.db'}", health_port=0, content_watch="daily",
                operator_discord_channel_id=str(fake.news_channel_id),
            )
            services = await build_services(settings, clock=ManualClock(datetime(2026, 12, 6, 6, tzinfo=UTC)))
            platform = DiscordPlatform(services.settings, services.engine, services.reminders, services.storage,
                                       services.clock)
            await platform.start()
            try:
                watch = daily_watch(settings, services.storage, services.storage, services.clock, [platform])
                assert watch is not None
                reader = fake.member(6201)  # someone in the server, who sees what is posted in #news
                report = await watch.run_if_due()
                assert report is not None and report.exit_code == 1
                posted = await reader.pop_message()
                assert posted.channel_id == fake.news_channel_id and not posted.ephemeral
                lines = posted.content.splitlines()
                assert lines[0] == "**Source watch**: checked 2 source(s): 0 changed, 1 failed, 1 unchanged (1 read for the first time)"
                assert lines[1] == f"demo gone (CG1, CG2): not found (HTTP 404) {site.url('/gone')}"
            finally:
                await platform.stop()
                await services.storage.close()
    finally:
        await fake.close()
    assert fake.violations == []
