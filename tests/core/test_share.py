"""The share grammar and cards of bot/share.py, and what the engine makes of a shared start (no platform)."""

from __future__ import annotations

import pytest

from bot import share, texts
from bot.clock import ManualClock
from bot.content_check import pack_files
from bot.engine import Engine
from bot.events import Press, Start, UserKey
from bot.guide import load_guide
from bot.i18n import lang
from bot.storage import open_storage
from tests.conftest import AFTER, SHIPPED_GUIDE

PACKS = [load_guide(SHIPPED_GUIDE), *(load_guide(p) for p in pack_files(SHIPPED_GUIDE.parent) if p != SHIPPED_GUIDE)]
NAMES = [g.pack for g in PACKS]


@pytest.mark.parametrize(("entry", "pack"), [
    ("s-chatgpt", "chatgpt"), ("s-claude", "claude"), ("s-github-copilot", "github-copilot"),
    ("chatgpt", None),  # a pack's own deep link is not a shared one
    ("s-nothing", None), ("s-", None), ("steps", None), ("", None), (None, None),
])
def test_a_shared_payload_names_a_known_pack(entry: str | None, pack: str | None) -> None:
    assert share.shared_pack(entry, NAMES) == pack


def test_every_card_names_the_assistant_and_its_setting_in_one_sentence() -> None:
    sharing = share.Sharing(PACKS, counters=None, clock=ManualClock(AFTER))  # type: ignore[arg-type]
    for guide in PACKS:
        card = sharing.card(guide.pack, lang("en"))
        assert card.text.count(". ") == 0 and card.text.endswith(".")
        assert guide.name in card.text and card.description in card.text and card.description != guide.title
        assert card.payload == f"s-{guide.pack}" and len(card.payload) <= 64
    german = sharing.card("claude", lang("de"))
    assert german.description == "die Einstellung „Help improve Claude“" and german.description in german.text
    assert sharing.card("chatgpt", lang("de")).text == sharing.card("chatgpt", lang("en")).text  # its guide is English
    assert sharing.matching("GPT") == ["chatgpt"] and sharing.matching("") == NAMES and sharing.matching("zzz") == []


async def test_a_shared_start_opens_the_pack_and_is_counted_apart(tmp_path) -> None:
    clock = ManualClock(AFTER)
    storage = await open_storage(tmp_path / "bot.db")
    try:
        engine = Engine(PACKS, storage, clock)
        outcome = await engine.handle(UserKey("telegram", "1"), Start("s-chatgpt"), locale="de")
        assert lang("de")._(texts.ONLY_IN_ENGLISH) in outcome.replies[0].text
        chatgpt = next(g for g in PACKS if g.pack == "chatgpt")
        first = chatgpt.node(chatgpt.start).blocks[0].text[:30]
        assert any(first in r.text for r in outcome.replies)
        unknown = await engine.handle(UserKey("telegram", "2"), Start("s-nothing"))
        assert unknown.replies[0].text == texts.UNKNOWN_ENTRY  # the default guide, with a word on the link
        day = clock.now().date()
        funnel = await storage.funnel(day, day)
        assert funnel[("telegram", "chatgpt/shared_start")] == 1 and funnel[("telegram", "chatgpt/started")] == 1
        assert not any(c.endswith("shared_start") and c != "chatgpt/shared_start" for _, c in funnel)
    finally:
        await storage.close()


async def test_where_a_platform_cannot_share_a_press_gives_the_sentence_to_pass_on(tmp_path) -> None:
    storage = await open_storage(tmp_path / "bot.db")
    try:
        engine = Engine(PACKS, storage, ManualClock(AFTER))
        key = UserKey("console", "local")
        shown = await engine.handle(key, Start("s-gemini"))
        await engine.handle(key, Start())
        steps = await engine.handle(key, Start("steps"))
        button = next(b for r in steps.replies for row in r.buttons for b in row if b.share)
        assert button.share == "claude" and button.label == share.SHARE
        copy = await engine.handle(key, Press(button.data))
        assert copy.replies[0].text == (
            "Copy this and send it to a friend (nothing is posted for you):\n\n"
            "Worth a minute: in Claude, check the “Help improve Claude” setting; this guide shows you where it"
            " is and how to switch it off.")
        assert copy.replies[0].buttons[0][0].label == texts.CONTINUE_WHERE
        gemini = next(g for g in PACKS if g.pack == "gemini")
        assert gemini.node(gemini.start).blocks[0].text[:30] in shown.replies[0].text  # the shared link's guide
    finally:
        await storage.close()

