"""Server admins set up reminder announcements; other members are refused, also when Discord lets them try."""

from __future__ import annotations

import pytest

from adapters.discord.handler import ADMIN_ONLY
from tests.discord.conftest import BotProcess
from tests.fakes.discord_api import MANAGE_GUILD, FakeChannel, FakeDiscord

pytestmark = pytest.mark.asyncio(loop_scope="module")

MEMBER_COMMANDS = {"start", "steps", "remind", "forget", "language", "sources", "privacy", "help"}


def _synced(fake: FakeDiscord) -> dict[str, dict]:
    _scope, commands = fake.syncs[-1]
    return {c["name"]: c for c in commands}


async def test_the_synced_commands_describe_themselves(fake: FakeDiscord, bot: BotProcess) -> None:
    commands = _synced(fake)
    assert set(commands) == {"optout", "optout-admin"}
    member = {o["name"]: o for o in commands["optout"]["options"]}
    assert set(member) == MEMBER_COMMANDS
    assert all(o["description"] and len(o["description"]) <= 100 for o in member.values())
    assert set(commands["optout"]["contexts"]) == {0, 1}, "usable in servers and in a DM with the bot"
    admin = commands["optout-admin"]
    assert int(admin["default_member_permissions"]) == MANAGE_GUILD
    assert admin["contexts"] == [0] and admin["dm_permission"] is False, "admin commands exist only in servers"
    assert {o["name"] for o in admin["options"]} == {"status", "reminders"}


async def test_a_member_without_manage_server_is_refused(fake: FakeDiscord, bot: BotProcess) -> None:
    member = fake.member(3001, admin=False)
    news = FakeChannel(fake.news_channel_id, "news")
    for line, options in (("optout-admin status", {}), ("optout-admin reminders on", {"channel": news}),
                          ("optout-admin reminders off", {})):
        interaction = await member.slash(line, **options)
        reply = await member.pop_message()
        assert interaction.ack_type == 4 and reply.ephemeral, line
        assert reply.content == ADMIN_ONLY, line


async def test_an_admin_gets_an_answer(fake: FakeDiscord, bot: BotProcess) -> None:
    admin = fake.member(3101, admin=True)
    news = FakeChannel(fake.news_channel_id, "news")
    for line, options in (("optout-admin status", {}), ("optout-admin reminders on", {"channel": news}),
                          ("optout-admin reminders off", {})):
        interaction = await admin.slash(line, **options)
        reply = await admin.pop_message()
        assert interaction.ack_type == 4 and reply.ephemeral, line
        assert reply.content and reply.content != ADMIN_ONLY, line
