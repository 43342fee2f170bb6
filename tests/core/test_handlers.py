"""The conversation without any storage: the handlers are plain functions of (state, action, turn).

No engine, no database, no event loop: each step is a handler call, and its result is the new state
and what the person sees.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot import button_data as data
from bot import texts
from bot.actions import Action, parse
from bot.conversation import HANDLERS
from bot.conversation.check_all_record import CheckAll
from bot.conversation.packs import PackView
from bot.conversation.registry import ROWS, SCHEDULE, Erase, Needs, Result, Turn, answered
from bot.events import Command, Edit, Message, Notice, PlatformHints, Press, Reply, Start, UserKey
from bot.guide import load_guide
from bot.i18n import EN
from bot.storage.base import Person, UserState
from tests.conftest import MINI_GUIDE

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
GUIDE = load_guide(MINI_GUIDE)
PACKS = {GUIDE.pack: PackView.of(GUIDE)}
KEY = UserKey("telegram", "1")


class Conversation:
    """The person's state and record, stepped by handler calls alone."""

    def __init__(self) -> None:
        self.state = UserState(KEY, GUIDE.pack, GUIDE.version, GUIDE.start, created_at=NOW, updated_at=NOW)
        self.person = Person(KEY)
        self.shown: list[Reply] = []

    def turn(self, facts: dict | None = None) -> Turn:
        return Turn(NOW, PACKS[GUIDE.pack], PACKS, self.person, EN, PlatformHints(), 180, None,
                    dict(facts or {}))

    def step(self, event: object, facts: dict | None = None) -> Result:
        action = parse(event, PACKS, GUIDE.pack, GUIDE.entries)  # type: ignore[arg-type]
        result = HANDLERS[action.route](replace(self.state, answers=dict(self.state.answers),
                                                 history=list(self.state.history)), action, self.turn(facts))
        self.state = result.state or self.state
        self.person = result.person or self.person
        self.shown = answered(result.chosen, result.replies) if result.chosen else result.replies
        return result

    def press(self, label: str, facts: dict | None = None) -> Result:
        found = [b for r in self.shown for row in r.buttons for b in row if b.label == label]
        assert found, f"no {label!r} in {[b.label for r in self.shown for row in r.buttons for b in row]}"
        return self.step(Press(found[0].data), facts)


def test_a_walk_to_the_steps_and_back_needs_no_storage() -> None:
    chat = Conversation()
    chat.step(Start())
    assert chat.shown[-1].text.startswith("Hi! What would you like to do?")
    chat.press("Help me decide")
    assert chat.shown == [Edit("Help me decide", "Which plan do you use?", chat.shown[0].buttons)]
    result = chat.press("Pro")
    assert result.counters == ("reached:code",) and chat.state.answers == {"plan": "pro"}
    chat.press("Yes")
    assert "Claude Code follows the same setting." in chat.shown[0].text
    assert chat.state.node != GUIDE.start and chat.state.step == 4
    chat.press(texts.BACK)
    assert chat.shown[-1].text == "Do you use Claude Code?" and chat.state.answers == {"plan": "pro"}


def test_a_stale_press_changes_nothing_and_says_why() -> None:
    chat = Conversation()
    chat.step(Start())
    old = list(chat.shown)
    chat.press("Help me decide")
    before = chat.state
    chat.shown = old
    result = chat.press("Help me decide")
    assert result.state is None and chat.state is before
    assert chat.shown[0] == Notice(texts.STALE_BUTTON)


def test_forget_asks_then_hands_the_erase_to_the_session() -> None:
    chat = Conversation()
    chat.step(Start())
    chat.step(Command("forget"))
    assert chat.state.pending == "forget" and chat.shown[0].text == texts.FORGET_ASK
    result = chat.press(texts.FORGET_YES)
    assert result.effects == (Erase(),) and result.forgotten and result.state is None


def test_the_remind_menu_and_the_check_summary_ask_for_what_they_read() -> None:
    chat = Conversation()
    chat.step(Start())

    class Planner:
        def offers(self, key, now, *, pack=None, turned_off=False, t=EN):
            return [("cb:P7D", "In 1 week")]

    turn = chat.turn()
    turn.planner = Planner()
    action = Action("command:remind")
    try:
        HANDLERS[action.route](chat.state, action, turn)
        raise AssertionError("the menu shows what is scheduled: it must ask for it")
    except Needs as need:
        assert need.fact == SCHEDULE
    turn.facts[SCHEDULE] = "**Your reminders:**\n- 1 January 2027: a check-back"
    (menu,) = HANDLERS[action.route](chat.state, action, turn).replies
    assert isinstance(menu, Message) and menu.text.startswith("**Your reminders:**")
    assert [b.label for row in menu.buttons for b in row][:2] == ["In 1 week", texts.STOP_REMINDERS]

    # The check-all record lives on the person; the summary reads the rows of the packs it covers.
    chat.person = replace(chat.person, check_all=CheckAll("walk", [GUIDE.pack], 0).dump())
    done = replace(chat.state, answers={GUIDE.confirm_key: "yes"})
    check = Action(f"press:{data.CHECK_ALL}", None, data.CHECK_ALL_NEXT, kind=data.CHECK_ALL)
    result = HANDLERS[check.route](chat.state, check, chat.turn({ROWS: {GUIDE.pack: done}}))
    assert CheckAll.load(result.person.check_all).phase == "done"
    assert "Turned off (as you told me):" in result.replies[0].text

