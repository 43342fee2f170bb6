"""What "Remind me" offers and schedules before, between and after the guide's deadlines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.clock import ManualClock
from bot.events import UserKey
from bot.reminders.service import ReminderService, add_months
from tests.reminders.helpers import EARLY, days

ALICE = UserKey("telegram", "1001")
# Between the mini guide's deadlines: the first (28 September) passed, the final (8 October) ahead.
BETWEEN = datetime(2025, 10, 1, 0, 0, tzinfo=UTC)
AFTER_ALL = datetime(2025, 10, 20, 12, 0, tzinfo=UTC)


async def test_before_the_deadlines_one_offer_covers_each_deadline(db, mini_guide) -> None:
    service = ReminderService(db, db, mini_guide, ManualClock(EARLY))
    assert service.offers(ALICE, EARLY) == [("dl", "Before each deadline (7 days and 1 day)")]

    text = await service.subscribe(ALICE, "dl", EARLY)

    assert text is not None and text.startswith("**Done!** I'll remind you:")
    assert "21 September 2025: 7 days before the first deadline (28 September 2025)" in text
    assert "7 October 2025: 1 day before the final deadline (8 October 2025)" in text
    assert "/stop" in text
    listing = await service.describe(ALICE, EARLY)
    assert listing is not None and listing.count("\n- ") == 4


async def test_between_the_deadlines_only_the_next_one_is_offered(db, mini_guide) -> None:
    service = ReminderService(db, db, mini_guide, ManualClock(BETWEEN))
    assert service.offers(ALICE, BETWEEN) == [("dl", "7 days and 1 day before 8 October 2025")]
    await service.subscribe(ALICE, "dl", BETWEEN)
    listing = await service.describe(ALICE, BETWEEN)
    assert listing is not None
    assert "first deadline" not in listing
    assert listing.count("final deadline") == 2


async def test_offsets_already_past_are_not_offered(db, mini_guide) -> None:
    three_days_left = datetime(2025, 10, 6, 6, 59, tzinfo=UTC)  # 7 days before has passed, 1 day has not
    service = ReminderService(db, db, mini_guide, ManualClock(three_days_left))
    assert service.offers(ALICE, three_days_left) == [("dl", "1 day before 8 October 2025")]


async def test_after_every_deadline_check_backs_are_offered(db, mini_guide) -> None:
    service = ReminderService(db, db, mini_guide, ManualClock(AFTER_ALL))
    assert service.offers(ALICE, AFTER_ALL) == [
        ("cb:P7D", "In 1 week"), ("cb:P1M", "In 1 month"), ("cb:P3M", "In 3 months")]
    assert await service.subscribe(ALICE, "dl", AFTER_ALL) is None  # no deadline ahead any more

    text = await service.subscribe(ALICE, "cb:P1M", AFTER_ALL)
    assert text is not None and "20 November 2025" in text
    # Choosing again replaces the check-back rather than adding a second one.
    await service.subscribe(ALICE, "cb:P7D", AFTER_ALL)
    listing = await service.describe(ALICE, AFTER_ALL)
    assert listing == "**Your reminders:**\n- 27 October 2025: a check-back to look at the setting again"


async def test_check_back_offer_is_refused_while_a_deadline_is_ahead(db, mini_guide) -> None:
    service = ReminderService(db, db, mini_guide, ManualClock(EARLY))
    assert await service.subscribe(ALICE, "cb:P7D", EARLY) is None
    assert await service.subscribe(ALICE, "bogus", EARLY) is None
    assert await service.describe(ALICE, EARLY) is None


async def test_cancel_removes_everything_pending(db, mini_guide) -> None:
    service = ReminderService(db, db, mini_guide, ManualClock(EARLY))
    await service.subscribe(ALICE, "dl", EARLY)
    assert await service.cancel(ALICE) == 4 + 1  # four reminders, and the subscription
    assert await service.describe(ALICE, EARLY) is None
    assert await service.cancel(ALICE) == 0


async def test_subscribing_twice_schedules_once(db, mini_guide) -> None:
    service = ReminderService(db, db, mini_guide, ManualClock(EARLY))
    await service.subscribe(ALICE, "dl", EARLY)
    await service.subscribe(ALICE, "dl", EARLY + timedelta(hours=1))
    assert (await service.queue.counts()) == {"pending": 4}


async def test_offsets_down_to_seconds_read_naturally(db, tmp_path) -> None:
    from tests.reminders.helpers import write_guide

    soon = EARLY + timedelta(minutes=1)
    guide = write_guide(tmp_path / "g.yaml", [("soon", soon, ["PT40S", "PT20S", "PT90M"])])
    service = ReminderService(db, db, guide, ManualClock(EARLY))
    assert service.offers(ALICE, EARLY) == [("dl", "40 seconds and 20 seconds before 1 September 2025")]
    text = await service.subscribe(ALICE, "dl", EARLY)
    assert text is not None and "1 September 2025, 12:00 UTC: 40 seconds before the soon deadline" in text


def test_months_are_calendar_months() -> None:
    assert add_months(datetime(2026, 1, 31, tzinfo=UTC), 1) == datetime(2026, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2026, 11, 30, tzinfo=UTC), 3) == datetime(2027, 2, 28, tzinfo=UTC)
    assert days(1) == timedelta(days=1)
