"""Every path through the shipped guide, enumerated from its graph, walked through the engine to a result."""

from __future__ import annotations

from bot import button_data, share, texts
from bot.clock import ManualClock
from bot.content_check import check_guide, guide_paths
from bot.engine import Engine
from bot.events import Edit, Notice, Press, Start, UserKey
from bot.guide import ResultNode, load_guide
from bot.storage import open_storage
from tests.conftest import AFTER
from tests.core.driver import EngineChat

SETTINGS_LINK = "https://claude.ai/settings/data-privacy-controls"


def test_no_node_of_the_shipped_guide_strands_a_user() -> None:
    # check_guide reports any reachable node from which no result can be reached (a dead end or a
    # cycle with no way out), so a path added without a result fails here.
    assert check_guide(load_guide()) == []


async def test_every_path_reaches_its_result_through_the_engine(tmp_path) -> None:
    guide = load_guide()
    paths = guide_paths(guide)
    assert len(paths) > 1000  # the enumeration really walks the graph
    storage = await open_storage(tmp_path / "paths.db")
    engine = Engine(guide, storage, ManualClock(AFTER))
    try:
        for number, path in enumerate(paths):
            key = UserKey("telegram", str(number))
            outcome = await engine.handle(key, Start())
            for node_id, option_id in path.presses:
                wanted = f":{option_id}" if option_id else ""
                data = next(
                    b.data
                    for r in outcome.replies
                    for row in r.buttons
                    for b in row
                    if button_data.parse(b.data).kind in ("o", "n") and b.data.endswith(wanted)
                )
                outcome = await engine.handle(key, Press(data))
                assert not isinstance(outcome.replies[0], Notice), f"path {number}: refused at {node_id}"
            state = await storage.get_user(key, guide.pack)
            assert state.node == path.result and isinstance(guide.node(state.node), ResultNode)
            assert state.answers == path.answers
            assert SETTINGS_LINK in outcome.replies[-1].text, f"path {number}: result without the steps"
    finally:
        await storage.close()


# What a user of the shipped guide sees at the points issue 10 changed -----------------------------

async def _chat(tmp_path, now=AFTER) -> tuple[EngineChat, object]:
    storage = await open_storage(tmp_path / "shipped.db")
    return EngineChat(Engine(load_guide(), storage, ManualClock(now))), storage


async def _answer(chat: EngineChat, *labels: str) -> None:
    await chat.start()
    for label in labels:
        await chat.press(label)


PERSONAL = "🙋 Personal: Free, Pro or Max"


async def test_someone_who_switched_it_off_is_asked_to_check_it_is_still_off(tmp_path) -> None:
    chat, storage = await _chat(tmp_path)
    try:
        await _answer(chat, "🧭 Help me decide", PERSONAL, "No", "I switched it off", "No")
        assert "**Check it's still off**" in chat.replies[-1].text
        assert "✅ It's still off" in chat.labels and "✅ I've turned it off" not in chat.labels
        # The hidden option cannot be pressed with forged data either.
        step = chat.button("✅ It's still off").data.split(":")[1]
        replies = await chat.push(Press(f"o:{step}:done"))
        assert replies[0] == Notice(texts.BAD_BUTTON)
        await chat.press("✅ It's still off")
        assert chat.replies[-1].text.startswith("**Thank you!**")
        state = await storage.get_user(chat.key, "claude")
        assert state.answers["turned_off"] == "yes"
    finally:
        await storage.close()


async def test_more_details_shows_the_rest_keeps_the_buttons_and_back_returns(tmp_path) -> None:
    chat, storage = await _chat(tmp_path)
    try:
        await _answer(chat, "🧭 Help me decide", PERSONAL, "Yes", "I pressed Accept, didn't touch the switch", "Yes",
                      "Yes, sometimes")
        steps = chat.replies[-1]
        replies = await chat.press("📖 More details")
        # The pressed message becomes the details' first part, under the answer chosen.
        assert isinstance(replies[0], Edit) and replies[0].chosen == "📖 More details"
        messages = replies
        # Claude Code and the advice come as messages of their own; the buttons are on the last one.
        assert len(messages) == 3 and all(not m.buttons for m in messages[:-1])
        assert messages[1].text.startswith("**About Claude Code**")
        assert messages[2].text.startswith("**Our advice** (an opinion, not a rule)")
        assert chat.labels == ["✅ I've turned it off", "🔎 I couldn't find it", "⏰ Remind me", texts.SOURCES,
                               share.SHARE, texts.BACK, texts.START_OVER]
        back = await chat.press(texts.BACK)
        assert back[-1].text == steps.text and "📖 More details" in chat.labels
        funnel = await storage.funnel(AFTER.date(), AFTER.date())
        assert funnel[("telegram", "claude/got_steps")] == 1  # details and Back do not count the person twice
    finally:
        await storage.close()


async def test_what_changed_leads_straight_to_the_steps_too(tmp_path) -> None:
    chat, storage = await _chat(tmp_path)
    try:
        await _answer(chat, "❓ What changed?")
        assert chat.labels[:2] == ["🧭 Help me decide", "📋 Just show me the steps"]
        await chat.press("📋 Just show me the steps")
        assert SETTINGS_LINK in chat.replies[-1].text
    finally:
        await storage.close()


async def test_not_sure_about_the_plan_offers_the_steps_anyway(tmp_path) -> None:
    chat, storage = await _chat(tmp_path)
    try:
        await _answer(chat, "🧭 Help me decide", "🤔 Not sure")
        assert "Ask me again" not in chat.labels
        assert chat.labels[:4] == [PERSONAL, "🏢 From work, school or government",
                                   "🔑 Only the API (also Bedrock, Vertex AI)", "📋 Show me the steps anyway"]
        await chat.press("📋 Show me the steps anyway")
        assert SETTINGS_LINK in chat.replies[-1].text
    finally:
        await storage.close()


async def test_a_team_user_not_sure_about_a_personal_account_is_asked_that_again(tmp_path) -> None:
    chat, storage = await _chat(tmp_path)
    try:
        await _answer(chat, "🧭 Help me decide", "🏢 From work, school or government", "Not sure")
        assert "**Do you have one like that?**" in chat.replies[-1].text
        assert chat.labels[:3] == ["Yes, I have one", "No", "Still not sure"]
        await chat.press("Yes, I have one")
        assert chat.replies[-1].text.startswith("**Do you use Claude Code with this account?**")
    finally:
        await storage.close()
