"""The engine, played through the mini guide the way a user would."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from bot import button_data, texts
from bot.clock import ManualClock
from bot.engine import Engine
from bot.events import Command, Edit, Notice, PlatformHints, Press, Start, UserKey
from bot.guide import load_guide
from tests.conftest import MINI_GUIDE
from tests.core.driver import EngineChat


async def test_start_shows_the_first_question_with_its_options(chat: EngineChat) -> None:
    replies = await chat.start()
    assert replies[0].text.startswith("Hi! What would you like to do?")
    assert chat.labels == ["Help me decide", "Just show me the steps", "What changed?", "Sources"]


async def test_choosing_marks_the_answer_and_shows_the_next_step(chat: EngineChat) -> None:
    await chat.start()
    # One reply: the pressed message becomes the answer chosen, with the next step under it.
    (answered,) = await chat.press("Help me decide")
    assert answered == Edit("Help me decide", "Which plan do you use?", answered.buttons)
    assert chat.labels == ["Free", "Pro", "Team", texts.BACK, texts.START_OVER]


async def test_a_path_records_answers_and_shows_only_blocks_that_apply(chat: EngineChat) -> None:
    await chat.start()
    await chat.press("Help me decide")
    await chat.press("Pro")
    await chat.press("Yes")
    text = chat.replies[-1].text
    assert "Turn off _Help improve Claude_" in text
    assert "Claude Code follows the same setting." in text
    assert "Team plans" not in text
    state = await chat.engine.storage.get_user(chat.key, chat.engine.pack)
    assert state.answers == {"plan": "pro", "code": "yes"}


async def test_back_returns_to_the_previous_question_and_forgets_its_answer(chat: EngineChat) -> None:
    await chat.start()
    await chat.press("Help me decide")
    await chat.press("Free")
    replies = await chat.press(texts.BACK)
    assert replies[-1].text == "Which plan do you use?"
    state = await chat.engine.storage.get_user(chat.key, chat.engine.pack)
    assert state.node == "plan" and state.answers == {}
    await chat.press(texts.BACK)
    assert chat.replies[-1].text.startswith("Hi!")
    assert texts.BACK not in chat.labels


async def test_start_over_clears_answers(chat: EngineChat) -> None:
    await chat.start()
    await chat.press("Help me decide")
    await chat.press("Team")
    assert "Team plans are not covered." in chat.replies[-1].text
    await chat.press(texts.START_OVER)
    state = await chat.engine.storage.get_user(chat.key, chat.engine.pack)
    assert state.node == "home" and state.answers == {} and state.history == []


async def test_info_node_continues(chat: EngineChat) -> None:
    await chat.start()
    await chat.press("What changed?")
    assert "Chats may be used for training" in chat.replies[-1].text
    replies = await chat.press("Continue")
    assert replies[0].chosen == "Continue"
    assert replies[-1].text.startswith("Hi!")


async def test_stale_button_changes_nothing_and_shows_the_current_step(chat: EngineChat) -> None:
    await chat.start()
    old = chat.button("Help me decide")
    await chat.press("Help me decide")
    await chat.press("Free")
    replies = await chat.push(Press(old.data))
    assert replies[0] == Notice(texts.STALE_BUTTON)
    assert replies[1].text == "Do you use Claude Code?"
    state = await chat.engine.storage.get_user(chat.key, chat.engine.pack)
    assert state.node == "code"


@pytest.mark.parametrize("data", ["", "zzz", "o:1", "o:x:free", "o:0:nope", "f:yes", "r:", "x:boom", "o:" + "9" * 500, "\x00\xff"])
async def test_forged_button_data_gets_an_explanation_never_an_exception(chat: EngineChat, data: str) -> None:
    await chat.start()
    replies = await chat.push(Press(data))
    assert isinstance(replies[0], Notice)
    assert replies[-1].text.startswith("Hi! What would you like to do?")
    assert (await chat.engine.storage.get_user(chat.key, chat.engine.pack)).node == "home"


async def test_typed_text_and_unknown_commands_repeat_the_step(chat: EngineChat) -> None:
    await chat.start()
    await chat.press("Help me decide")
    replies = await chat.text()
    assert replies[0].text == texts.USE_BUTTONS and replies[1].text == "Which plan do you use?"
    replies = await chat.command("frobnicate")
    assert "I don't know that command. Try /help" in replies[0].text
    assert replies[1].text == "Which plan do you use?"


async def test_commands_help_privacy_sources_and_deep_links(chat: EngineChat) -> None:
    replies = await chat.command("help")
    assert "/steps" in replies[0].text and "/forget" in replies[0].text
    replies = await chat.command("sources")
    address = "https://www.anthropic.com/news/updates-to-our-consumer-terms"
    assert f"- Updates to Consumer Terms: [{address}]({address}) (seen " in replies[0].text
    replies = await chat.command("privacy")
    assert "never store what you type" in replies[0].text
    replies = await chat.start("steps")
    assert "Open **Settings** <& more>" in replies[-1].text
    replies = await chat.command("steps")
    assert "Open **Settings** <& more>" in replies[-1].text
    replies = await chat.start("nonsense")
    assert replies[0].text == texts.UNKNOWN_ENTRY and replies[1].text.startswith("Hi!")


async def test_help_spells_commands_the_way_the_platform_says(mini_guide, storage, clock) -> None:
    engine = Engine(mini_guide, storage, clock)
    replies = await EngineChat(engine, platform="discord").command("help")
    assert "- /optout steps: Just show me the steps" in replies[0].text
    # Discord has no /stop: its reminders stop with an option of /optout remind.
    assert "- /optout remind turn:off: Stop all reminders" in replies[0].text and "/optout stop" not in replies[0].text
    replies = await EngineChat(engine, platform="discord").command("nonsense")
    assert "Try /optout help" in replies[0].text
    replies = await EngineChat(engine, platform="console").command("help")
    assert "- /steps: Just show me the steps" in replies[0].text and "- /stop: Stop all reminders" in replies[0].text
    # Hints an adapter still passes in win over the table's.
    hints = {"discord": PlatformHints(command_prefix="!", stop_reminders="!quiet")}
    replies = await EngineChat(Engine(mini_guide, storage, clock, hints=hints), platform="discord").command("nonsense")
    assert "Try !help" in replies[0].text


async def test_dates_are_read_from_the_injected_clock(engine: Engine, clock: ManualClock) -> None:
    chat = EngineChat(engine)
    await clock.set(datetime(2025, 10, 5, 12, tzinfo=UTC))
    replies = await chat.start()
    # Whole days to the earliest reading of "8 October" anywhere (UTC+14): 2 days 21 hours.
    assert "You have **2 days** left, until 8 October 2025." in replies[0].text
    await clock.set(datetime(2025, 10, 9, 12, tzinfo=UTC))
    replies = await chat.start()
    assert "left" not in replies[0].text
    assert "The deadline passed on 8 October 2025." in replies[0].text


async def test_the_time_left_counts_down_with_the_clock(engine: Engine, clock: ManualClock) -> None:
    chat = EngineChat(engine)
    await clock.set(datetime(2025, 10, 1, 12, tzinfo=UTC))
    assert "You have **6 days** left" in (await chat.start())[0].text
    await clock.set(datetime(2025, 10, 7, 12, tzinfo=UTC))
    assert "You have **less than a day** left" in (await chat.start())[0].text
    # Still before the deadline (the end of 8 October in California), but already 9 October in
    # Europe: never a count of hours that would read as more time than a European user has.
    await clock.set(datetime.fromisoformat("2025-10-09T07:59:00+02:00"))
    text = (await chat.start())[0].text
    assert "You have **less than a day** left" in text and "hour" not in text
    await clock.set(datetime(2025, 10, 9, 12, tzinfo=UTC))
    assert "The deadline passed on 8 October 2025." in (await chat.start())[0].text


async def test_confirm_off_is_recorded_without_text(chat: EngineChat) -> None:
    await chat.start("steps")
    replies = await chat.press("I've turned it off")
    assert isinstance(replies[0], Edit) and replies[0].chosen == "I've turned it off"
    assert "Thank you!" in replies[0].text
    state = await chat.engine.storage.get_user(chat.key, chat.engine.pack)
    assert state.answers["turned_off"] == "yes"


async def test_remind_without_a_reminder_service_says_so(chat: EngineChat) -> None:
    await chat.start("steps")
    replies = await chat.press("Remind me")
    assert replies[-1].text == texts.NO_REMINDERS_HERE


async def test_forget_asks_first_and_then_erases_everything(chat: EngineChat) -> None:
    await chat.start()
    await chat.press("Help me decide")
    replies = await chat.command("forget")
    assert replies[0].text == texts.FORGET_ASK
    replies = await chat.press(texts.FORGET_NO)
    assert replies[0].text == texts.FORGET_KEPT
    assert await chat.engine.storage.get_user(chat.key, chat.engine.pack) is not None
    await chat.command("forget")
    replies = await chat.press(texts.FORGET_YES)
    assert replies[0].text == texts.FORGOTTEN
    assert await chat.engine.storage.get_user(chat.key, chat.engine.pack) is None


async def test_forged_forget_confirmation_without_asking_erases_nothing(chat: EngineChat) -> None:
    await chat.start()
    replies = await chat.push(Press("f:yes"))
    assert isinstance(replies[0], Notice)
    assert await chat.engine.storage.get_user(chat.key, chat.engine.pack) is not None


async def test_two_taps_at_once_make_one_transition(engine: Engine) -> None:
    chat = EngineChat(engine)
    await chat.start()
    data = chat.button("Help me decide").data
    first, second = await asyncio.gather(engine.handle(chat.key, Press(data)), engine.handle(chat.key, Press(data)))
    state = await engine.storage.get_user(chat.key, engine.pack)
    assert state.node == "plan" and state.step == 2
    outcomes = sorted([first, second], key=lambda o: isinstance(o.replies[0], Notice))
    assert outcomes[0].replies[-1].text == "Which plan do you use?"
    assert outcomes[1].replies[0].text == texts.STALE_BUTTON


async def test_many_users_at_once_keep_their_own_state(engine: Engine) -> None:
    chats = [EngineChat(engine, user_id=str(i)) for i in range(30)]
    await asyncio.gather(*(c.start() for c in chats))
    await asyncio.gather(*(c.press("Help me decide") for c in chats))
    await asyncio.gather(*(c.press("Pro" if i % 2 else "Free") for i, c in enumerate(chats)))
    for i, c in enumerate(chats):
        state = await engine.storage.get_user(c.key, engine.pack)
        assert state.answers == {"plan": "pro" if i % 2 else "free"}


async def test_a_second_engine_on_the_same_database_resumes_each_user(tmp_path, clock: ManualClock) -> None:
    from bot.storage import open_storage

    guide = load_guide(MINI_GUIDE)
    first_store = await open_storage(tmp_path / "x.db")
    first = EngineChat(Engine(guide, first_store, clock))
    await first.start()
    await first.press("Help me decide")
    await first.press("Pro")
    old_button = first.button("Yes")
    await first_store.close()

    second_store = await open_storage(tmp_path / "x.db")
    engine = Engine(guide, second_store, clock)
    outcome = await engine.handle(first.key, Press(old_button.data))
    assert isinstance(outcome.replies[0], Edit) and outcome.replies[0].chosen == "Yes"
    assert "Claude Code follows the same setting." in outcome.replies[0].text
    await second_store.close()


async def test_a_new_guide_version_restarts_users_with_a_notice(tmp_path, clock: ManualClock) -> None:
    from bot.storage import open_storage

    guide = load_guide(MINI_GUIDE)
    store = await open_storage(tmp_path / "x.db")
    chat = EngineChat(Engine(guide, store, clock))
    await chat.start()
    await chat.press("Help me decide")
    stale = chat.button("Pro")
    newer = guide.model_copy(update={"version": "mini-2"})
    outcome = await Engine(newer, store, clock).handle(chat.key, Press(stale.data))
    assert outcome.replies[0].text == texts.GUIDE_UPDATED
    assert outcome.replies[-1].text.startswith("Hi!")
    state = await store.get_user(chat.key, chat.engine.pack)
    assert state.guide_version == "mini-2" and state.node == "home" and state.answers == {}
    await store.close()


async def test_funnel_counts_hold_no_user_ids(chat: EngineChat) -> None:
    await chat.start()
    await chat.press("Help me decide")
    await chat.press("Free")
    await chat.press("No")
    await chat.press("I've turned it off")
    today = chat.engine.clock.now().date()
    funnel = await chat.engine.storage.funnel(today, today)
    assert funnel == {
        ("telegram", "mini/started"): 1,
        ("telegram", "mini/reached:plan"): 1,
        ("telegram", "mini/reached:code"): 1,
        ("telegram", "mini/got_steps"): 1,
        ("telegram", "mini/confirmed_off"): 1,
        ("telegram", "mini/share_offered"): 2,  # on the result, then on the thank-you
    }


async def test_users_on_different_platforms_are_separate(engine: Engine) -> None:
    tg, dc = EngineChat(engine, "5", "telegram"), EngineChat(engine, "5", "discord")
    await tg.start()
    await tg.press("Help me decide")
    await dc.start()
    assert (await engine.storage.get_user(UserKey("telegram", "5"), engine.pack)).node == "plan"
    assert (await engine.storage.get_user(UserKey("discord", "5"), engine.pack)).node == "home"


async def test_start_command_is_the_same_as_start(chat: EngineChat) -> None:
    a = await chat.push(Command("start", "steps"))
    b = await chat.push(Start("steps"))
    assert a[-1].text == b[-1].text


async def test_the_confirmed_answer_and_the_steps_entry_are_the_guides(mini_guide, storage, clock) -> None:
    guide = mini_guide.model_copy(update={"confirm_key": "switched_off", "steps_entry": "decide"})
    chat = EngineChat(Engine(guide, storage, clock))
    await chat.start()
    await chat.push(Press(button_data.action(button_data.DONE)))
    state = await storage.get_user(chat.key, guide.pack)
    assert state.answers == {"switched_off": "yes"}
    # /steps opens whatever entry the guide names for it.
    via_steps = (await chat.command("steps"))[-1].text
    assert via_steps == (await chat.start("decide"))[-1].text
