"""In-process against the fake: DM reminders, closed DMs (never asked twice), announcements, channel set-up."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from datetime import datetime

import pytest
import pytest_asyncio

from adapters.discord import DiscordPlatform
from bot.compose import Services, build_services
from bot.events import Button, Message, Recipient
from bot.platform import Delivery, Outgoing
from bot.settings import Settings
from tests.discord.conftest import FAKE_NOW, GUIDE_PATH, TOKEN
from tests.fakes.discord_api import FakeChannel, FakeDiscord

pytestmark = pytest.mark.asyncio(loop_scope="module")

REMINDER = Message("⏰ **Reminder:** check the setting.", buttons=((Button("Show me the steps", "e:steps"),),))


# One platform for the module (each test has its own members and channels): its start is most of a test's time.
@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def services(fake: FakeDiscord, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Services]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        discord_bot_token=TOKEN,
        discord_api_base_url=fake.base_url,
        database_url=f"sqlite:///{tmp_path_factory.mktemp('sending') / 'optout.db'}",
        content_path=GUIDE_PATH,
        fake_now=datetime.fromisoformat(FAKE_NOW),
        discord_guild_ready_timeout=0.1,
    )
    built = await build_services(settings)
    yield built
    await built.storage.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def platform(services: Services, fake: FakeDiscord) -> AsyncIterator[DiscordPlatform]:
    started = DiscordPlatform(services.settings, services.engine, services.reminders, services.storage, services.clock)
    await started.start()
    assert started.ready()
    yield started
    await started.stop()
    assert not started.ready()
    assert fake.violations == []


def _posts(fake: FakeDiscord, channel_id: int) -> list[int]:
    return [status for method, path, status in fake.requests if (method, path) == ("POST", f"/channels/{channel_id}/messages")]


async def test_a_dm_reminder_arrives_with_working_buttons(fake: FakeDiscord, platform: DiscordPlatform) -> None:
    member = fake.member(6001)
    assert await platform.send(Outgoing(Recipient("discord", "user", "6001"), (REMINDER,))) is Delivery.SENT
    message = await member.pop_message()
    assert message.channel_id in fake.dm_channels and not message.ephemeral
    assert message.content.startswith("⏰ **Reminder:**")
    assert message.button("Show me the steps")["custom_id"] == "oo:6001:e:steps"  # type: ignore[index]

    await member.press("Show me the steps")
    shown = await member.pop_message()
    assert shown.id == message.id and shown.labels(), "the steps replace the reminder in place"


async def test_closed_dms_are_asked_once(
    fake: FakeDiscord, services: Services, platform: DiscordPlatform, caplog: pytest.LogCaptureFixture
) -> None:
    fake.member(6002)
    fake.closed_dms.add(6002)
    caplog.set_level(logging.INFO)
    assert await platform.send(Outgoing(Recipient("discord", "user", "6002"), (REMINDER,))) is Delivery.UNREACHABLE
    dm = next(c for c, m in fake.dm_channels.items() if m == 6002)
    assert _posts(fake, dm) == [403]

    assert await platform.send(Outgoing(Recipient("discord", "user", "6002"), (REMINDER,))) is Delivery.UNREACHABLE
    assert _posts(fake, dm) == [403], "a user who closed DMs is not asked again"
    info = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO and "closed their DMs" in r.getMessage()]
    assert len(info) == 1 and "6002" not in info[0], "logged once, without the user id"
    # Turning the user's reminders off on UNREACHABLE is the scheduler's part (tests/reminders).


async def test_an_announcement_opens_the_guide_for_whoever_presses(
    fake: FakeDiscord, platform: DiscordPlatform
) -> None:
    alice, bob = fake.member(6101), fake.member(6102)
    target = Recipient("discord", "channel", str(fake.news_channel_id))
    assert await platform.send(Outgoing(target, (Message("📢 **The deadline is near**"),))) is Delivery.SENT
    announcement = await alice.pop_message()
    assert (await bob.pop_message()).id == announcement.id, "everyone in the channel sees it"
    assert not announcement.ephemeral and announcement.channel_id == fake.news_channel_id
    (label,) = announcement.labels()
    assert announcement.button(label)["custom_id"].startswith("oa:")  # type: ignore[index]

    for member in (alice, bob):
        interaction = await member.press(label, fake.messages[announcement.id])
        guide = await member.pop_message()
        assert interaction.ack_type == 4 and guide.ephemeral and guide.visible_to == member.id
        assert guide.id != announcement.id and guide.labels()
    assert fake.messages[announcement.id].edits == 0


async def test_an_unknown_channel_is_not_asked_again(fake: FakeDiscord, platform: DiscordPlatform) -> None:
    assert await platform.send(Outgoing(Recipient("discord", "channel", "4242"), (REMINDER,))) is Delivery.UNREACHABLE
    assert await platform.send(Outgoing(Recipient("discord", "channel", "4242"), (REMINDER,))) is Delivery.UNREACHABLE
    assert _posts(fake, 4242) == [404]


async def test_admins_turn_channel_announcements_on_and_off(
    fake: FakeDiscord, services: Services, platform: DiscordPlatform
) -> None:
    from bot.reminders import texts as reminder_texts

    admin = fake.member(6201, admin=True)
    news = FakeChannel(fake.news_channel_id, "news")
    replies = []
    for line, options in (("optout-admin status", {}), ("optout-admin reminders on", {"channel": news}),
                          ("optout-admin status", {}), ("optout-admin reminders off", {}),
                          ("optout-admin status", {})):
        await admin.slash(line, **options)
        reply = await admin.pop_message()
        assert reply.ephemeral
        replies.append(reply.content)
    assert replies[0] == reminder_texts.CHANNEL_NONE
    assert replies[1].startswith("Deadline announcements are on") and replies[2] == replies[1]
    assert replies[3] == reminder_texts.CHANNEL_OFF
    assert replies[4] == reminder_texts.CHANNEL_NONE


# Discord limits a bot to about 50 requests a second over every route and every shard (interaction answers
# exempt). discord.py does not pace requests to that ahead of time: it waits out a 429 marked "global"
# with every request of its HTTP client paused, then sends the request again, once. The bot relies on
# that (README: "Rate limits across instances"), and on DISCORD_DM_PER_SECOND keeping reminders far below.
async def test_a_global_429_is_waited_out_and_the_message_sent_once(fake: FakeDiscord, platform: DiscordPlatform) -> None:
    members = [fake.member(6100 + i) for i in range(2)]
    fake.global_limit_next.append(0.5)
    started = time.monotonic()
    results = await asyncio.gather(*(platform.send(Outgoing(Recipient("discord", "user", str(m.id)), (REMINDER,)))
                                     for m in members))
    assert results == [Delivery.SENT, Delivery.SENT]
    assert time.monotonic() - started >= 0.5  # the retry_after was honoured
    for member in members:
        assert (await member.pop_message()).content.startswith("⏰")
        assert member.pending() == 0  # once, not twice
    assert [s for _, _, s in fake.requests].count(429) == 1
