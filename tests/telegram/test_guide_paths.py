"""Users walk the guide on Telegram to every result, go Back and Start over (one bot, many users at once)."""

from __future__ import annotations

import asyncio
import os
from datetime import datetime

import pytest
import pytest_asyncio

from bot import share, texts
from bot.content_check import pack_files
from bot.guide import Guide, load_guide
from bot.reminders.texts import CHECK_BACK_OFFERS
from tests.content.test_pack_sources import LABELS, expected_in_steps
from tests.fakes.telegram_api import FakeBotAPI, FakeUser
from tests.telegram.conftest import FAKE_NOW, BotProcess, bot_env
from tests.telegram.guide_walk import (
    Path_,
    Step,
    all_paths,
    covering_paths,
    expected_labels,
    guide_under_test,
    next_node,
    record_of,
    visible_text,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

CONTENT, GUIDE = guide_under_test()
NOW = datetime.fromisoformat(FAKE_NOW)
# Every simple path of the shipped guide is ~2,000 walks of the same screens; by default the walks
# cover every button and every distinct result text. TELEGRAM_E2E_ALL_PATHS=1 walks them all.
PATHS = all_paths(GUIDE) if os.environ.get("TELEGRAM_E2E_ALL_PATHS") else covering_paths(GUIDE, NOW)
CONFIRM_LABELS = {
    o.label for n in GUIDE.nodes for o in getattr(n, "options", ()) if o.action == "confirm_off"
}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(fake: FakeBotAPI, tmp_path_factory: pytest.TempPathFactory):
    workdir = tmp_path_factory.mktemp("paths")
    # Rate limits off: hundreds of users press at once; the limiter has its own test.
    process = BotProcess(fake, workdir, bot_env(fake, workdir, CONTENT, TELEGRAM_RATE_LIMIT="false"))
    await process.start()
    yield process
    assert await process.stop() == 0, process.output[-3000:]


async def open_guide(user: FakeUser) -> None:
    await user.send("/start")
    step = await user.pop_message()
    assert step.text == visible_text(GUIDE, GUIDE.start, {}, NOW)
    assert step.labels == expected_labels(GUIDE, GUIDE.start, has_history=False)


async def walk(user: FakeUser, path: Path_) -> None:
    """Press through ``path`` checking every screen; end by confirming the setting is off."""
    await open_guide(user)
    screen = user.bot_messages[-1]
    answers: dict[str, str] = {}
    for depth, step in enumerate(path.steps):
        shown = await user.tap(step.label)
        answers.update(record_of(GUIDE, step))
        node = next_node(GUIDE, step)
        # The pressed message became the next step, the chosen answer on top of it.
        assert shown is screen
        assert shown.text == f"✅ {step.label}\n\n{visible_text(GUIDE, node, answers, NOW)}", (
            f"at {node} after {path.steps[: depth + 1]}")
        assert shown.labels == expected_labels(GUIDE, node, has_history=True, answers=answers)
    assert user.pending() == []
    # One message sent or edited per step (the /start, then each press): what Telegram's flood limit counts.
    assert len(user.fake.rate_limited_calls(user.id)) == 1 + len(path.steps)
    assert [q.answer_text for q in user.fake.queries.values() if q.user_id == user.id] == [None] * len(path.steps)
    confirm = next((label for label in screen.labels if label in CONFIRM_LABELS), None)
    if confirm is not None:
        thanks = await user.tap(confirm)
        assert thanks.text.startswith(f"✅ {confirm}\n\nThank you!")
        # After the deadlines, the thanks offers check-backs right away (never deadline reminders).
        assert thanks.labels == [label for _, label in CHECK_BACK_OFFERS] + [share.SHARE, texts.START_OVER]


async def test_every_result_is_reached_with_the_right_screens(fake: FakeBotAPI, bot: BotProcess) -> None:
    users = [fake.user(1_000_000 + i) for i in range(len(PATHS))]
    # Users at once: enough to load the bot, few enough that each step is answered within the waits.
    at_once = asyncio.Semaphore(100)

    async def walk_when_free(user: FakeUser, path: Path_) -> None:
        async with at_once:
            await walk(user, path)

    results = await asyncio.gather(*(walk_when_free(u, p) for u, p in zip(users, PATHS, strict=True)),
                                   return_exceptions=True)
    failures = [(p.steps, r) for p, r in zip(PATHS, results, strict=True) if isinstance(r, BaseException)]
    assert not failures, f"{len(failures)} of {len(PATHS)} walks failed; first: {failures[0]}"
    reached = {p.result for p in PATHS}
    assert reached == {n.id for n in GUIDE.nodes if n.kind == "result" and any(p.result == n.id for p in all_paths(GUIDE))}
    # Every button press was answered exactly once, and Telegram refused nothing.
    assert all(q.answers == 1 for q in fake.queries.values())
    assert fake.errors == []


async def test_back_returns_to_the_previous_question_with_answers_undone(fake: FakeBotAPI, bot: BotProcess) -> None:
    path = max(PATHS, key=lambda p: len(p.steps))
    user = fake.user(2_000_001)
    await open_guide(user)
    for step in path.steps[:2]:
        await user.tap(step.label)
    back_from = user.bot_messages[-1]
    shown = await user.tap(texts.BACK)
    first = path.steps[0]
    assert shown is back_from  # the same message steps back
    assert shown.text == visible_text(GUIDE, next_node(GUIDE, first), record_of(GUIDE, first), NOW)
    # Back one step from the second question: there is still history (the start), so Back remains.
    assert shown.labels == expected_labels(GUIDE, next_node(GUIDE, first), has_history=True,
                                           answers=record_of(GUIDE, first))
    home = await user.tap(texts.BACK)
    assert home.text == visible_text(GUIDE, GUIDE.start, {}, NOW)
    assert home.labels == expected_labels(GUIDE, GUIDE.start, has_history=False)
    # At the start there is nothing to go back to: a forged Back gets a short answer and the step again.
    step = home.buttons[0]["callback_data"].split(":")[1]  # the current step counter, from "o:STEP:OPTION"
    query = await user.press_data(home, f"b:{step}")
    assert query.answer_text is not None and "earlier step" in query.answer_text
    notice, again = await user.pop_messages(2)
    assert notice.text == texts.NOTHING_BACK
    assert again.text == home.text


async def test_start_over_forgets_the_answers_and_opens_the_start(fake: FakeBotAPI, bot: BotProcess) -> None:
    path = max(PATHS, key=lambda p: len(p.steps))
    user = fake.user(2_000_002)
    await open_guide(user)
    for step in path.steps:
        await user.tap(step.label)
    home = await user.tap(texts.START_OVER)
    assert home.text == visible_text(GUIDE, GUIDE.start, {}, NOW)
    assert home.labels == expected_labels(GUIDE, GUIDE.start, has_history=False)
    # The next walk shows what the new answers say, not the old ones.
    other = min((p for p in PATHS if p.result == path.result and p.answers != path.answers), key=lambda p: len(p.steps),
                default=path)
    answers: dict[str, str] = {}
    for step in other.steps:
        shown = await user.tap(step.label)
        answers.update(record_of(GUIDE, step))
    assert shown.text == f"✅ {other.steps[-1].label}\n\n{visible_text(GUIDE, other.result, answers, NOW)}"


async def test_deep_links_open_their_entry_point(fake: FakeBotAPI, bot: BotProcess) -> None:
    for i, (entry, node_id) in enumerate(sorted(GUIDE.entries.items())):
        user = fake.user(2_100_000 + i)
        await user.send(f"/start {entry}")
        shown = await user.pop_message()
        assert shown.text == visible_text(GUIDE, node_id, {}, NOW), entry
        assert texts.START_OVER in shown.labels
    user = fake.user(2_199_999)
    await user.send("/start no-such-entry")
    notice, home = await user.pop_messages(2)
    assert notice.text == texts.UNKNOWN_ENTRY
    assert home.text == visible_text(GUIDE, GUIDE.start, {}, NOW)


OTHER_PACKS = [load_guide(p) for p in pack_files(CONTENT.parent) if p != CONTENT]


async def walk_pack(user: FakeUser, guide: Guide, path: Path_) -> None:
    """Open a pack by its deep link (/start chatgpt) and press through ``path``, checking every screen."""
    await user.send(f"/start {guide.pack}")
    home = await user.pop_message()
    assert home.text == visible_text(guide, guide.start, {}, NOW)
    assert home.labels == expected_labels(guide, guide.start, has_history=False)
    answers: dict[str, str] = {}
    for step in path.steps:
        # Each press turns the message into the next step, the chosen answer on top.
        shown = await user.tap(step.label)
        assert shown is home
        answers.update(record_of(guide, step))
        node = next_node(guide, step)
        assert shown.text == f"✅ {step.label}\n\n{visible_text(guide, node, answers, NOW)}", f"{guide.pack}: at {node}"
        assert shown.labels == expected_labels(guide, node, has_history=True, answers=answers)
        if node == "result":
            for label in expected_in_steps(guide.pack, answers):
                assert label in shown.text, f"{guide.pack}: {label!r} not in the steps"
    more = next((o for o in getattr(guide.node(path.result), "options", ()) if o.next == "details"), None)
    if more is not None:
        details = await user.tap(more.label)
        assert details.text == f"✅ {more.label}\n\n{visible_text(guide, 'details', answers, NOW)}", guide.pack
        path = Path_((*path.steps, Step(path.result, more.label)), "details", answers)
    assert user.pending() == []
    confirm = next((o.label for o in getattr(guide.node(path.result), "options", ())
                    if o.action == "confirm_off" and o.when.allows(answers)), None)
    if confirm is not None:
        thanks = await user.tap(confirm)
        assert thanks.text.startswith(f"✅ {confirm}\n\nThank you!")
        # Every pack offers check-backs once it's off, not only Claude's.
        assert thanks.labels == [label for _, label in CHECK_BACK_OFFERS] + [share.SHARE, texts.START_OVER], guide.pack
        assert "Shall I check back with you" in thanks.text


async def test_every_other_pack_is_walked_from_its_deep_link(fake: FakeBotAPI, bot: BotProcess) -> None:
    assert {g.pack for g in OTHER_PACKS} == set(LABELS)
    jobs = [(guide, path) for guide in OTHER_PACKS for path in covering_paths(guide, NOW)]
    for guide in OTHER_PACKS:
        assert "result" in {p.result for p in covering_paths(guide, NOW)}, guide.pack
    results = await asyncio.gather(
        *(walk_pack(fake.user(3_000_000 + i), g, p) for i, (g, p) in enumerate(jobs)), return_exceptions=True
    )
    failures = [(g.pack, p.steps, r) for (g, p), r in zip(jobs, results, strict=True) if isinstance(r, BaseException)]
    assert not failures, f"{len(failures)} of {len(jobs)} walks failed; first: {failures[0]}"
    assert fake.errors == []


async def test_answers_in_one_pack_never_show_in_another(fake: FakeBotAPI, bot: BotProcess) -> None:
    user = fake.user(3_900_001)
    chatgpt = next(g for g in OTHER_PACKS if g.pack == "chatgpt")
    await user.send("/start chatgpt")
    await user.pop_message()
    label = "🏢 Team, Enterprise or Edu"
    work = await user.tap(label)
    assert work.text == f"✅ {label}\n\n{visible_text(chatgpt, 'work_result', {'plan': 'work'}, NOW)}"
    # The Claude guide, opened now, knows nothing of that answer, and its Back leads nowhere.
    await user.send("/start steps")
    claude = await user.pop_message()
    assert claude.text == visible_text(GUIDE, "result", {}, NOW)
    # Back in ChatGPT's pack, its own place is kept: the old button still answers there.
    edits = work.edits
    await user.press_data(work, next(b["callback_data"] for b in work.buttons if b["text"] == texts.BACK))
    await fake.wait_for(lambda: work.edits > edits, 10, chat=user.id, what="Back on the ChatGPT message")
    assert work.text == visible_text(chatgpt, chatgpt.start, {}, NOW)
