"""Languages: the choice from a platform hint, the bot's own catalogs, dates and plurals, the engine in them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot import button_data as data
from bot import texts
from bot.clock import ManualClock
from bot.engine import Engine
from bot.events import Command, Notice, Press, Start, UserKey
from bot.guide import format_left, load_guide
from bot.i18n import LANGUAGES, LOCALE_DIR, choose_language, lang
from bot.reminders import texts as reminder_texts
from tests.conftest import ROOT, SHIPPED_GUIDE

BRACES = re.compile(r"\{[a-z_]*\}")


@pytest.mark.parametrize(
    ("hint", "language"),
    [("de", "de"), ("de-AT", "de"), ("es-ES", "es"), ("es-419", "es"), ("es", "es"), ("fr", "fr"),
     ("fr-CA", "fr"), ("pt-BR", "pt_BR"), ("pt", "pt_BR"), ("pt_PT", "pt_BR"), ("en-US", "en"), ("en-GB", "en"),
     ("ja", "en"), ("zh-TW", "en"), (None, "en"), ("", "en"), ("not a locale!", "en"), ("xx-YY", "en")],
)
def test_a_platform_hint_maps_to_a_language_we_speak(hint: str | None, language: str) -> None:
    assert choose_language(hint) == language


def test_dates_counts_and_lists_follow_the_language() -> None:
    at = datetime(2025, 10, 8, 23, 59, tzinfo=UTC)
    assert [lang(code).date(at) for code in LANGUAGES] == [
        "8 October 2025", "8. Oktober 2025", "8 de octubre de 2025", "8 octobre 2025", "8 de outubro de 2025"]
    # (The count runs to the date's earliest reading, 14 hours before it in UTC: see bot.guide.)
    assert format_left(at, at - timedelta(days=4), t=lang("de")) == "3 Tage"
    assert format_left(at, at - timedelta(days=2), t=lang("de")) == "1 Tag"
    assert format_left(at, at - timedelta(hours=10), t=lang("es")) == "menos de un día"
    assert reminder_texts.format_offset(timedelta(days=7), t=lang("fr")) == "7\u00a0jours"  # CLDR: a no-break space
    assert lang("pt_BR").join(["7 dias", "1 dia"]) == "7 dias e 1 dia"
    # French writes the first of a month as an ordinal (CLDR's pattern cannot): "1er octobre", then "2 octobre".
    assert [lang("fr").date(date(2025, 10, d)) for d in (1, 2)] == ["1er octobre 2025", "2 octobre 2025"]
    assert lang("en").date(date(2025, 10, 1)) == "1 October 2025"


def _bot_texts() -> dict[str, str]:
    """Every text of bot/ and adapters/ marked for translation, as pybabel extracts it: msgid -> where."""
    found = {}
    for folder in ("bot", "adapters"):
        for filename, lineno, message, _, _ in extract_from_dir(ROOT / folder, keywords={"_": None, "N_": None}):
            found[message] = f"{folder}/{filename}:{lineno}"
    return found


def test_the_extraction_finds_the_texts() -> None:
    found = _bot_texts()
    assert texts.BACK in found and texts.FORGET_ASK in found and reminder_texts.SHOW_STEPS in found
    assert len(found) > 50


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_every_bot_text_is_translated_with_the_same_placeholders(language: str) -> None:
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale=language)
    problems = []
    for message, where in _bot_texts().items():
        entry = catalog.get(message)
        if entry is None or not entry.string or entry.fuzzy:
            problems.append(f"{where}: no {language} translation (run pybabel extract/update, see docs/translating.md)")
        elif sorted(BRACES.findall(entry.string)) != sorted(BRACES.findall(message)):
            problems.append(f"{where}: {language} placeholders {BRACES.findall(entry.string)} differ")
    assert problems == []


async def test_the_engine_speaks_the_hint_language_and_the_pack_says_when_it_cannot(
    storage, mini_guide, clock: ManualClock
) -> None:
    shipped = Engine(load_guide(SHIPPED_GUIDE), storage, clock)
    outcome = await shipped.handle(UserKey("telegram", "1"), Start(), locale="de")
    assert outcome.replies[0].text.startswith("Hallo!")
    assert [b.label for row in outcome.replies[-1].buttons for b in row][:2] == [
        "🧭 Hilf mir entscheiden", "📋 Zeig mir nur die Schritte"]
    # The mini guide is English only: a German speaker hears so once, in German, and gets the English guide.
    mini = Engine(mini_guide, storage, clock)
    first = await mini.handle(UserKey("telegram", "2"), Start(), locale="de")
    assert first.replies[0] == Notice(lang("de")._(texts.ONLY_IN_ENGLISH))
    assert first.replies[1].text.startswith("Hi!")
    again = await mini.handle(UserKey("telegram", "2"), Start(), locale="de")
    assert not any(isinstance(r, Notice) for r in again.replies)


def test_shipped_files_are_in_the_package() -> None:
    # pip install (the Docker image) must carry the catalogs: they are read at start-up, never compiled.
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"locale/*/LC_MESSAGES/*.po"' in pyproject
    assert all((LOCALE_DIR / code / "LC_MESSAGES" / "messages.po").is_file() for code in LANGUAGES if code != "en")
    assert Path(SHIPPED_GUIDE).parent.joinpath("i18n").is_dir()


async def test_language_switches_mid_conversation_without_losing_the_place(storage, clock: ManualClock) -> None:
    engine = Engine(load_guide(SHIPPED_GUIDE), storage, clock)
    key = UserKey("telegram", "7")
    await engine.handle(key, Start(), locale="en-US")
    plan = await engine.handle(key, Press(data.option(1, "decide")), locale="en-US")
    assert plan.replies[-1].text.startswith("**Which kind of Claude account is it?**")
    menu = await engine.handle(key, Command("language"), locale="en-US")
    labels = [b.label for row in menu.replies[-1].buttons for b in row]
    assert labels[:5] == ["English", "Deutsch", "Español", "Français", "Português (Brasil)"]
    switched = await engine.handle(key, Press(data.language("de")), locale="en-US")
    assert switched.replies[0].text == "Alles klar, ab jetzt spreche ich Deutsch."
    assert switched.replies[-1].text.startswith("**Was für ein Claude-Konto ist es?**")
    # Same place, same step: the buttons shown before the switch still work, in German now.
    code = await engine.handle(key, Press(data.option(2, "personal")), locale="en-US")
    assert code.replies[-1].text.startswith("**Nutzt du Claude Code mit diesem Konto?**")
    assert code.replies[0].chosen == "🙋 Privat: Free, Pro oder Max"
    # The platform's hint no longer overrides the choice; /forget erases it.
    helped = await engine.handle(key, Command("help"), locale="fr")
    assert helped.replies[0].text.startswith("**Was ich kann**")
    await engine.handle(key, Command("forget"))
    await engine.handle(key, Press(data.forget(True)))
    fresh = await engine.handle(key, Start(), locale="fr")
    assert fresh.replies[0].text.startswith("Bonjour !")


async def test_a_reminder_is_written_in_the_recipients_language() -> None:
    guide = load_guide(SHIPPED_GUIDE)
    final = guide.in_language("es").deadline("final")
    reminder = reminder_texts.deadline_reminder(final, final.at - timedelta(days=7), guide.in_language("es"), t=lang("es"))
    assert reminder.text.startswith("⏰ **Recordatorio: Fecha límite para elegir tu ajuste de entrenamiento de Claude**")
    assert "8 de octubre de 2025. Tiempo restante: **6 días**" in reminder.text
    assert [b.label for row in reminder.buttons for b in row] == [
        "📋 Muéstrame los pasos", "✅ Ya lo he desactivado", "🔕 Cancelar recordatorios"]


async def test_a_language_chosen_in_one_pack_holds_in_every_pack(storage, clock: ManualClock) -> None:
    claude, chatgpt = load_guide(SHIPPED_GUIDE), load_guide(Path(SHIPPED_GUIDE).parent / "chatgpt.yaml")
    engine = Engine([claude, chatgpt], storage, clock)
    key = UserKey("telegram", "9")
    await engine.handle(key, Start(), locale="en-US")
    await engine.handle(key, Press(data.language("de")), locale="en-US")
    # Another pack, never opened before: the choice is already there (told in German that it is English).
    await clock.advance(timedelta(minutes=1))
    other = await engine.handle(key, Start(entry="chatgpt"), locale="en-US")
    assert other.replies[0] == Notice(lang("de")._(texts.ONLY_IN_ENGLISH))
    menu = await engine.handle(key, Command("language"), locale="en-US")
    french = next(b for row in menu.replies[-1].buttons for b in row if b.label == "Français")
    assert french.data == data.language("fr", "chatgpt")  # answered in the pack the person is in
    switched = await engine.handle(key, Press(french.data), locale="en-US")
    assert switched.replies[0].text == lang("fr")._(texts.LANGUAGE_SET)
    # Chosen in ChatGPT's pack, it holds in Claude's too: every row of the person carries it.
    assert (await storage.get_user(key, "claude")).language == "fr"
    back = await engine.handle(key, Start(), locale="en-US")
    assert back.replies[0].text.startswith("Bonjour !")
