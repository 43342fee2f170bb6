"""Delivery with an injected clock: on time, once, late after downtime, never after a block."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot.clock import ManualClock
from bot.events import Recipient, UserKey
from bot.reminders.service import ReminderService
from bot.storage import UserState, open_storage
from tests.reminders.helpers import EARLY, FakePlatform, days, eventually, settle, write_guide

ALICE = UserKey("telegram", "1001")
BOB = UserKey("telegram", "1002")


def buttons(platform: FakePlatform, index: int = -1) -> list[str]:
    return [b.data for row in platform.sent[index].replies[0].buttons for b in row]


async def test_each_offset_is_sent_once_at_its_time(db, tmp_path, telegram, running) -> None:
    clock = ManualClock(EARLY)
    guide = write_guide(tmp_path / "g.yaml", [("final", EARLY + days(10), ["P7D", "P1D"])])
    service = ReminderService(db, db, guide, clock)
    await service.subscribe(ALICE, "dl", EARLY)
    running.start(service, {"telegram": telegram})

    await clock.advance(days(3) - timedelta(seconds=1))
    await settle()
    assert telegram.sent == []  # one second early

    await clock.advance(timedelta(seconds=1))
    await eventually(lambda: len(telegram.sent) == 1)
    text = telegram.to("1001")[0]
    # Counted in whole days to the first moment it is 11 September 12:00 anywhere (UTC+14): 6 days 10 hours.
    assert "Reminder: the final deadline" in text and "11 September 2025" in text and "**6 days** left" in text
    assert "may read “Help improve our AI models”" in text
    assert buttons(telegram) == ["mini/e:steps", "mini/x:done", "mini/x:stop"]

    await clock.advance(days(6))
    await eventually(lambda: len(telegram.sent) == 2)
    assert "**less than a day** left" in telegram.to("1001")[1] and "hour" not in telegram.to("1001")[1]
    await clock.advance(days(30))
    await settle()
    assert len(telegram.sent) == 2
    assert await service.queue.counts() == {"sent": 2}
    funnel = await db.funnel(EARLY.date(), (EARLY + days(40)).date())
    assert funnel[("telegram", "reminder_sent")] == 2


async def test_a_new_subscription_wakes_the_sleeping_scheduler(db, tmp_path, telegram, running) -> None:
    clock = ManualClock(EARLY)
    guide = write_guide(tmp_path / "g.yaml", [("soon", EARLY + timedelta(minutes=1), ["PT30S"])])
    service = ReminderService(db, db, guide, clock)
    running.start(service, {"telegram": telegram})
    await settle()  # the scheduler is asleep with nothing to do
    await service.subscribe(ALICE, "dl", EARLY)
    await clock.advance(timedelta(seconds=30))
    await eventually(lambda: len(telegram.sent) == 1)


async def test_cancelled_reminders_are_not_sent(db, tmp_path, telegram, running) -> None:
    clock = ManualClock(EARLY)
    guide = write_guide(tmp_path / "g.yaml", [("final", EARLY + days(10), ["P7D", "P1D"])])
    service = ReminderService(db, db, guide, clock)
    await service.subscribe(ALICE, "dl", EARLY)
    await service.subscribe(BOB, "dl", EARLY)
    running.start(service, {"telegram": telegram})
    assert await service.cancel(ALICE) == 2 + 1  # two reminders, and the subscription
    await clock.advance(days(3))
    await eventually(lambda: len(telegram.sent) == 1)
    await clock.advance(days(6))
    await eventually(lambda: len(telegram.sent) == 2)
    await settle()
    assert [m.recipient for m in telegram.sent] == [Recipient("telegram", "user", "1002")] * 2


async def test_missed_while_down_sent_late_once_or_skipped_if_passed(db, tmp_path, telegram, running, caplog) -> None:
    clock = ManualClock(EARLY)
    guide = write_guide(tmp_path / "g.yaml", [("near", EARLY + days(5), ["P3D", "P1D"]),
                                              ("far", EARLY + days(20), ["P7D", "P1D"])])
    service = ReminderService(db, db, guide, clock)
    await service.subscribe(ALICE, "dl", EARLY)
    # The bot is down from now until day 13: `near` passed meanwhile, `far` is 7 days away.
    await clock.set(EARLY + days(13) + timedelta(hours=6))
    running.start(service, {"telegram": telegram})
    await eventually(lambda: len(telegram.sent) == 1)
    await settle()
    texts = telegram.to("1001")
    assert len(texts) == 1 and "the far deadline" in texts[0] and "**6 days** left" in texts[0]
    assert await service.queue.counts() == {"sent": 1, "skipped": 2, "pending": 1}


async def test_several_missed_offsets_of_one_deadline_send_only_the_nearest(db, tmp_path, telegram, running) -> None:
    clock = ManualClock(EARLY)
    guide = write_guide(tmp_path / "g.yaml", [("final", EARLY + days(10), ["P7D", "P3D", "P1D"])])
    service = ReminderService(db, db, guide, clock)
    await service.subscribe(ALICE, "dl", EARLY)
    await clock.set(EARLY + days(8))  # down through the 7- and 3-day reminders
    running.start(service, {"telegram": telegram})
    await eventually(lambda: len(telegram.sent) == 1)
    await settle()
    assert "**1 day** left" in telegram.to("1001")[0]
    assert await service.queue.counts() == {"sent": 1, "skipped": 1, "pending": 1}


async def test_unreachable_user_is_turned_off_and_never_retried(db, tmp_path, telegram, running, caplog) -> None:
    caplog.set_level(logging.INFO, logger="bot")
    clock = ManualClock(EARLY)
    guide = write_guide(tmp_path / "g.yaml", [("final", EARLY + days(10), ["P7D", "P3D", "P1D"])])
    service = ReminderService(db, db, guide, clock)
    await service.subscribe(ALICE, "dl", EARLY)
    await service.subscribe(BOB, "dl", EARLY)
    telegram.blocked.add("1001")
    running.start(service, {"telegram": telegram})

    await clock.advance(days(3))
    await eventually(lambda: len(telegram.attempts) == 2)

    async def turned_off() -> bool:
        return await service.describe(ALICE, clock.now()) is None

    await eventually(turned_off)
    await clock.advance(days(4))
    await eventually(lambda: len(telegram.sent) == 2)
    await clock.advance(days(2))
    await eventually(lambda: len(telegram.sent) == 3)
    await settle()
    assert telegram.attempts.count("1001") == 1
    assert await service.describe(ALICE, clock.now()) is None
    off = [r for r in caplog.records if "can no longer be reached" in r.getMessage()]
    assert len(off) == 1 and off[0].levelno == logging.INFO and "1001" not in off[0].getMessage()
    assert not any("1001" in r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)


async def test_a_passing_failure_is_retried_with_backoff_then_given_up(db, tmp_path, telegram, running) -> None:
    clock = ManualClock(EARLY)
    guide = write_guide(tmp_path / "g.yaml", [("final", EARLY + days(10), ["P7D"])])
    service = ReminderService(db, db, guide, clock)
    await service.subscribe(ALICE, "dl", EARLY)
    telegram.flaky.add("1001")
    running.start(service, {"telegram": telegram}, max_attempts=3)

    await clock.advance(days(3))
    await eventually(lambda: len(telegram.attempts) == 1)
    await clock.advance(timedelta(seconds=29))
    await settle()
    assert len(telegram.attempts) == 1  # the first retry waits 30 s
    await clock.advance(timedelta(seconds=1))
    await eventually(lambda: len(telegram.attempts) == 2)
    telegram.flaky.clear()
    await clock.advance(timedelta(seconds=60))
    await eventually(lambda: len(telegram.sent) == 1)
    assert await service.queue.counts() == {"sent": 1}


async def test_failures_stop_after_the_last_attempt(db, tmp_path, telegram, running) -> None:
    clock = ManualClock(EARLY)
    guide = write_guide(tmp_path / "g.yaml", [("final", EARLY + days(10), ["P7D"])])
    service = ReminderService(db, db, guide, clock)
    await service.subscribe(ALICE, "dl", EARLY)
    telegram.flaky.add("1001")
    running.start(service, {"telegram": telegram}, max_attempts=3)
    await clock.advance(days(3))
    async def recorded() -> bool:  # the attempt's outcome is stored: retried later (pending) or given up
        return "sending" not in await service.queue.counts()

    for expected in (1, 2, 3):
        await eventually(lambda n=expected: len(telegram.attempts) == n)
        # Before the clock moves: a retry is timed from the clock when the failure is recorded.
        await eventually(recorded)
        await clock.advance(timedelta(hours=1))
    await settle()
    assert len(telegram.attempts) == 3
    assert await service.queue.counts() == {"failed": 1}


async def test_did_it_work_check_back_once_unless_confirmed(db, tmp_path, telegram, running) -> None:
    clock = ManualClock(EARLY)
    guide = write_guide(tmp_path / "g.yaml", [("final", EARLY + days(10), ["P1D"])],
                        entries={"troubleshoot": "changed"})
    service = ReminderService(db, db, guide, clock)
    for key in (ALICE, BOB):  # both saw the steps
        await db.save_step(UserState(key=key, pack=guide.pack, guide_version=guide.version, node="result", step=3,
                                     created_at=EARLY, updated_at=EARLY))
    await service.subscribe(ALICE, "dl", EARLY)
    await service.subscribe(BOB, "dl", EARLY)
    await service.confirmed(BOB, EARLY)  # Bob pressed "I've turned it off"
    running.start(service, {"telegram": telegram})

    await clock.advance(days(2))
    await eventually(lambda: len(telegram.sent) == 1)
    assert telegram.sent[0].recipient == Recipient("telegram", "user", "1001")
    assert "Did it work?" in telegram.to("1001")[0]
    assert buttons(telegram) == ["mini/x:done", "mini/e:troubleshoot", "mini/x:stop"]
    await clock.advance(days(7.5))
    await eventually(lambda: len(telegram.sent) == 3)  # then only the deadline reminders
    await settle()
    assert ["Did it work?" in t for t in telegram.to("1001")] == [True, False]
    # Subscribing again never brings a second "did it work?".
    await service.subscribe(ALICE, "cb:P7D", clock.now())
    assert "quick check" not in (await service.describe(ALICE, clock.now()) or "")


async def test_no_check_back_for_someone_who_never_saw_the_steps(db, tmp_path, telegram) -> None:
    clock = ManualClock(EARLY)
    guide = write_guide(tmp_path / "g.yaml", [("final", EARLY + days(10), ["P1D"])])
    service = ReminderService(db, db, guide, clock)
    await db.save_step(UserState(key=ALICE, pack=guide.pack, guide_version=guide.version, node="home", step=0,
                                 created_at=EARLY, updated_at=EARLY))
    await service.subscribe(ALICE, "dl", EARLY)
    listing = await service.describe(ALICE, EARLY)
    assert listing is not None and "quick check" not in listing


async def test_a_new_deadline_is_scheduled_once_at_the_next_start(tmp_path, telegram, running) -> None:
    path = tmp_path / "shared.db"
    clock = ManualClock(EARLY)
    old = write_guide(tmp_path / "old.yaml", [("final", EARLY + days(10), ["P7D", "P1D"])])
    new = write_guide(tmp_path / "new.yaml", [("final", EARLY + days(10), ["P7D", "P1D"]),
                                              ("extra", EARLY + days(30), ["P7D"])], version="rem-2")
    first = await open_storage(path)
    await ReminderService(first, first, old, clock).subscribe(ALICE, "dl", EARLY)
    await first.close()

    for _ in range(2):  # the redeploy, then another restart
        storage = await open_storage(path)
        service = ReminderService(storage, storage, new, clock)
        await service.sync(clock.now())
        listing = await service.describe(ALICE, clock.now())
        await storage.close()
        assert listing is not None and listing.count("the extra deadline") == 1 and listing.count("\n- ") == 3

    storage = await open_storage(path)
    service = ReminderService(storage, storage, new, clock)
    running.start(service, {"telegram": telegram})
    for step, sent in ((3, 1), (6, 2), (14, 3)):
        await clock.advance(days(step))
        await eventually(lambda n=sent: len(telegram.sent) == n)
    await settle()
    assert ["extra deadline" in t for t in telegram.to("1001")] == [False, False, True]
    await running.stop_all()
    running.items.clear()
    await storage.close()


async def test_a_new_deadline_with_every_offset_past_still_gets_one_reminder(tmp_path, db) -> None:
    clock = ManualClock(EARLY)
    old = write_guide(tmp_path / "old.yaml", [("final", EARLY + days(10), ["P7D"])])
    await ReminderService(db, db, old, clock).subscribe(ALICE, "dl", EARLY)
    new = write_guide(tmp_path / "new.yaml", [("final", EARLY + days(10), ["P7D"]),
                                              ("sudden", EARLY + days(2), ["P7D", "P3D"])], version="rem-2")
    service = ReminderService(db, db, new, clock)
    assert await service.sync(EARLY) == 1
    rows = await service.queue.pending(Recipient.user(ALICE), new.pack)
    assert [(r.about, r.offset_s, r.due_at) for r in rows if r.about == "sudden"] == [("sudden", 3 * 86400, EARLY)]


async def test_someone_who_stopped_reminders_gets_no_new_deadline(tmp_path, db) -> None:
    clock = ManualClock(EARLY)
    old = write_guide(tmp_path / "old.yaml", [("final", EARLY + days(10), ["P7D"])])
    await ReminderService(db, db, old, clock).subscribe(ALICE, "dl", EARLY)
    await ReminderService(db, db, old, clock).cancel(ALICE)
    new = write_guide(tmp_path / "new.yaml", [("final", EARLY + days(10), ["P7D"]),
                                              ("extra", EARLY + days(30), ["P7D"])], version="rem-2")
    assert await ReminderService(db, db, new, clock).sync(EARLY) == 0


async def test_a_moved_deadline_moves_its_pending_reminders(tmp_path, db) -> None:
    clock = ManualClock(EARLY)
    old = write_guide(tmp_path / "old.yaml", [("final", EARLY + days(10), ["P7D"])])
    await ReminderService(db, db, old, clock).subscribe(ALICE, "dl", EARLY)
    moved = write_guide(tmp_path / "new.yaml", [("final", EARLY + days(20), ["P7D"])], version="rem-2")
    await ReminderService(db, db, moved, clock).sync(EARLY)
    (row,) = await db.pending(Recipient.user(ALICE), moved.pack)
    assert row.due_at == EARLY + days(13)


@pytest.mark.parametrize("n", [300])
async def test_two_schedulers_on_one_database_never_send_twice(tmp_path, running, n) -> None:
    path = tmp_path / "shared.db"
    clock = ManualClock(EARLY)
    guide = write_guide(tmp_path / "g.yaml", [("final", EARLY + days(10), ["P7D"])])
    one, two = await open_storage(path), await open_storage(path)
    try:
        service_one, service_two = ReminderService(one, one, guide, clock), ReminderService(two, two, guide, clock)
        for i in range(n):
            await service_one.subscribe(UserKey("telegram", str(i)), "dl", EARLY)
        platform_one, platform_two = FakePlatform(), FakePlatform()
        platform_one.delay = platform_two.delay = 0.005
        running.start(service_one, {"telegram": platform_one}, max_in_flight=16)
        running.start(service_two, {"telegram": platform_two}, max_in_flight=16)
        await clock.advance(days(3))
        await eventually(lambda: len(platform_one.sent) + len(platform_two.sent) >= n, within=30)
        await settle()
        targets = [m.recipient.id for m in platform_one.sent + platform_two.sent]
        assert sorted(targets) == sorted(str(i) for i in range(n))
        assert platform_one.sent and platform_two.sent  # both copies did take part
        await running.stop_all()
        running.items.clear()
    finally:
        await one.close()
        await two.close()


async def test_a_claim_left_by_a_dead_process_is_taken_over_after_its_lease(db, tmp_path, telegram, running) -> None:
    clock = ManualClock(EARLY)
    guide = write_guide(tmp_path / "g.yaml", [("final", EARLY + days(10), ["P7D"])])
    service = ReminderService(db, db, guide, clock)
    await service.subscribe(ALICE, "dl", EARLY)
    await clock.advance(days(3))
    claimed = await service.queue.claim(clock.now(), 10, "dead-process", clock.now() + timedelta(seconds=10),
                                        ["telegram"], [guide.pack])
    assert len(claimed) == 1
    running.start(service, {"telegram": telegram})
    await settle()
    assert telegram.sent == []
    await clock.advance(timedelta(seconds=11))
    await eventually(lambda: len(telegram.sent) == 1)


async def test_forget_erases_reminders(db, tmp_path) -> None:
    clock = ManualClock(EARLY)
    guide = write_guide(tmp_path / "g.yaml", [("final", EARLY + days(10), ["P7D"])])
    service = ReminderService(db, db, guide, clock)
    await service.subscribe(ALICE, "dl", EARLY)
    await db.forget_user(ALICE)
    assert await service.describe(ALICE, EARLY) is None
    assert await service.queue.subscriptions(guide.pack) == {}
