"""What each pack tells a person and which buttons it offers, walked through the engine (issue 20, defects 4-13).

Every test presses buttons by their labels through ``Engine.handle`` (the public API: events in, reply
text and buttons out), with real SQLite storage and a manual clock, and asserts on what the person sees.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest

from bot.clock import ManualClock
from bot.content_check import pack_files
from bot.engine import Engine
from bot.events import Outcome, Press, Start, UserKey
from bot.guide import DEFAULT_CONTENT_PATH, load_guide
from bot.storage import open_storage

CONTENT = DEFAULT_CONTENT_PATH.parent
PACKS = {p.stem: load_guide(p) for p in pack_files(CONTENT)}
ENGINE_PACKS = [PACKS["claude"], *(g for name, g in PACKS.items() if name != "claude")]
TODAY = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
BEFORE = datetime(2025, 9, 20, 12, 0, tzinfo=UTC)
# Packs whose work answer sends people on to the personal steps (defect 10).
WORK_PACKS = ["chatgpt", "gemini", "microsoft-copilot", "github-copilot", "le-chat", "perplexity"]
# A label each pack's personal steps show, as the sheet quotes it.
STEP_LABEL = {
    "chatgpt": "Improve the model for everyone", "gemini": "Keep Activity",
    "microsoft-copilot": "Model training on text", "github-copilot": "Allow GitHub to use my data for AI model training",
    "le-chat": "Enable data sharing", "perplexity": "AI data retention",
}


@pytest.fixture
async def engine(tmp_path):
    storage = await open_storage(tmp_path / "answers.db")
    clock = ManualClock(TODAY)
    yield Engine(ENGINE_PACKS, storage, clock), clock
    await storage.close()


def labels(outcome: Outcome) -> list[str]:
    return [b.label for r in outcome.replies for row in r.buttons for b in row]


def shown(outcome: Outcome) -> str:
    return "\n\n".join(r.text for r in outcome.replies)


async def walk(engine: Engine, who: str, entry: str | None, *presses: str) -> Outcome:
    """Open ``entry`` (a pack or a guide entry) as person ``who``, then press buttons by their labels."""
    outcome = await engine.handle(UserKey("telegram", who), Start(entry))
    for label in presses:
        outcome = await press(engine, who, outcome, label)
    return outcome


async def press(engine: Engine, who: str, outcome: Outcome, label: str) -> Outcome:
    data = [b.data for r in outcome.replies for row in r.buttons for b in row if b.label == label]
    assert data, f"no button {label!r}; the person sees {labels(outcome)}"
    return await engine.handle(UserKey("telegram", who), Press(data[0]))


# Defect 4 and 5: Meta AI -------------------------------------------------------------------------------
async def test_meta_ai_in_europe_says_no_form_was_found_and_offers_no_claimed_action(engine) -> None:
    engine, _ = engine
    result = await walk(engine, "eu", "meta-ai", "🇪🇺 In the EU or the UK")
    text = shown(result)
    assert "**We found no form, link or steps to object with:** no Meta page was read." in text
    assert "Here is what is known, second-hand." in text
    assert "You can object" not in text
    assert not [label for label in labels(result) if label.startswith("✅") or "objected" in label]
    details = await press(engine, "eu", result, "📖 More details")
    assert not [label for label in labels(details) if label.startswith("✅") or "objected" in label]
    assert "I've noted that the setting is off" not in shown(details)


async def test_meta_ai_hedges_what_the_forum_quote_and_the_press_say(engine) -> None:
    engine, _ = engine
    europe = shown(await walk(engine, "eu2", "meta-ai", "🇪🇺 In the EU or the UK"))
    assert "According to a Meta email quoted on a forum" in europe  # MA1 is (secondary)
    assert "According to an email from Meta" not in europe
    assert "Whether an objection also covers your chats with Meta AI is unconfirmed." in europe
    us = shown(await walk(engine, "us", "meta-ai", "🇺🇸 In the US"))
    assert "There is no switch in the US" not in us
    assert "Meta reportedly did not offer American users a similar choice" in us
    assert "What reportedly exists is a form" in us


# Defect 6: freshness ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("pack", "press", "steps_on_vendor"), [
    ("grok", "📋 Show me the steps", False),
    ("meta-ai", "🇪🇺 In the EU or the UK", False),
    ("microsoft-copilot", "🙋 Signed in with my own account", False),
    ("linkedin", "🌍 Somewhere else", False),
    ("chatgpt", "🙋 My own account", True),
    ("perplexity", "🙋 Free, Pro or Max", True),
])
async def test_a_result_dates_its_steps_only_as_firmly_as_their_sources(engine, pack, press, steps_on_vendor) -> None:
    engine, _ = engine
    text = shown(await walk(engine, f"fresh-{pack}", pack, press))
    assert ("Steps checked 30 November 2026" in text) == steps_on_vendor
    assert ("Last reviewed 30 November 2026, from press reports" in text) != steps_on_vendor


async def test_grok_steps_give_only_the_reported_labels(engine) -> None:
    engine, _ = engine
    text = shown(await walk(engine, "grok", "grok", "📋 Show me the steps"))
    assert "**Privacy and safety** > **Grok**" in text and "(labels as reported in 2024)" in text
    assert "**Settings**" not in text and "Untick" not in text


# Defect 7: Gemini -----------------------------------------------------------------------------------------
async def test_gemini_hedges_the_second_hand_notice_and_names_both_labels(engine) -> None:
    engine, _ = engine
    start = shown(await walk(engine, "ge0", "gemini"))
    assert "according to a copy of an older Google notice (we did not see it on a Google page)" in start
    text = shown(await walk(engine, "ge", "gemini", "🙋 My own Google account"))
    assert "according to the older Google notice, turning it off" not in text
    assert "**Future chats only, reportedly:** according to the copy of the older Google notice" in text
    assert "the setting may read **Keep Activity** or **Gemini Apps Activity**" in text


# Defect 8: ChatGPT signed out ------------------------------------------------------------------------------
async def test_chatgpt_tells_signed_out_users_nothing_about_their_history(engine) -> None:
    engine, _ = engine
    out = shown(await walk(engine, "cg-out", "chatgpt", "👤 Without signing in"))
    assert "history" not in out
    mine = shown(await walk(engine, "cg-in", "chatgpt", "🙋 My own account"))
    assert "Your chats stay in your history but won't be used to train ChatGPT." in mine
    for text in (out, mine):  # CG5 comes from an older version of the page, and says so
        assert "an older version of OpenAI's help page says the opt-out applies" in text
        assert "It isn't\nretroactive" not in text and "**It isn't retroactive:** the opt-out" not in text


# Defect 9: GitHub's plan names, Microsoft's cut-off list ----------------------------------------------------
async def test_github_copilot_does_not_state_the_unresolved_plan_names_as_fact(engine) -> None:
    engine, _ = engine
    start = await walk(engine, "gh", "github-copilot")
    text = shown(start)
    assert "with a **Free, Pro, Pro+\nor Max** plan" not in text and "with a **Free, Pro, Pro+ or Max** plan" not in text
    assert "which appear to stand for Free, Pro, Pro+ and Max; we could not confirm the exact list" in text
    assert "🙋 A personal plan (Free, Pro…)" in labels(start)


async def test_microsoft_copilot_does_not_say_the_faq_covers_training(engine) -> None:
    engine, _ = engine
    text = shown(await walk(engine, "mc", "microsoft-copilot"))
    assert "you control whether your conversations can be used" not in text
    assert "you control some uses of your conversations (the copy we read breaks off before naming them)" in text


# Defect 10: the work answers ---------------------------------------------------------------------------------
@pytest.mark.parametrize("pack", WORK_PACKS)
async def test_a_work_answer_points_at_a_button_that_shows_the_steps(engine, pack: str) -> None:
    engine, _ = engine
    guide = PACKS[pack]
    work = next(o.label for o in guide.node(guide.start).options if o.next == "work_result")
    answer = await walk(engine, f"work-{pack}", pack, work)
    text = shown(answer)
    assert "here are the steps" not in text
    named = re.search(r"tap \*\*(.+?)\*\* for its steps", text)
    assert named and named.group(1) in labels(answer), (text, labels(answer))
    steps = await press(engine, f"work-{pack}", answer, named.group(1))
    assert STEP_LABEL[pack] in shown(steps)


# Defect 11: Le Chat ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("plan", ["🙋 Free", "⭐ Pro"])
async def test_le_chat_leads_free_and_pro_users_with_the_app_and_says_the_web_path_is_an_admins(engine, plan) -> None:
    engine, _ = engine
    text = shown(await walk(engine, f"mi-{plan}", "le-chat", plan))
    assert text.index("**iOS or Android app:**") < text.index("**Admin Console**")
    assert "Mistral's help page gives only an admin's path" in text
    assert "We found no web path for a Free or Pro account: if you can't open the Admin Console, use the app." in text


# Defect 12: sources -----------------------------------------------------------------------------------------------
SHEET = (CONTENT / "facts-assistants.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("pack", sorted(PACKS))
def test_every_source_is_an_article_address(pack: str) -> None:
    for source in PACKS[pack].sources:
        parts = urlsplit(source.url)
        assert parts.path.strip("/") or parts.query, f"{pack}: {source.id} points at a site's root: {source.url}"
        assert source.kind in ("vendor", "press"), f"{pack}: {source.id}"


@pytest.mark.parametrize("pack", sorted(set(PACKS) - {"claude"}))
def test_press_sources_give_the_address_the_sheet_gives(pack: str) -> None:
    # BGR's article is named by the sheet only as "BGR 2025-08-13", without an address.
    for source in PACKS[pack].sources:
        if source.kind == "press" and source.id != "bgr":
            address = source.url.split("://", 1)[1]
            assert address in SHEET, f"{pack}: {source.id}: {source.url} is not the address in the fact sheet"


def test_perplexity_points_at_perplexitys_own_article_not_a_mirrors_root() -> None:
    help_page = next(s for s in PACKS["perplexity"].sources if s.id == "px-help")
    assert help_page.url == "https://www.perplexity.ai/help-center/en/articles/11564572-data-collection-at-perplexity"
    assert "read through a mirror" in help_page.title


# Defect 13: Claude ------------------------------------------------------------------------------------------------
CLAUDE_ACCEPTED = ("🙋 Personal: Free, Pro or Max", "Yes", "I pressed Accept, didn't touch the switch")


async def test_someone_who_pressed_accept_is_not_given_the_deadline(engine) -> None:
    engine, clock = engine
    await clock.set(BEFORE)
    for resumed in ("Yes", "No"):
        text = shown(await walk(engine, f"acc-{resumed}", "decide", *CLAUDE_ACCEPTED, resumed, "No"))
        assert "Don't wait for" not in text and "8 October" not in text, text
        assert "Your setting is **probably on**" in text


async def test_the_one_screen_result_mentions_claude_code_and_continued_chats_when_the_person_uses_them(engine) -> None:
    engine, _ = engine
    both = shown(await walk(engine, "code-res", "decide", *CLAUDE_ACCEPTED, "Yes", "No"))
    assert "**How to switch it off** (Claude Code follows it too)" in both
    assert "Old chats you continued count as new ones: switching off keeps them out of future training runs" in both
    neither = shown(await walk(engine, "nocode", "decide", "🙋 Personal: Free, Pro or Max", "No",
                               "I pressed Accept, didn't touch the switch", "No", "No"))
    assert "Claude Code follows it too" not in neither and "Old chats you continued" not in neither


async def test_what_changed_includes_the_before_state_and_the_required_choice(engine) -> None:
    engine, clock = engine
    now = shown(await walk(engine, "changed", "changed"))
    assert "Before the change, consumer chats were deleted within 30 days in most cases." in now  # F11
    assert "Since 8 October 2025 you need to make your selection on this setting to keep using Claude." in now  # F4
    await clock.set(BEFORE)
    then = shown(await walk(engine, "changed-then", "changed"))
    assert "After 8 October 2025 you'll need to make your selection on this setting to keep using Claude." in then
