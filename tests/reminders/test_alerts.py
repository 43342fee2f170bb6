"""Change alerts through the engine, the reminder service and the scheduler: subscribe on a result, bump
a pack's version with a ``changes`` note, and the note arrives once (restarts, channels, /stop, /forget)."""

from __future__ import annotations

from pathlib import Path

from bot import texts
from bot.clock import ManualClock
from bot.engine import Engine
from bot.events import Press, Recipient, UserKey
from bot.guide import Guide
from bot.reminders.service import ReminderService
from bot.storage.base import Following, Subscriber
from tests.core.driver import EngineChat
from tests.reminders.helpers import (
    EARLY,
    NOTE,
    FakePlatform,
    days,
    eventually,
    settle,
    write_guide,
    write_pack,
)

ALICE = UserKey("telegram", "1001")
BOB = UserKey("telegram", "1002")


def packs(tmp_path: Path, version: str, note_version: str | None = None) -> list[Guide]:
    default = write_guide(tmp_path / "main.yaml", [])
    return [default, write_pack(tmp_path / "other.yaml", version, note_version)]


async def test_the_result_offers_alerts_and_a_bump_with_a_note_reaches_each_subscriber_once(
        db, tmp_path, telegram: FakePlatform, running) -> None:
    clock = ManualClock(EARLY)
    guides = packs(tmp_path, "1")
    service = ReminderService(db, db, guides, clock)
    alice = EngineChat(Engine(guides, db, clock, reminders=service), ALICE.user_id)
    await alice.start("other")
    await alice.press("Just show me the steps")
    assert texts.FOLLOW_CHANGES in alice.labels  # on another pack's result...
    await alice.press(texts.FOLLOW_CHANGES)
    assert "When the facts behind the Other bot steps change" in alice.text_shown
    await alice.start()
    await alice.press("Just show me the steps")
    assert texts.FOLLOW_CHANGES in alice.labels  # ...and on Claude's (the default pack's)
    running.start(service, {"telegram": telegram})
    await settle()
    assert telegram.sent == []  # no note for this version: nothing to say
    await running.stop_all()

    # The maintainer bumps the pack and adds a note; Bob subscribes after the bump (he sees the new steps).
    bumped = packs(tmp_path, "2", note_version="2")
    service = ReminderService(db, db, bumped, clock)
    bob = EngineChat(Engine(bumped, db, clock, reminders=service), BOB.user_id)
    await bob.start("other")
    await bob.press("Just show me the steps")
    await bob.press(texts.FOLLOW_CHANGES)
    running.start(service, {"telegram": telegram})
    await eventually(lambda: len(telegram.sent) == 1)
    (alert,) = telegram.sent
    assert alert.recipient == Recipient.user(ALICE)
    (reply,) = alert.replies
    assert reply.text == f"🔔 **Other bot: the steps have changed**\n\n{NOTE}"
    assert [[b.label for b in row] for row in reply.buttons] == [["📋 Show me the updated steps"], ["🔕 Stop reminders"]]

    # A restart (a new service and scheduler on the same database) sends nothing again.
    await running.stop_all()
    service = ReminderService(db, db, bumped, clock)
    running.start(service, {"telegram": telegram})
    await settle()
    assert len(telegram.sent) == 1
    assert await db.counts() == {"sent": 1}

    # The alert's button opens the updated steps of that pack.
    alice.engine = Engine(bumped, db, clock, reminders=service)
    replies = await alice.push(Press(reply.buttons[0][0].data))
    assert replies[0].text == texts.GUIDE_UPDATED
    assert "2. Turn it off" in alice.text_shown and texts.FOLLOW_CHANGES in alice.labels


