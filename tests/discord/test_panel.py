"""A Start panel in a Discord server, and "📣 Share": `optout-bot run` with the shipped packs against the fake
Discord. An admin posts a panel, any member's press opens the guide privately in their own language, the
panel keeps working after a restart, a non-admin is refused; Share hands the member a message to copy."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from adapters.discord.handler import ADMIN_ONLY
from adapters.discord.panel import PANEL_CANNOT, PANEL_POSTED, PANEL_REMOVED, PANEL_REPLACED
from adapters.discord.render import render
from bot import texts
from bot.guide import Guide, load_guide
from bot.i18n import lang
from bot.share import COPY_INTRO, PANEL_START, SHARE
from tests.discord.conftest import GUIDE_PATH, BotProcess, serving_fake
from tests.fakes.discord_api import FakeChannel, FakeDiscord

# The module's fake Discord and bot (tests/discord/conftest.py), shared by the tests but the restart one.
pytestmark = pytest.mark.asyncio(loop_scope="module")

CHATGPT = load_guide(GUIDE_PATH.parent / "chatgpt.yaml")


def opening(guide: Guide, language: str = "en") -> str:
    """The first words of a guide's first screen in a language (markup left out)."""
    return guide.in_language(language).node(guide.start).blocks[0].text.replace("**", "")[:20]


