""""Check all my assistants" through the engine on the shipped packs: pick, walk each in turn, a summary;
a restart in the middle resumes; /forget erases the check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot import button_data as data
from bot import texts
from bot.clock import ManualClock
from bot.content_check import pack_files
from bot.engine import Engine, node_text
from bot.events import Edit, Notice, Press
from bot.guide import DEFAULT_CONTENT_PATH, load_guide
from tests.core.driver import EngineChat

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


# The shipped packs, Claude's first (the default); guides are immutable, so one load serves every test.
PACKS = [load_guide(DEFAULT_CONTENT_PATH),
         *(load_guide(p) for p in pack_files(DEFAULT_CONTENT_PATH.parent) if p != DEFAULT_CONTENT_PATH)]
PACKS_BY_NAME = {g.pack: g for g in PACKS}


async def test_pick_two_walk_them_with_a_restart_between_and_get_the_summary(storage) -> None:
    packs, clock = PACKS, ManualClock(NOW)
    chat = EngineChat(Engine(packs, storage, clock))
    await chat.start()
    await chat.press("🧩 Other assistants")
    await chat.press(texts.CHECK_ALL)
    assert chat.text_shown.startswith("**Which of these do you use?**")
    # Nothing ticked yet: no Continue that would lead nowhere, and a way Back.
    assert chat.labels[:3] == ["⬜ Claude", "⬜ ChatGPT", "⬜ Gemini"] and chat.labels[-1] == texts.BACK
    assert texts.CHECK_ALL_GO not in chat.labels
    go = data.check_all(data.CHECK_ALL_GO)  # a Continue pressed on an old message: said, not looped
    assert (await chat.push(Press(go)))[0] == Notice(texts.CHECK_ALL_NONE)
    await chat.press("⬜ Gemini")
    assert chat.labels[-2:] == [texts.BACK, texts.CHECK_ALL_GO]
    await chat.press("⬜ ChatGPT")
    await chat.press("⬜ Claude")
    await chat.press("☑️ Claude")  # changed their mind
    assert isinstance(chat.replies[0], Edit) and chat.replies[0].chosen == "Claude: no"
    assert chat.labels[:3] == ["⬜ Claude", "☑️ ChatGPT", "☑️ Gemini"]
    await clock.advance(timedelta(seconds=5))  # a person's taps are seconds apart
    await chat.press(texts.CHECK_ALL_GO)
    # The list answered, and the first pack in its place: the packs' order, not the taps'.
    assert isinstance(chat.replies[0], Edit) and chat.replies[0].chosen == "ChatGPT, Gemini"
    assert chat.replies[0].text.startswith("**1 of 2: ChatGPT**")

    await chat.command("steps")  # commands go to the pack being walked
    assert "Improve the model for everyone" in chat.text_shown
    assert texts.CHECK_ALL_NEXT in chat.labels
    await chat.press("✅ I've turned it off")
    assert texts.CHECK_ALL_NEXT in chat.labels  # on the thanks too

    # A restart: a new engine on the same database picks the check up where it was.
    chat.engine = Engine(packs, storage, clock)
    await clock.advance(timedelta(seconds=5))
    await chat.press(texts.CHECK_ALL_NEXT)
    assert chat.text_shown.startswith("**2 of 2: Gemini**")
    await chat.command("steps")
    assert "Keep Activity" in chat.text_shown and texts.CHECK_ALL_SUMMARY in chat.labels
    await chat.press(texts.CHECK_ALL_SUMMARY)
    assert chat.text_shown == ("**Your check is done.**\n\nTurned off (as you told me):\n- ChatGPT\n\n"
                               "Still to do (tap one for its steps):\n- Gemini")
    assert chat.labels == ["Gemini", texts.CHECK_ALL, texts.CONTINUE_WHERE]
    await chat.press("Gemini")
    assert "Keep Activity" in chat.text_shown
    assert texts.CHECK_ALL_NEXT not in chat.labels and texts.CHECK_ALL_SUMMARY not in chat.labels

    await chat.command("forget")
    await chat.press(texts.FORGET_YES)
    assert await storage.get_person(chat.key) is None
    assert [await storage.get_user(chat.key, g.pack) for g in packs] == [None] * len(packs)


async def test_old_buttons_of_a_check_are_answered_not_obeyed(storage) -> None:
    packs, clock = PACKS, ManualClock(NOW)
    chat = EngineChat(Engine(packs, storage, clock))
    await chat.start()
    await chat.press("🧩 Other assistants")
    await chat.press(texts.CHECK_ALL)
    select = list(chat.buttons)
    await chat.press("⬜ Perplexity")
    await chat.press(texts.CHECK_ALL_GO)
    toggle = next(b for b in select if b.label == "⬜ ChatGPT")
    replies = await chat.push(Press(toggle.data))
    assert replies[0] == Notice(texts.STALE_BUTTON)
    assert "1 of 1: Perplexity" in chat.text_shown  # still walking the one chosen


async def test_the_check_speaks_the_persons_language(storage) -> None:
    packs, clock = PACKS, ManualClock(NOW)
    chat = EngineChat(Engine(packs, storage, clock))
    await chat.command("language", "de")
    await chat.press("🧩 Andere Assistenten")
    assert chat.labels[0] == "✅ Alle meine Assistenten prüfen"
    await chat.press("✅ Alle meine Assistenten prüfen")
    assert chat.text_shown.startswith("**Welche davon nutzt du?**") and chat.labels[-1] == "⬅ Zurück"
    await chat.press("⬜ ChatGPT")
    assert chat.replies[0].chosen == "ChatGPT: ja"
    await clock.advance(timedelta(seconds=5))  # a person's taps are seconds apart
    await chat.press("Weiter ➡")
    # ChatGPT's guide is English only: said once, above the German heading.
    assert chat.replies[0] == Notice(
        "Diesen Leitfaden gibt es bisher nur auf Englisch, deshalb zeige ich ihn dir auf Englisch.")
    assert isinstance(chat.replies[1], Edit) and chat.replies[1].text.startswith("**1 von 1: ChatGPT**")
    await chat.command("steps")
    assert "🏁 Fertig: meine Übersicht" in chat.labels
    await chat.press("🏁 Fertig: meine Übersicht")
    assert chat.text_shown.startswith("**Deine Prüfung ist fertig.**\n\nNoch zu erledigen")


async def _check(chat: EngineChat, clock: ManualClock, packs: list[str], answers: dict[str, list[str]]) -> None:
    await chat.start()
    await chat.press("🧩 Other assistants")
    await chat.press(texts.CHECK_ALL)
    for name in packs:
        await chat.press(f"⬜ {name}")
    await clock.advance(timedelta(seconds=5))
    await chat.press(texts.CHECK_ALL_GO)
    for i, name in enumerate(packs):
        for label in answers[name]:
            await chat.press(label)
        await chat.press(texts.CHECK_ALL_SUMMARY if i == len(packs) - 1 else texts.CHECK_ALL_NEXT)


async def test_answers_that_need_nothing_count_as_done_and_the_summary_keeps_its_buttons(storage) -> None:
    # Issue 20, 1 and 3: a work account, ChatGPT Team, Meta AI in the US: nothing to switch off anywhere.
    clock = ManualClock(NOW)
    chat = EngineChat(Engine(PACKS, storage, clock))
    await _check(chat, clock, ["Claude", "ChatGPT", "Meta AI"], {
        "Claude": ["🧭 Help me decide", "🏢 From work, school or government", "No, only this one"],
        "ChatGPT": ["🏢 Team, Enterprise or Edu"],
        "Meta AI": ["🇺🇸 In the US"],
    })
    assert chat.text_shown == ("**Your check is done.**\n\nNothing to switch off, from your answers:\n- Claude\n"
                               "- ChatGPT\n- Meta AI")
    assert "Still to do" not in chat.text_shown
    assert chat.labels == [texts.CHECK_ALL, texts.CONTINUE_WHERE]


async def test_an_assistant_tapped_in_the_summary_opens_with_the_answers_given(storage) -> None:
    # Issue 20, 2: ChatGPT's result for someone without an account, not the bare steps without the answers.
    clock = ManualClock(NOW)
    chat = EngineChat(Engine(PACKS, storage, clock))
    await _check(chat, clock, ["ChatGPT"], {"ChatGPT": ["👤 Without signing in"]})
    assert "Still to do (tap one for its steps):\n- ChatGPT" in chat.text_shown
    before = await storage.get_user(chat.key, "chatgpt")
    await chat.press("ChatGPT")
    chatgpt = PACKS_BY_NAME["chatgpt"]
    theirs = node_text(chatgpt, chatgpt.node(before.node), before.answers, NOW)
    assert before.answers and chat.text_shown == theirs
    assert theirs != node_text(chatgpt, chatgpt.node(chatgpt.entries["steps"]), {}, NOW)
    assert (await storage.get_user(chat.key, "chatgpt")).answers == before.answers
    assert texts.BACK in chat.labels


async def test_the_picker_has_a_back_to_where_the_person_was(storage) -> None:
    chat = EngineChat(Engine(PACKS, storage, ManualClock(NOW)))
    await chat.start()
    await chat.press("🧩 Other assistants")
    await chat.press(texts.CHECK_ALL)
    await chat.press(texts.BACK)
    assert chat.text_shown.startswith("Hi! I help you check one setting in Claude")


async def test_the_other_assistants_list_promises_no_switch() -> None:
    # Issue 20, 3: Meta AI has no switch; the list does not say each one has.
    assert "switch" not in texts.OTHER_ASSISTANTS
