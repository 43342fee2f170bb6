"""The "Remind me" menu: the offers that fit the date, what is scheduled, subscribing, stopping, and
following a pack's changes. Its record is ``Menu``: what the menu shows, worked out afresh each time
from the date and the schedule (nothing about it is stored)."""

from __future__ import annotations

from dataclasses import dataclass

from bot import button_data as data
from bot import texts
from bot.actions import Action
from bot.conversation.registry import (
    SCHEDULE,
    CancelReminders,
    FollowChanges,
    Result,
    Subscribe,
    Turn,
    button,
    handles,
    notice,
)
from bot.conversation.walk import again, continue_row, turned_off
from bot.events import Button, Message, Reply
from bot.storage.base import UserState


@dataclass(frozen=True, slots=True)
class Menu:
    """The menu as shown: ``offers`` (offer id, label) and ``scheduled`` (a sentence, or None)."""

    offers: tuple[tuple[str, str], ...]
    scheduled: str | None

    @classmethod
    def of(cls, state: UserState, turn: Turn) -> Menu:
        assert turn.planner is not None
        scheduled = turn.require(SCHEDULE)  # first: a fact not loaded yet runs the handler again
        offers = turn.planner.offers(None, turn.now, pack=turn.pack.pack, turned_off=turned_off(state, turn), t=turn.t)
        return cls(tuple(offers), scheduled if isinstance(scheduled, str) else None)

    def reply(self, turn: Turn) -> Message:
        t = turn.t
        rows: list[tuple[Button, ...]] = [(Button(label, data.offer(offer, turn.q())),) for offer, label in self.offers]
        if self.scheduled:
            rows.append((button(turn, texts.STOP_REMINDERS, data.action(data.STOP, turn.q())),))
        rows.append(continue_row(turn))
        text = t._(texts.REMIND_ASK) if self.offers else t._(texts.REMIND_NONE)
        if self.scheduled:
            text = f"{self.scheduled}\n\n{text}"
        return Message(text, tuple(rows))


def _unreachable(turn: Turn) -> Result:
    return Result([Message(turn.t._(texts.NO_REMINDERS_HERE), (continue_row(turn),))])


@handles("command:remind", "option:remind", f"press:{data.ACTION}:{data.REMIND}")
def menu(state: UserState, action: Action, turn: Turn) -> Result:
    if turn.planner is None:
        return _unreachable(turn)
    return Result([Menu.of(state, turn).reply(turn)])


@handles(f"press:{data.OFFER}")
def choose_offer(state: UserState, action: Action, turn: Turn) -> Result:
    if turn.planner is None:
        return again(state, turn, texts.NO_REMINDERS_HERE)
    shown = Menu.of(state, turn)
    if action.arg not in {offer for offer, _ in shown.offers}:
        return Result([notice(turn, texts.OFFER_GONE), shown.reply(turn)])
    stop_row = (button(turn, texts.STOP_REMINDERS, data.action(data.STOP, turn.q())), *continue_row(turn))

    def confirmed(results: list[object]) -> list[Reply]:
        confirmation = results[0]
        if not isinstance(confirmation, str):  # gone between the menu and the press
            return [notice(turn, texts.OFFER_GONE), shown.reply(turn)]
        return [Message(confirmation, (stop_row,))]

    return Result(effects=(Subscribe(action.arg, turned_off(state, turn)),), then=confirmed,
                  counters=("reminder_subscribed",))


@handles("command:stop", f"press:{data.ACTION}:{data.STOP}")
def stop(state: UserState, action: Action, turn: Turn) -> Result:
    # /stop ends every reminder of the person, whichever pack they are in.
    if turn.planner is None:
        return Result([Message(turn.t._(texts.NO_REMINDERS_TO_STOP), (continue_row(turn),))])

    def stopped(results: list[object]) -> list[Reply]:
        text = texts.REMINDERS_STOPPED if results[0] else texts.NO_REMINDERS_TO_STOP
        return [Message(turn.t._(text), (continue_row(turn),))]

    return Result(effects=(CancelReminders(),), then=stopped)


@handles(f"press:{data.ACTION}:{data.ALERTS}")
def follow_changes(state: UserState, action: Action, turn: Turn) -> Result:
    if turn.planner is None:
        return _unreachable(turn)

    def following(results: list[object]) -> list[Reply]:
        return [Message(str(results[0]), (continue_row(turn),))]

    return Result(effects=(FollowChanges(),), then=following, counters=("alert_subscribed",))
