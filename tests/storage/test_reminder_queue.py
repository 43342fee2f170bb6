"""The ReminderQueue contract, on every backend: one row per unique key, exclusive claims under a lease,
outcomes kept, channels per scope, and a person's rows erased with them."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from bot.events import Recipient, UserKey
from bot.storage import Storage
from bot.storage.base import Following, NewReminder, Subscriber
from tests.storage.conftest import state

T0 = datetime(2025, 9, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(seconds=10)
PACK = "claude"
ALICE = Recipient("telegram", "user", "1")
NEWS = Recipient("discord", "channel", "50")


def user(uid: str = "1", platform: str = "telegram") -> Recipient:
    return Recipient(platform, "user", uid)


def row(to: Recipient = ALICE, offset_s: int = 86400, due: datetime = T0, about: str = "final",
        kind: str = "deadline", pack: str = PACK, scope: str | None = None) -> NewReminder:
    return NewReminder(to, pack, kind, about, offset_s, due, scope)


async def claim(backend: Storage, owner: str = "a", at: datetime = T0, limit: int = 10,
                platforms: tuple[str, ...] = ("telegram",), packs: tuple[str, ...] = (PACK,)):
    return await backend.claim(at, limit, owner, at + LEASE, list(platforms), list(packs))


async def test_the_unique_key_keeps_one_row(backend: Storage) -> None:
    assert await backend.schedule([row(), row(offset_s=7 * 86400)]) == 2
    assert await backend.schedule([row(), row(due=T0 + timedelta(hours=1))]) == 0
    assert await backend.schedule([row(user("2")), row(pack="gemini")]) == 2
    assert await backend.counts() == {"pending": 4}


async def test_claim_takes_due_rows_once_oldest_first(backend: Storage) -> None:
    await backend.schedule([row(offset_s=1, due=T0), row(offset_s=2, due=T0 - timedelta(hours=1)),
                            row(offset_s=3, due=T0 + timedelta(seconds=1))])
    claimed = await claim(backend)
    assert [r.offset_s for r in claimed] == [2, 1]
    assert all(r.status == "sending" and r.attempts == 1 and r.recipient == ALICE for r in claimed)
    assert await claim(backend, "b") == []


async def test_claim_honours_the_limit_the_platforms_and_the_pack(backend: Storage) -> None:
    await backend.schedule([row(user(str(i))) for i in range(5)] + [row(user("9", "discord")),
                                                                     row(user("8"), pack="gemini")])
    assert len(await claim(backend, limit=3)) == 3
    assert {r.recipient.platform for r in await claim(backend)} == {"telegram"}
    assert await claim(backend, platforms=()) == []
    assert [r.recipient for r in await claim(backend, platforms=("discord",))] == [user("9", "discord")]
    assert [(r.recipient, r.pack) for r in await claim(backend, packs=("gemini",))] == [(user("8"), "gemini")]


async def test_one_claim_serves_several_packs(backend: Storage) -> None:
    await backend.schedule([row(), row(user("2"), pack="gemini"), row(user("3"), pack="chatgpt", due=T0 + LEASE)])
    assert await backend.next_due(["telegram"], [PACK, "gemini", "chatgpt"]) == T0
    assert await claim(backend, packs=()) == []
    claimed = await claim(backend, packs=(PACK, "gemini", "chatgpt"))
    assert sorted(r.pack for r in claimed) == [PACK, "gemini"]  # the chatgpt one is not due yet
    assert await backend.next_due(["telegram"], ["chatgpt"]) == T0 + LEASE


async def test_a_lapsed_claim_is_taken_over_and_a_live_one_kept(backend: Storage) -> None:
    await backend.schedule([row(), row(user("2"))])
    first = await claim(backend, "dead")
    assert await backend.extend_leases("dead", [first[1].id], T0 + 3 * LEASE) == 1
    later = T0 + LEASE + timedelta(seconds=1)
    again = await claim(backend, "alive", at=later)
    assert [r.id for r in again] == [first[0].id] and again[0].attempts == 2
    # The dead owner's late answer does not overwrite the new claim.
    assert await backend.record("dead", [(first[0].id, "sent")], Counter()) == 0
    assert await backend.record("alive", [(first[0].id, "sent")], Counter({("telegram", T0.date()): 1})) == 1


async def test_record_keeps_the_outcome_and_counts_it_in_the_funnel(backend: Storage) -> None:
    await backend.schedule([row(), row(user("2"))])
    one, two = await claim(backend)
    assert await backend.record("a", [(one.id, "sent"), (two.id, "unreachable")],
                                Counter({("telegram", T0.date()): 1})) == 2
    assert await backend.counts() == {"sent": 1, "unreachable": 1}
    assert await backend.funnel(T0.date(), T0.date()) == {("telegram", "reminder_sent"): 1}
    assert await backend.schedule([row()]) == 0  # a sent reminder is never scheduled again


async def test_release_puts_it_back_for_later(backend: Storage) -> None:
    await backend.schedule([row()])
    (claimed,) = await claim(backend)
    assert await backend.release(claimed.id, "other", T0) is False
    assert await backend.release(claimed.id, "a", T0 + timedelta(minutes=1)) is True
    assert await claim(backend, at=T0 + timedelta(seconds=59)) == []
    assert await backend.next_due(["telegram"], [PACK]) == T0 + timedelta(minutes=1)
    (again,) = await claim(backend, at=T0 + timedelta(minutes=1))
    assert again.attempts == 2 and again.due_at == T0 + timedelta(minutes=1)


async def test_next_due_sees_pending_rows_and_lapsing_claims(backend: Storage) -> None:
    assert await backend.next_due(["telegram"], [PACK]) is None
    await backend.schedule([row(due=T0 + timedelta(days=3)), row(offset_s=5, due=T0)])
    await claim(backend, limit=1)
    assert await backend.next_due(["telegram"], [PACK]) == T0 + LEASE
    assert await backend.next_due(["discord"], [PACK]) is None
    assert await backend.next_due(["telegram"], ["gemini"]) is None


async def test_pending_cancel_and_skip_leave_sent_rows(backend: Storage) -> None:
    await backend.schedule([row(), row(offset_s=7), row(kind="verify", about="", offset_s=0, due=T0 + LEASE),
                            row(pack="gemini")])
    (claimed,) = await claim(backend, limit=1)
    await backend.record("a", [(claimed.id, "sent")], Counter())
    assert [r.kind for r in await backend.pending(ALICE, PACK)] == ["deadline", "verify"]
    assert await backend.skip_pending(ALICE, PACK, "verify") == 1
    assert await backend.cancel(ALICE, PACK) == (1, False)
    assert await backend.counts() == {"sent": 1, "skipped": 1, "pending": 1}
    assert await backend.cancel(ALICE) == (1, False)  # every pack


async def test_replace_pending_keeps_one_of_a_kind(backend: Storage) -> None:
    assert await backend.replace_pending(row(kind="checkback", about="2025-09-08", offset_s=0)) == 1
    assert await backend.replace_pending(row(kind="checkback", about="2025-10-01", offset_s=0)) == 1
    assert [r.about for r in await backend.pending(ALICE, PACK)] == ["2025-10-01"]


async def test_subscriptions_are_per_pack_and_move_due_moves_pending_rows(backend: Storage) -> None:
    alice = Subscriber(ALICE, PACK)
    assert await backend.subscribe(alice, ["final"], [row()], deadlines=True) == 1
    await backend.subscribe(Subscriber(ALICE, "gemini"), [], [], deadlines=True)
    assert await backend.subscriptions(PACK) == {alice: Following(deadlines=True, scheduled=frozenset({"final"}))}
    # Flags add up: following the changes too keeps following the deadlines.
    await backend.subscribe(alice, [], [], changes_seen="v1")
    assert await backend.subscriptions(PACK) == {alice: Following(True, "v1", frozenset({"final"}))}
    assert await backend.move_due(PACK, "deadline", "final", 86400, T0 + timedelta(days=1)) == 1
    assert await backend.move_due(PACK, "deadline", "final", 86400, T0 + timedelta(days=1)) == 0
    assert [r.due_at for r in await backend.pending(ALICE, PACK)] == [T0 + timedelta(days=1)]
    assert await backend.cancel(ALICE, PACK) == (1, True)
    assert await backend.subscriptions(PACK) == {}
    assert await backend.subscriptions("gemini") == {Subscriber(ALICE, "gemini"): Following(deadlines=True)}


async def test_a_scope_has_one_channel_per_pack(backend: Storage) -> None:
    assert await backend.channel("discord", "5", PACK) is None
    news = Subscriber(NEWS, PACK, scope="5")
    await backend.subscribe(news, ["final"], [row(NEWS, scope="5")], deadlines=True)
    assert await backend.channel("discord", "5", PACK) == NEWS
    moved = Recipient("discord", "channel", "51")
    await backend.subscribe(Subscriber(moved, PACK, "5"), ["final"], [row(moved, scope="5")], deadlines=True)
    assert await backend.channel("discord", "5", PACK) == moved
    assert await backend.pending(NEWS, PACK) == []
    (pending,) = await backend.pending(moved, PACK)
    assert (pending.recipient, pending.scope) == (moved, "5")
    assert await backend.subscriptions(PACK) == {Subscriber(moved, PACK, "5"): Following(True, None, frozenset({"final"}))}
    await backend.subscribe(Subscriber(NEWS, "gemini", "5"), [], [row(NEWS, pack="gemini", scope="5")],
                            changes_seen="1")
    assert await backend.channel("discord", "5", "gemini") == NEWS
    assert await backend.unsubscribe_scope("discord", "5", "gemini") is True  # that pack only
    assert await backend.unsubscribe_scope("discord", "5", "gemini") is False
    assert await backend.channel("discord", "5", "gemini") is None and await backend.pending(NEWS, "gemini") == []
    assert await backend.channel("discord", "5", PACK) == moved
    assert await backend.unsubscribe_scope("discord", "5") is True
    assert await backend.unsubscribe_scope("discord", "5") is False
    assert await backend.channel("discord", "5", PACK) is None
    assert await backend.pending(moved, PACK) == [] and await backend.subscriptions(PACK) == {}


async def test_forget_and_retention_erase_a_persons_reminders_but_no_channels(backend: Storage) -> None:
    for pack in (PACK, "gemini"):
        await backend.subscribe(Subscriber(ALICE, pack), ["final"], [row(pack=pack)], deadlines=True)
    await backend.subscribe(Subscriber(NEWS, PACK, "5"), ["final"], [row(NEWS, scope="5")], deadlines=True)
    # A change-alert subscription, with its alert (kind "alert").
    await backend.subscribe(Subscriber(ALICE, "chatgpt"), [],
                            [row(pack="chatgpt", kind="alert", about="2026.12.1", offset_s=0)], changes_seen="2026.11.1")
    # A channel whose id happens to equal the user's is not the user.
    same_id = Recipient("telegram", "channel", "1")
    await backend.schedule([row(same_id)])
    await backend.forget_user(UserKey("telegram", "1"))
    assert await backend.pending(ALICE, PACK) == [] and await backend.pending(ALICE, "gemini") == []
    assert await backend.pending(ALICE, "chatgpt") == [] and await backend.subscriptions("chatgpt") == {}
    assert set(await backend.subscriptions(PACK)) == {Subscriber(NEWS, PACK, "5")}
    assert len(await backend.pending(same_id, PACK)) == 1

    await backend.save_step(state("2", at=T0 - timedelta(days=400)))
    await backend.subscribe(Subscriber(user("2"), PACK), [], [row(user("2"))], deadlines=True)
    assert await backend.delete_inactive(T0) == 1
    assert await backend.pending(user("2"), PACK) == []
    assert set(await backend.subscriptions(PACK)) == {Subscriber(NEWS, PACK, "5")}