async def test_a_note_for_another_version_stop_and_forget_send_nothing(db, tmp_path, telegram, running) -> None:
    clock = ManualClock(EARLY)
    guides = packs(tmp_path, "1")
    service = ReminderService(db, db, guides, clock)
    engine = Engine(guides, db, clock, reminders=service)
    for key in (ALICE, BOB):
        chat = EngineChat(engine, key.user_id)
        await chat.start("other")
        await chat.press("Just show me the steps")
        await chat.press(texts.FOLLOW_CHANGES)
    assert set(await service.alert_subscribers()) == {"mini", "other"}
    assert (await service.alert_subscribers())["other"] == 2

    stale = ReminderService(db, db, packs(tmp_path, "2", note_version="1"), clock)
    assert await stale.sync_alerts(EARLY) == 0  # the note is left over from version 1

    alice = EngineChat(engine, ALICE.user_id)
    await alice.command("stop")
    assert texts.REMINDERS_STOPPED in alice.text_shown
    bob = EngineChat(engine, BOB.user_id)
    await bob.command("forget")  # asked in the pack he used last: the erase covers every pack
    await bob.press(texts.FORGET_YES)
    assert texts.FORGOTTEN in bob.text_shown
    assert await db.subscriptions("other") == {}

    running.start(ReminderService(db, db, packs(tmp_path, "3", note_version="3"), clock), {"telegram": telegram})
    await settle()
    assert telegram.sent == []


async def test_a_server_channel_follows_a_packs_changes(db, tmp_path, discord_platform, running) -> None:
    clock = ManualClock(EARLY)
    service = ReminderService(db, db, packs(tmp_path, "1"), clock)
    news, other_news = Recipient("discord", "channel", "500"), Recipient("discord", "channel", "501")
    assert await service.subscribe_channel(news, "77", EARLY, "other") == (
        "Change alerts for Other bot are on for this server: I'll post here when its steps change.")
    assert await service.subscribe_channel(news, "77", EARLY, "nope") == "I don't have a guide for that assistant. Pick one from the list."
    await service.subscribe_channel(other_news, "78", EARLY, "other")
    assert await service.unsubscribe_scope("discord", "78", "other") is True
    status = await service.channel_status("discord", "77", EARLY)
    assert status.endswith("Change alerts are on for: Other bot.")

    service = ReminderService(db, db, packs(tmp_path, "2", note_version="2"), clock)
    running.start(service, {"discord": discord_platform})
    await eventually(lambda: len(discord_platform.sent) == 1)
    await clock.advance(days(1))
    await settle()
    (alert,) = discord_platform.sent
    assert alert.recipient == news
    assert [b.label for row in alert.replies[0].buttons for b in row] == ["📋 Show me the updated steps"]
    assert await db.subscriptions("other") == {Subscriber(news, "other", "77"): Following(changes_seen="1")}


async def test_an_alert_is_written_in_the_subscribers_language_when_sent(db, tmp_path, telegram, running) -> None:
    clock = ManualClock(EARLY)
    guides = packs(tmp_path, "1")
    service = ReminderService(db, db, guides, clock)
    alice = EngineChat(Engine(guides, db, clock, reminders=service), ALICE.user_id)
    await alice.start("other")
    await alice.command("language", "es")
    await alice.press("Just show me the steps")  # the pack is English only; the bot's own texts are not
    await alice.press("🔔 Avísame si esto cambia")
    assert alice.text_shown.startswith("**¡Listo!** Cuando cambien los datos en los que se basan los pasos de Other bot")

    running.start(ReminderService(db, db, packs(tmp_path, "2", note_version="2"), clock), {"telegram": telegram})
    await eventually(lambda: len(telegram.sent) == 1)
    (reply,) = telegram.sent[0].replies
    # The note is the pack's own text, in English as the pack is; the rest is Spanish.
    assert reply.text == f"🔔 **Other bot: los pasos han cambiado**\n\n{NOTE}"
    assert [[b.label for b in row] for row in reply.buttons] == [["📋 Muéstrame los pasos actualizados"],
                                                                ["🔕 Cancelar recordatorios"]]
