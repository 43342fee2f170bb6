"""Discord servers' announcement channels: the admin API and the announcements at the guide's offsets."""

from __future__ import annotations

from bot.clock import ManualClock
from bot.events import Recipient
from bot.reminders.service import ReminderService
from tests.reminders.helpers import EARLY, days, eventually, settle, write_guide

# The adapter picks the scope (Discord: the server, here "77") and the channel in it.
NEWS = Recipient("discord", "channel", "700")
OTHER = Recipient("discord", "channel", "701")


async def test_a_chosen_channel_gets_each_announcement_once(db, tmp_path, discord_platform, running) -> None:
    clock = ManualClock(EARLY)
    guide = write_guide(tmp_path / "g.yaml", [("final", EARLY + days(10), ["P7D", "P1D"])])
    service = ReminderService(db, db, guide, clock)
    text = await service.subscribe_channel(NEWS, "77", EARLY)
    assert text.startswith("Deadline announcements are on for this server. I'll post:")
    assert "4 September 2025: 7 days before the final deadline" in text
    running.start(service, {"discord": discord_platform})

    await clock.advance(days(3))
    await eventually(lambda: len(discord_platform.sent) == 1)
    message = discord_platform.sent[0]
    assert message.recipient == NEWS
    assert "📢 **the final deadline**" in message.replies[0].text and "**6 days** left" in message.replies[0].text
    # The switch can be changed at any time (F9): the date is for making a choice, not a last chance.
    assert "left to make your choice" in message.replies[0].text
    assert "you can switch off “Help improve Claude” (it may read “Help improve our AI models”) now or at any time later" in (
        message.replies[0].text)
    assert [b.data for row in message.replies[0].buttons for b in row] == ["mini/e:steps"]

    # Moving the announcements to another channel takes effect for the next one.
    await service.subscribe_channel(OTHER, "77", clock.now())
    await clock.advance(days(6))
    await eventually(lambda: len(discord_platform.sent) == 2)
    await settle()
    assert [m.recipient for m in discord_platform.sent] == [NEWS, OTHER]


async def test_status_and_turning_announcements_off(db, tmp_path, discord_platform, running) -> None:
    clock = ManualClock(EARLY)
    guide = write_guide(tmp_path / "g.yaml", [("final", EARLY + days(10), ["P7D"])])
    service = ReminderService(db, db, guide, clock)
    assert await service.channel_status("discord", "77", EARLY) == "Deadline announcements are not set up for this server."
    await service.subscribe_channel(NEWS, "77", EARLY)
    assert "7 days before the final deadline" in await service.channel_status("discord", "77", EARLY)
    assert await service.unsubscribe_scope("discord", "77") is True
    assert await service.unsubscribe_scope("discord", "77") is False
    running.start(service, {"discord": discord_platform})
    await clock.advance(days(5))
    await settle()
    assert discord_platform.sent == []


async def test_a_channel_with_no_deadline_ahead_waits_for_a_new_one(db, tmp_path, discord_platform) -> None:
    clock = ManualClock(EARLY + days(30))
    old = write_guide(tmp_path / "old.yaml", [("final", EARLY + days(10), ["P7D"])])
    text = await ReminderService(db, db, old, clock).subscribe_channel(NEWS, "77", clock.now())
    assert "No deadline is ahead right now" in text
    new = write_guide(tmp_path / "new.yaml", [("final", EARLY + days(10), ["P7D"]),
                                              ("next", EARLY + days(60), ["P7D"])], version="rem-2")
    service = ReminderService(db, db, new, clock)
    assert await service.sync(clock.now()) == 1
    assert "7 days before the next deadline" in await service.channel_status("discord", "77", clock.now())


async def test_an_unreachable_channel_turns_announcements_off(db, tmp_path, discord_platform, running, caplog) -> None:
    clock = ManualClock(EARLY)
    guide = write_guide(tmp_path / "g.yaml", [("final", EARLY + days(10), ["P7D", "P1D"])])
    service = ReminderService(db, db, guide, clock)
    await service.subscribe_channel(NEWS, "77", EARLY)
    discord_platform.blocked.add("700")
    running.start(service, {"discord": discord_platform})
    await clock.advance(days(3))
    await eventually(lambda: len(discord_platform.attempts) == 1)
    await clock.advance(days(6))
    await settle()
    assert discord_platform.attempts == ["700"]
    assert await service.channel_status("discord", "77", clock.now()) == "Deadline announcements are not set up for this server."
    assert sum("announcement channel cannot be reached" in r.getMessage() for r in caplog.records) == 1
