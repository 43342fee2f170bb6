"""One engine, several guide packs: which pack each event goes to, and answers kept apart per pack."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot import button_data, texts
from bot.clock import ManualClock
from bot.content_check import pack_files
from bot.engine import Engine
from bot.events import Command, Notice, Outcome, Press, Start, Text, UserKey
from bot.guide import DEFAULT_CONTENT_PATH, load_guide
from bot.storage.base import UserStore

CLAUDE = DEFAULT_CONTENT_PATH
PACKS = [load_guide(CLAUDE), *(load_guide(p) for p in pack_files(CLAUDE.parent) if p != CLAUDE)]
KEY = UserKey("telegram", "42")


@pytest.fixture
def engine(storage: UserStore, clock: ManualClock) -> Engine:
    return Engine(PACKS, storage, clock)


def labels(outcome: Outcome) -> list[str]:
    return [b.label for r in outcome.replies for row in r.buttons for b in row]


def button(outcome: Outcome, label: str) -> str:
    return next(b.data for r in outcome.replies for row in r.buttons for b in row if b.label == label)


async def test_the_default_pack_opens_with_other_assistants_listing_every_other_pack(engine: Engine) -> None:
    home = await engine.handle(KEY, Start())
    assert home.replies[-1].text.startswith("Hi! I help you check one setting in Claude")
    listing = await engine.handle(KEY, Press(button(home, "🧩 Other assistants")))
    # "Check all my assistants" first, then each other pack, then "Continue where I was".
    assert labels(listing)[:-1] == [texts.CHECK_ALL, *(g.name for g in PACKS[1:])]
    assert listing.replies[-1].text == texts.OTHER_ASSISTANTS
    opened = await engine.handle(KEY, Press(button(listing, "Gemini")))
    assert opened.replies[-1].text.startswith("I help you check one Gemini setting")
    # Every pack's buttons carry their pack, the default one's too.
    assert all(button_data.parse(b.data).pack == "gemini" for r in opened.replies for row in r.buttons for b in row)
    assert all(button_data.parse(b.data).pack == "claude" for r in home.replies for row in r.buttons for b in row)


async def test_unqualified_data_from_messages_sent_before_is_the_default_packs(engine: Engine) -> None:
    # Buttons sent before every pack's data was qualified ("o:1:steps") still work, in Claude's guide.
    await engine.handle(KEY, Start("chatgpt"))
    home = await engine.handle(KEY, Start())
    old = next(b.data for r in home.replies for row in r.buttons for b in row if b.label == "📋 Just show me the steps")
    pressed = await engine.handle(KEY, Press(old.removeprefix("claude/")))
    assert pressed.notice is None and "Help improve Claude" in pressed.replies[-1].text


@pytest.mark.parametrize("event", [Start("chatgpt"), Command("start", "chatgpt")])
async def test_a_deep_link_opens_a_pack_at_its_start(engine: Engine, event) -> None:
    shown = await engine.handle(KEY, event)
    assert shown.replies[-1].text.startswith("I help you check one ChatGPT setting")


async def test_answers_in_one_pack_never_show_in_another(engine: Engine, storage: UserStore) -> None:
    claude = await engine.handle(KEY, Start("decide"))
    await engine.handle(KEY, Press(button(claude, "🙋 Personal: Free, Pro or Max")))
    gpt = await engine.handle(KEY, Start("chatgpt"))
    gpt = await engine.handle(KEY, Press(button(gpt, "👤 Without signing in")))
    assert "Data Controls" not in gpt.replies[-1].text
    claude_state = await storage.get_user(KEY, "claude")
    gpt_state = await storage.get_user(KEY, "chatgpt")
    assert claude_state.answers == {"plan": "personal"} and claude_state.node == "code"
    assert gpt_state.answers == {"plan": "signedout"} and gpt_state.node == "result"
    # A fresh start in a third pack starts with no answers at all.
    li = await engine.handle(KEY, Start("linkedin"))
    li = await engine.handle(KEY, Press(button(li, "🌍 Somewhere else")))
    assert (await storage.get_user(KEY, "linkedin")).answers == {"region": "elsewhere"}
    assert "reportedly did not train on members' data from your region" not in li.replies[-1].text


async def test_commands_and_typing_go_to_the_pack_the_user_was_in(engine: Engine, clock: ManualClock) -> None:
    await engine.handle(KEY, Start())
    await clock.advance(timedelta(seconds=5))
    await engine.handle(KEY, Start("perplexity"))
    await clock.advance(timedelta(seconds=5))
    sources = await engine.handle(KEY, Command("sources"))
    assert "Perplexity FAQ" in sources.replies[-1].text and "Anthropic" not in sources.replies[-1].text
    again = await engine.handle(KEY, Text())
    assert again.replies[-1].text.startswith("I help you check one Perplexity setting")


async def test_a_button_of_an_unknown_or_other_pack_is_refused_clearly(engine: Engine) -> None:
    await engine.handle(KEY, Start("chatgpt"))
    for forged in ("nosuch/o:1:personal", "chatgpt/o:1:nosuch"):
        shown = await engine.handle(KEY, Press(forged))
        assert shown.replies[0] == Notice(texts.BAD_BUTTON), forged


async def test_each_pack_is_counted_in_its_own_funnel(engine: Engine, storage, clock: ManualClock) -> None:
    await engine.handle(KEY, Start())
    gpt = await engine.handle(KEY, Start("chatgpt"))
    gpt = await engine.handle(KEY, Press(button(gpt, "🙋 My own account")))
    await engine.handle(KEY, Press(button(gpt, "✅ I've turned it off")))
    day = clock.now().date()
    totals = await storage.funnel(day, day)
    # One scheme for every pack, the default one too.
    assert totals[("telegram", "claude/started")] == 1
    assert totals[("telegram", "chatgpt/started")] == 1
    assert totals[("telegram", "chatgpt/got_steps")] == 1
    assert totals[("telegram", "chatgpt/confirmed_off")] == 1
    assert ("telegram", "claude/got_steps") not in totals and ("telegram", "claude/confirmed_off") not in totals
    assert not any("/" not in counter for _, counter in totals)
