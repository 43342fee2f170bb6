""""Check all my assistants" through the engine on the shipped packs: pick, walk each in turn, a summary;
a restart in the middle resumes; /forget erases the check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot import texts
from bot.clock import ManualClock
from bot.content_check import pack_files
from bot.engine import Engine
from bot.events import Edit, Notice, Press
from bot.guide import DEFAULT_CONTENT_PATH, load_guide
from tests.core.driver import EngineChat

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


# The shipped packs, Claude's first (the default); guides are immutable, so one load serves every test.
PACKS = [load_guide(DEFAULT_CONTENT_PATH),
         *(load_guide(p) for p in pack_files(DEFAULT_CONTENT_PATH.parent) if p != DEFAULT_CONTENT_PATH)]


async def test_pick_two_walk_them_with_a_restart_between_and_get_the_summary(storage) -> None:
    packs, clock = PACKS, ManualClock(NOW)
    chat = EngineChat(Engine(packs, storage, clock))
    await chat.start()
    await chat.press("🧩 Other assistants")
    await chat.press(texts.CHECK_ALL)
    assert chat.text_shown.startswith("**Which of these do you use?**")
    assert chat.labels[:3] == ["⬜ Claude", "⬜ ChatGPT", "⬜ Gemini"] and chat.labels[-1] == texts.CHECK_ALL_GO
    await chat.press(texts.CHECK_ALL_GO)
    assert chat.replies[0] == Notice(texts.CHECK_ALL_NONE)
    await chat.press("⬜ Gemini")
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
    assert chat.text_shown.startswith("**Welche davon nutzt du?**") and chat.labels[-1] == "Weiter ➡"
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