async def counted(bot: BotProcess, like: str, want: dict[str, int], within: float = 10.0) -> dict[str, int]:
    """The funnel's counters matching ``like`` once they equal ``want`` (a bounded poll: the bot writes its
    tallies in batches), or as they are when time runs out."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        with sqlite3.connect(bot.db) as db:
            found = dict(db.execute("SELECT counter, SUM(n) FROM funnel WHERE counter LIKE ? GROUP BY counter",
                                    (like,)).fetchall())
        if found == want or loop.time() > deadline:
            return found
        await asyncio.sleep(0.05)


async def test_an_admin_posts_a_panel_and_members_start_the_guide_from_it(
    fake: FakeDiscord, bot: BotProcess, guide: Guide
) -> None:
    fake.guild_locale = "de"  # the server's language: the panel is read by everyone in it
    try:
        await _post_press_replace_remove(fake, bot, guide)
    finally:
        fake.guild_locale = "en-US"
        fake.read_only.clear()


async def _post_press_replace_remove(fake: FakeDiscord, bot: BotProcess, guide: Guide) -> None:
    admin, member, other = fake.member(4001, admin=True), fake.member(4002, locale="fr"), fake.member(4003)
    news = FakeChannel(fake.news_channel_id, "news")
    await admin.slash("optout-admin panel", channel=news)
    panel = await admin.pop_message()
    assert panel.channel_id == fake.news_channel_id and not panel.ephemeral and panel.visible_to is None
    assert guide.in_language("de").title in panel.content
    assert panel.labels() == [lang("de")._(PANEL_START)]
    done = await admin.pop_message()
    assert done.ephemeral and done.content == render(PANEL_POSTED.format(assistant="Claude", channel=f"<#{news.id}>"))
    assert (await member.pop_message()).id == panel.id and (await other.pop_message()).id == panel.id

    # A member presses: the guide opens privately, in the member's own language (French), at its start.
    press = await member.press(lang("de")._(PANEL_START), panel)
    shown = await member.pop_message()
    assert press.ack_type == 4 and shown.ephemeral and shown.visible_to == member.id
    assert shown.content.startswith(opening(guide, "fr")[:10]), shown.content[:200]
    assert other.pending() == 0, "nobody else sees the answer"
    assert await counted(bot, "%panel_press", {"claude/panel_press": 1}) == {"claude/panel_press": 1}

    # One panel per channel: posting again (another guide) replaces it.
    await admin.slash("optout-admin panel", channel=news, assistant="chatgpt")
    second = await admin.pop_message()
    replaced = await admin.pop_message()
    assert replaced.content == render(PANEL_REPLACED.format(assistant="ChatGPT", channel=f"<#{news.id}>"))
    assert fake.deleted == [panel.id] and second.id in fake.messages
    assert CHATGPT.title in second.content
    await other.press(lang("de")._(PANEL_START), second)
    chatgpt = "\n".join([(await other.pop_message()).content for _ in range(2)])
    assert opening(CHATGPT)[:15] in chatgpt
    both = {"claude/panel_press": 1, "chatgpt/panel_press": 1}
    assert await counted(bot, "%panel_press", both) == both

    # Removed: the message goes.
    await admin.slash("optout-admin panel", channel=news, remove=True)
    removed = await admin.pop_message()
    assert removed.content == render(PANEL_REMOVED.format(channel=f"<#{news.id}>"))
    assert second.id not in fake.messages
    # A channel the bot cannot post in: the admin is told what to fix.
    fake.read_only.add(news.id)
    await admin.slash("optout-admin panel", channel=news)
    refused = await admin.pop_message()
    assert refused.ephemeral and refused.content == render(PANEL_CANNOT.format(channel=f"<#{news.id}>"))
    assert fake.violations == []


async def test_a_panel_keeps_working_after_a_restart(tmp_path: Path, guide: Guide) -> None:
    # A fake and processes of its own: the bot is stopped and started again.
    async with serving_fake() as fake:
        first = await BotProcess(fake, tmp_path / "optout.db", tmp_path / "bot.log").start()
        admin, member = fake.member(4101, admin=True), fake.member(4102)
        await admin.slash("optout-admin panel", channel=FakeChannel(fake.news_channel_id, "news"))
        panel = await admin.pop_message()
        assert await first.stop() == 0
        second = await BotProcess(fake, tmp_path / "optout.db", tmp_path / "bot.log").start()
        try:
            await member.pop_message()  # the panel, as the member saw it posted
            await member.press(PANEL_START, panel)
            shown = await member.pop_message()
            assert shown.ephemeral and shown.content.startswith(opening(guide)[:10])
        finally:
            assert await second.stop() == 0
        assert fake.violations == []


async def test_a_member_without_manage_server_cannot_post_a_panel(fake: FakeDiscord, bot: BotProcess) -> None:
    member = fake.member(4201, admin=False)
    before = set(fake.messages)
    interaction = await member.slash("optout-admin panel", channel=FakeChannel(fake.news_channel_id, "news"))
    reply = await member.pop_message()
    assert interaction.ack_type == 4 and reply.ephemeral and reply.content == ADMIN_ONLY
    new = [m for i, m in fake.messages.items() if i not in before]
    assert new and all(m.visible_to == member.id for m in new), "nothing was posted in the channel"


async def test_share_gives_a_message_to_copy_and_posts_nothing(fake: FakeDiscord, bot: BotProcess) -> None:
    member = fake.member(4301)
    before = set(fake.messages)
    await member.slash("optout start", assistant="chatgpt")
    await member.pop_message()
    await member.slash("optout steps")  # in the guide used last: ChatGPT's
    steps = await member.pop_message()
    while SHARE not in steps.labels():
        steps = await member.pop_message()
    await member.press(SHARE, steps)
    copy = await member.pop_message()
    assert copy.ephemeral and copy.visible_to == member.id and copy.id != steps.id
    assert render(COPY_INTRO) in copy.content
    assert "ChatGPT" in copy.content and "Improve the model for everyone" in copy.content
    # No panel in this server: the link that adds the bot to a server.
    assert f"https://discord.com/oauth2/authorize?client_id={fake.app_id}" in copy.content
    assert str(member.id) not in copy.content
    new = [m for i, m in fake.messages.items() if i not in before]
    assert all(m.visible_to == member.id for m in new), "nothing was posted for the member"
    assert await counted(bot, "%share_sent", {"chatgpt/share_sent": 1}) == {"chatgpt/share_sent": 1}
    assert texts.START_OVER in steps.labels()
