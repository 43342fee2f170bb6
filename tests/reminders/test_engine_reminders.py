"""The reminder flow as a user sees it through the engine: Remind me, pick, listing, stop."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import ManualClock
from bot.engine import Engine
from bot.guide import load_guide
from bot.reminders.service import ReminderService
from bot.reminders.texts import checkback_reminder, deadline_line, deadline_reminder, verify_reminder
from tests.core.driver import EngineChat
from tests.reminders.helpers import EARLY, FakePlatform, days, eventually, settle, write_guide


async def test_remind_me_pick_list_and_stop(db, tmp_path) -> None:
    clock = ManualClock(EARLY)
    guide = write_guide(tmp_path / "g.yaml", [("final", EARLY + days(10), ["P7D", "P1D"])])
    service = ReminderService(db, db, guide, clock)
    chat = EngineChat(Engine(guide, db, clock, reminders=service))

    await chat.start("steps")
    await chat.press("Remind me")
    assert "When would you like a reminder?" in chat.text_shown
    assert chat.labels[0] == "7 days and 1 day before 11 September 2025"

    await chat.press("7 days and 1 day before 11 September 2025")
    assert "**Done!** I'll remind you:" in chat.text_shown
    assert "4 September 2025: 7 days before the final deadline" in chat.text_shown
    assert "🔕 Stop reminders" in chat.labels

    await chat.command("remind")
    assert chat.text_shown.startswith("**Your reminders:**")
    assert "10 September 2025: 1 day before the final deadline" in chat.text_shown
    assert "a quick check that turning it off worked" in chat.text_shown  # saw the steps, not confirmed yet

    await chat.command("stop")
    assert "Reminders stopped" in chat.text_shown
    await chat.command("stop")
    assert "You have no reminders scheduled and follow no changes." in chat.text_shown


async def test_confirming_it_is_off_drops_the_did_it_work_check(db, tmp_path) -> None:
    clock = ManualClock(EARLY)
    guide = write_guide(tmp_path / "g.yaml", [("final", EARLY + days(10), ["P1D"])])
    service = ReminderService(db, db, guide, clock)
    chat = EngineChat(Engine(guide, db, clock, reminders=service))
    await chat.start("steps")
    await chat.press("Remind me")
    await chat.press("1 day before 11 September 2025")
    await chat.command("remind")
    assert "quick check" in chat.text_shown
    await chat.command("steps")
    await chat.press("I've turned it off")
    await chat.command("remind")
    assert "quick check" not in chat.text_shown
    assert "1 day before the final deadline" in chat.text_shown


async def test_an_offer_that_expired_while_the_menu_was_open(db, tmp_path) -> None:
    clock = ManualClock(EARLY)
    guide = write_guide(tmp_path / "g.yaml", [("final", EARLY + days(2), ["P1D"])])
    chat = EngineChat(Engine(guide, db, clock, reminders=ReminderService(db, db, guide, clock)))
    await chat.start("steps")
    await chat.press("Remind me")
    await clock.advance(days(1) + timedelta(minutes=1))
    await chat.press("1 day before 3 September 2025")
    assert "isn't available any more" in chat.text_shown
    assert chat.labels[:3] == ["In 1 week", "In 1 month", "In 3 months"]


async def test_the_reminder_buttons_work_in_the_engine(db, tmp_path, running) -> None:
    clock = ManualClock(EARLY)
    guide = write_guide(tmp_path / "g.yaml", [("final", EARLY + days(10), ["P7D", "P1D"])])
    service = ReminderService(db, db, guide, clock)
    chat = EngineChat(Engine(guide, db, clock, reminders=service))
    telegram = FakePlatform()
    await chat.start()
    await chat.command("remind")
    await chat.press("7 days and 1 day before 11 September 2025")
    running.start(service, {"telegram": telegram})
    await clock.advance(days(3))
    await eventually(lambda: len(telegram.sent) == 1)
    chat.buttons = [b for row in telegram.sent[0].replies[0].buttons for b in row]

    await chat.press("📋 Show me the steps")
    assert "Open **Settings**" in chat.text_shown
    chat.buttons = [b for row in telegram.sent[0].replies[0].buttons for b in row]
    await chat.press("🔕 Stop reminders")
    assert "Reminders stopped" in chat.text_shown
    await clock.advance(days(6))
    await settle()
    assert len(telegram.sent) == 1


async def test_after_confirming_only_check_backs_are_offered_even_before_the_deadline(db, tmp_path) -> None:
    clock = ManualClock(EARLY)
    guide = write_guide(tmp_path / "g.yaml", [("final", EARLY + days(10), ["P7D", "P1D"])])
    chat = EngineChat(Engine(guide, db, clock, reminders=ReminderService(db, db, guide, clock)))
    await chat.start("steps")
    await chat.press("I've turned it off")
    assert "Shall I check back with you" in chat.text_shown
    assert chat.labels == ["In 1 week", "In 1 month", "In 3 months", "📣 Share with a friend", "↺ Start over"]
    await chat.press("In 1 month")
    assert "**Done!** I'll check back with you on 1 October 2025" in chat.text_shown
    # Asked again later, the menu still offers check-backs, never "if you haven't turned it off yet".
    await chat.command("remind")
    assert "1 October 2025: a check-back to look at the setting again" in chat.text_shown
    assert chat.labels[:3] == ["In 1 week", "In 1 month", "In 3 months"]
    assert not any("before" in label for label in chat.labels)


def test_reminder_texts_name_both_labels_and_read_as_sentences() -> None:
    claude = load_guide()
    final = claude.deadline("final")
    line = deadline_line(final, timedelta(days=7))
    assert line == "1 October 2025: 7 days before the deadline to choose your Claude model-training setting (8 October 2025)"
    both = "“Help improve Claude” (it may read “Help improve our AI models”)"
    # Both labels, as the pack's YAML names the setting.
    assert both in checkback_reminder(claude).text
    assert both in verify_reminder(claude).text
    assert both in deadline_reminder(final, EARLY, claude).text
