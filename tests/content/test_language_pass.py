"""The language pass of issue 20 (defects 14 and 15): what a German, Spanish, French or Brazilian person sees.

The guide is walked through ``Engine.handle`` and the terminal chat; the catalogs are read as the bot
reads them (``bot.i18n.lang``).
"""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import pytest
from babel.messages.pofile import read_po

from adapters.console import ConsoleChat
from bot.clock import ManualClock
from bot.engine import Engine
from bot.events import Command, Outcome, Press, Start, UserKey
from bot.guide import DEFAULT_CONTENT_PATH, load_guide
from bot.i18n import lang
from bot.storage import open_storage

GUIDE = load_guide()
LOCALE = DEFAULT_CONTENT_PATH.parent.parent / "bot" / "locale"
HINTS = {"de": "de", "es": "es-ES", "fr": "fr", "pt_BR": "pt-BR"}


def block(language: str, node: str, block_id: str) -> str:
    return next(b.text for b in GUIDE.in_language(language).node(node).blocks if b.id == block_id)


def catalog(language: str) -> list[str]:
    with open(LOCALE / language / "LC_MESSAGES" / "messages.po", "rb") as f:
        return [m.string for m in read_po(f) if m.id]


def guide_texts(language: str) -> list[str]:
    local = GUIDE.in_language(language)
    return [b.text for n in local.nodes for b in n.blocks] + [
        o.label for n in local.nodes for o in getattr(n, "options", ())]


@pytest.fixture
async def storage(tmp_path):
    store = await open_storage(tmp_path / "language.db")
    yield store
    await store.close()


async def walk(engine: Engine, who: str, language: str, entry: str | None, *options: str) -> Outcome:
    """Open ``entry`` in ``language`` and press options by their ids (labels differ per language)."""
    key = UserKey("telegram", who)
    outcome = await engine.handle(key, Start(entry), locale=HINTS[language])
    for option in options:
        data = next(b.data for r in outcome.replies for row in r.buttons for b in row if b.data.endswith(f":{option}"))
        outcome = await engine.handle(key, Press(data), locale=HINTS[language])
    return outcome


def shown(outcome: Outcome) -> str:
    return "\n\n".join(r.text for r in outcome.replies)


# Defect 15: "can't be taken back" is not "can't be recovered" -------------------------------------------------
@pytest.mark.parametrize(("language", "wrong", "right"), [
    ("fr", "irrécupérable", "ne peut pas en être retiré"),
    ("es", "recuperar", "no se puede retirar"),
    ("pt_BR", "recuperado", "não pode ser retirado"),
    ("de", "wiederherstell", "lässt sich nicht zurückholen"),
])
async def test_the_limit_says_taken_back_not_recovered(storage, language: str, wrong: str, right: str) -> None:
    engine = Engine(GUIDE, storage, ManualClock(datetime(2026, 12, 6, tzinfo=UTC)))
    text = shown(await walk(engine, f"limit-{language}", language, "decide", "personal", "no", "accepted", "no", "no"))
    assert right in text and wrong not in text, text
    assert all(wrong not in t for t in guide_texts(language))


async def test_german_maybe_on_is_grammatical(storage) -> None:
    engine = Engine(GUIDE, storage, ManualClock(datetime(2026, 12, 6, tzinfo=UTC)))
    text = shown(await walk(engine, "maybe-de", "de", "decide", "personal", "no", "unsure", "no", "no"))
    assert "Deine Einstellung ist womöglich **an**" in text and "ist gut möglich **an**" not in text


@pytest.mark.parametrize(("language", "left"), [("es", "tiempo restante: 1 día"), ("pt_BR", "tempo restante: 1 dia")])
async def test_one_day_left_agrees_in_number(storage, language: str, left: str) -> None:
    # 6 October 12:00 UTC: 8 October is first read (UTC+14) 45 hours later, so "1 day" is left.
    engine = Engine(GUIDE, storage, ManualClock(datetime(2025, 10, 6, 12, 0, tzinfo=UTC)))
    text = shown(await walk(engine, f"left-{language}", language, "decide", "personal", "no", "notyet", "no"))
    assert left in text, text
    assert not re.search(r"quedan 1 día|faltam 1 dia", text)


async def test_german_privacy_notice_puts_the_period_in_the_right_case(storage) -> None:
    engine = Engine(GUIDE, storage, ManualClock(datetime(2026, 12, 6, tzinfo=UTC)))
    key = UserKey("telegram", "privacy-de")
    text = shown(await engine.handle(key, Command("privacy"), locale="de"))
    assert "wenn du 180 Tage lang nicht aktiv warst" in text and "nach 180 Tage " not in text


# Defect 14: translations that went stale, and what every language dropped ---------------------------------------
@pytest.mark.parametrize("language", HINTS)
def test_the_translations_follow_the_current_english(language: str) -> None:
    work = block(language, "troubleshoot", "t_work")
    assert not re.search(r"keinen Schalter|no hay interruptor|pas d'interrupteur|não há chave", work), work
    assert "erminal" not in block(language, "troubleshoot", "t_code")
    hard_to_find = {"de": "nicht leicht zu finden", "es": "difícil de encontrar", "fr": "difficile à trouver",
                    "pt_BR": "difícil de achar"}[language]
    assert hard_to_find in block(language, "troubleshoot", "t_intro")
    assert "Help improve Claude" in block(language, "result", "r_plain")
    gloss = {"de": "(unsere KI-Modelle verbessern)", "es": "(mejorar nuestros modelos de IA)",
             "fr": "(améliorer nos modèles d'IA)", "pt_BR": "(melhorar nossos modelos de IA)"}[language]
    assert gloss in block(language, "troubleshoot", "t_label")


def test_brazilian_portuguese_never_uses_te_with_voce() -> None:
    for text in [*catalog("pt_BR"), *guide_texts("pt_BR")]:
        assert not re.search(r"\bte\b", text), text


def test_spanish_is_one_variety_peninsular() -> None:
    texts = [*catalog("es"), *guide_texts("es")]
    # Spain: "ordenador", the present perfect for what just happened; no Latin American forms.
    assert any("ordenador" in t for t in texts)
    for text in texts:
        assert not re.search(r"computadora|celular|ustedes|Ya lo desactivé|No lo encontré|ya pasó|O ve directo:", text), text
    assert lang("es")._("✅ I've turned it off") == "✅ Ya lo he desactivado"


def test_the_spanish_discord_description_says_what_the_english_says() -> None:
    assert lang("es")._("Stop only this assistant's announcements; empty for all of them") == (
        "Detener solo los avisos de este asistente; vacío para todos")


@pytest.mark.parametrize(("language", "bye"), [
    ("de", "Tschüss! Du kannst die Einstellung jederzeit ändern."),
    ("es", "¡Hasta luego! Puedes cambiar el ajuste cuando quieras."),
    ("fr", "Au revoir ! Vous pouvez modifier le réglage à tout moment."),
    ("pt_BR", "Até logo! Você pode mudar a configuração a qualquer momento."),
    ("en", "Bye! You can change the setting at any time."),
])
async def test_the_terminal_says_goodbye_in_the_persons_language(storage, language: str, bye: str) -> None:
    engine = Engine(GUIDE, storage, ManualClock(datetime(2026, 12, 6, tzinfo=UTC)))
    out = io.StringIO()
    typed = "" if language == "en" else f"/language {language}\n"
    await ConsoleChat(engine, out=out, inp=io.StringIO(typed), echo=False).run()
    assert out.getvalue().rstrip().splitlines()[-1] == bye
