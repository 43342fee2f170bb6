"""What a Telegram user sees around the guide: commands, odd input, old buttons, groups, erasing data."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
import pytest_asyncio

from adapters.telegram.handlers import HINTS
from bot import texts
from bot.reminders.texts import CHECK_BACK_OFFERS
from tests.fakes.telegram_api import FakeBotAPI, FakeMessage, FakeUser
from tests.telegram.conftest import MINI_GUIDE, BotProcess, bot_env

pytestmark = pytest.mark.asyncio(loop_scope="module")

HOME = "Hi! What would you like to do?\n\nThe deadline passed on 8 October 2025."
PLAN = "Which plan do you use?"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(fake: FakeBotAPI, tmp_path_factory: pytest.TempPathFactory):
    workdir = tmp_path_factory.mktemp("conversation")
    process = BotProcess(fake, workdir, bot_env(fake, workdir, MINI_GUIDE))  # rate limits on, as deployed
    await process.start()
    yield process
    assert await process.stop() == 0, process.output[-3000:]


def after(chosen: str, text: str) -> str:
    """A step as shown after pressing ``chosen``: the chosen answer on top, then the step."""
    return f"✅ {chosen}\n\n{text}"


async def at_plan(user: FakeUser) -> FakeMessage:
    """Open the guide and choose "Help me decide"; return the plan question."""
    await user.send("/start")
    home = await user.pop_message()
    assert home.text == HOME
    plan = await user.tap("Help me decide")
    assert plan is home  # the question became the next one, in place
    assert plan.text == after("Help me decide", PLAN)
    return plan


def rows_mentioning(db: Path, needle: str) -> list[tuple[str, tuple[object, ...]]]:
    """Every row of every table in which some value contains ``needle``."""
    with sqlite3.connect(db) as conn:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        found = []
        for table in tables:
            for row in conn.execute(f'SELECT * FROM "{table}"'):
                if any(needle in str(value) for value in row):
                    found.append((table, row))
    return found


async def test_command_menu_is_set_at_start_up_in_every_language(fake: FakeBotAPI, bot: BotProcess) -> None:
    names = ["start", "steps", "remind", "stop", "forget", "language", "sources", "privacy", "help"]
    assert [c["command"] for c in fake.commands] == names
    assert sorted(fake.commands_by_language) == ["", "de", "es", "fr", "pt"]
    for menu in fake.commands_by_language.values():
        assert [c["command"] for c in menu] == names
    german = {c["command"]: c["description"] for c in fake.commands_by_language["de"]}
    assert german["steps"] == "Nur die Schritte zeigen" and german["language"] == "Die Sprache des Bots wählen"
    assert fake.commands_by_language["pt"][0]["description"] == "Percorrer o guia desde o início"


async def test_the_users_app_language_is_kept_with_their_answers(fake: FakeBotAPI, bot: BotProcess) -> None:
    user = fake.user(7101, language_code="pt-br")
    await user.send("/start")
    await user.pop_message()
    with sqlite3.connect(bot.db_path) as db:
        stored = db.execute("SELECT locale FROM users WHERE platform = 'telegram' AND user_id = ?",
                            (str(user.id),)).fetchall()
    assert stored == [("pt-br",)]


async def test_a_walk_is_one_message_that_each_press_moves_on(fake: FakeBotAPI, bot: BotProcess) -> None:
    user = fake.user(3_000_011)
    await user.send("/start")
    guide = await user.pop_message()
    result = "1. Open Settings\n2. Turn off Help improve Claude\n\nClaude Code follows the same setting."
    for label, shown in (("Help me decide", PLAN), ("Pro", "Do you use Claude Code?"), ("Yes", result)):
        assert await user.tap(label) is guide
        assert guide.text == after(label, shown)
    assert guide.labels == ["I've turned it off", "Remind me", texts.SOURCES, texts.FOLLOW_CHANGES, texts.BACK,
                            texts.START_OVER]
    done = "I've turned it off"
    thanks_text = f"{texts.THANKS_OFF}\n\n{texts.CHECK_BACK_ASK}".replace("**", "")
    thanks = await user.tap(done)
    assert thanks is guide and thanks.text == after(done, thanks_text)
    # What the user sees: their /start, and one message holding where they are, with their last answer
    # (and, having confirmed, the check-backs on offer).
    offers = "".join(f"\n  [{label}]" for _, label in CHECK_BACK_OFFERS)
    assert user.chat == ["> /start", f"{after(done, thanks_text)}{offers}\n  [{texts.START_OVER}]"]
    # Five updates, five calls that count against Telegram's flood limit: one per step. (Answering
    # the button press carries no chat and is not limited.)
    assert fake.rate_limited_calls(user.id) == ["sendMessage"] + ["editMessageText"] * 4
    assert all(q.answers == 1 for q in fake.queries.values() if q.user_id == user.id)


async def test_text_is_escaped_for_html_and_shown_as_written(fake: FakeBotAPI, bot: BotProcess) -> None:
    user = fake.user(3_000_001)
    await user.send("/start steps")
    steps = await user.pop_message()
    # The guide says "<& more>": Telegram accepted the message and the user reads exactly that.
    assert steps.text == "1. Open Settings <& more>\n2. Turn it off"
    assert steps.html == "1. Open <b>Settings</b> &lt;&amp; more&gt;\n2. Turn it off"


async def test_sources_are_links(fake: FakeBotAPI, bot: BotProcess) -> None:
    user = fake.user(3_000_002)
    await user.send("/sources")
    sources = await user.pop_message()
    # Each source with its address shown, as a link.
    address = "https://www.anthropic.com/news/updates-to-our-consumer-terms"
    assert f"Updates to Consumer Terms: {address}" in sources.text
    assert sources.links == [(address, address)]
    assert sources.labels == [texts.CONTINUE_WHERE]
    home = await user.tap(texts.CONTINUE_WHERE)
    assert home is sources and home.text == HOME  # the sources made way for the step, in place
    assert user.pending() == []


@pytest.mark.parametrize(
    ("user_id", "command", "expected"),
    [
        (3_100_001, "/help", "What I can do"),
        (3_100_002, "/privacy", "What I keep about you"),
        (3_100_003, "/remind", texts.REMIND_ASK),
        (3_100_004, "/stop", texts.NO_REMINDERS_TO_STOP),
        (3_100_005, "/HELP@optout_test_bot", "What I can do"),
    ],
)
async def test_commands_answer(fake: FakeBotAPI, bot: BotProcess, user_id: int, command: str, expected: str) -> None:
    user = fake.user(user_id)
    await user.send(command)
    reply = await user.pop_message()
    assert reply.text.startswith(expected)


async def test_steps_command_opens_the_steps(fake: FakeBotAPI, bot: BotProcess) -> None:
    user = fake.user(3_000_003)
    await at_plan(user)
    await user.send("/steps")
    steps = await user.pop_message()
    assert steps.text.startswith("1. Open Settings")
    assert texts.START_OVER in steps.labels


@pytest.mark.parametrize(
    ("user_id", "kind"), [(3_200_001, "text"), (3_200_002, "sticker"), (3_200_003, "photo"), (3_200_004, "huge"),
                          (3_200_005, "unknown command")],
)
async def test_odd_input_gets_a_short_answer_and_the_current_step(
    fake: FakeBotAPI, bot: BotProcess, user_id: int, kind: str
) -> None:
    user = fake.user(user_id)
    plan = await at_plan(user)
    secret = "my-private-words-3200"
    if kind == "text":
        await user.send(f"hello, {secret}")
    elif kind == "sticker":
        await user.send_sticker()
    elif kind == "photo":
        await user.send_photo()
    elif kind == "huge":
        await user.send(secret + "x" * 10_000)
    else:
        await user.send("/teleport now")
    notice, step = await user.pop_messages(2)
    expected = texts.unknown_command(HINTS) if kind == "unknown command" else texts.USE_BUTTONS
    assert notice.text == expected
    assert step.text == PLAN and step.labels == plan.labels
    # Nothing moved: the plan question still works.
    assert (await user.tap("Pro")).text == after("Pro", "Do you use Claude Code?")
    assert rows_mentioning(bot.db_path, secret) == []
    assert secret not in bot.output


async def test_a_button_from_an_old_message_changes_nothing(fake: FakeBotAPI, bot: BotProcess) -> None:
    user = fake.user(3_000_004)
    await user.send("/start")
    home = await user.pop_message()
    old_data = home.button("Just show me the steps")["callback_data"]
    await user.tap("Help me decide")
    query = await user.press_data(home, old_data)  # a second tap that was on its way, say
    assert query.answer_text is not None and query.answer_text.startswith("That button belongs to an earlier step")
    notice, step = await user.pop_messages(2)
    assert notice.text == texts.STALE_BUTTON
    assert step.text == PLAN
    assert home.text == after("Help me decide", PLAN)  # the pressed message is left as it was
    assert (await user.tap("Free")).text == after("Free", "Do you use Claude Code?")


@pytest.mark.parametrize("data", ["zzz", "o:abc:free", "o:999999:free", "f:yes", "x:explode", "é" * 32])
async def test_forged_buttons_get_a_short_answer(fake: FakeBotAPI, bot: BotProcess, data: str) -> None:
    user = fake.user(3_300_000 + len(fake.users))
    plan = await at_plan(user)
    query = await user.press_data(plan, data)
    assert query.answer_text  # a toast, so the client stops spinning with an explanation
    notice, step = await user.pop_messages(2)
    assert notice.text in (texts.BAD_BUTTON, texts.STALE_BUTTON)
    assert step.text == PLAN


async def test_a_users_quick_messages_are_answered_in_order(fake: FakeBotAPI, bot: BotProcess) -> None:
    user = fake.user(3_000_009)
    for command in ("/help", "/privacy", "/sources", "/help", "/privacy", "/sources"):
        await user.send(command)  # all queued before the bot fetches them: one batch, handled concurrently
    replies = await user.pop_messages(6)
    assert [r.text.split("\n")[0] for r in replies] == [
        "What I can do", "What I keep about you", "Where this guide's facts come from:",
    ] * 2


async def test_a_failed_answer_to_a_press_does_not_lose_the_step(fake: FakeBotAPI, bot: BotProcess) -> None:
    user = fake.user(3_000_010)
    await user.send("/start")
    home = await user.pop_message()
    fake.fail_next("answerCallbackQuery", 500, "Internal Server Error")
    await user.press("Help me decide", wait=False)
    await fake.wait_for(lambda: home.edits, what="the next step", chat=user.id)
    assert home.text == after("Help me decide", PLAN)


async def test_every_press_is_answered_once(fake: FakeBotAPI, bot: BotProcess) -> None:
    # Its own presses of every kind (run alone, the module's other tests have pressed nothing): one
    # that moves on, one on a button already used, one with data no button of the bot carries.
    user = fake.user(3_000_013)
    plan = await at_plan(user)
    for data in ("o:2:free", "o:1:decide", "not-a-button"):
        await user.press_data(plan, data)
    await user.send("/help")  # answered after the presses: an answer sent twice would have landed by now
    await fake.wait_for(lambda: any(m.text.startswith("What I can do") for m in user.bot_messages),
                        what="the help", chat=user.id)
    mine = [q for q in fake.queries.values() if q.user_id == user.id]
    assert len(mine) == 4 and [q.answers for q in mine] == [1, 1, 1, 1]
    # And every press of the module's other tests (but the one whose answer the fake failed on purpose).
    assert [q for q in fake.queries.values() if q.answers != 1 and q.user_id != 3_000_010] == []


async def test_group_start_offers_a_private_chat(fake: FakeBotAPI, bot: BotProcess) -> None:
    user = fake.user(3_000_005)
    group = fake.group(-100_3000)
    await user.send("/start steps", chat=group)
    await user.send("/start@optout_test_bot", chat=group)
    await user.send("/start@some_other_bot", chat=group)
    await user.send("hello everyone", chat=group)
    replies = await fake.wait_for(lambda: len(fake.sent_to(group["id"])) >= 2 and fake.sent_to(group["id"]))
    deep, plain = replies
    assert deep.buttons == [{"text": "Open a private chat", "url": "https://t.me/optout_test_bot?start=steps"}]
    assert plain.buttons == [{"text": "Open a private chat", "url": "https://t.me/optout_test_bot"}]
    # Nothing else is answered in the group, and the conversation did not start anywhere.
    await user.send("/help")  # a marker: once this is answered in private, the group updates are done
    await user.pop_message()
    assert len(fake.sent_to(group["id"])) == 2
    assert [m.text for m in user.bot_messages] == [user.bot_messages[0].text]


async def test_a_group_is_answered_in_the_senders_language(fake: FakeBotAPI, bot: BotProcess) -> None:
    user = fake.user(3_005_001, language_code="de")
    group = fake.group(-100_3001)
    await user.send("/start", chat=group)
    [reply] = await fake.wait_for(lambda: fake.sent_to(group["id"]))
    assert reply.text == (
        "Ich führe dich in einem privaten Chat durch alles, damit deine Antworten zwischen uns bleiben. "
        "Tippe auf den Button, um ihn zu öffnen.")
    assert reply.buttons == [{"text": "Privaten Chat öffnen", "url": "https://t.me/optout_test_bot"}]


async def test_forget_erases_everything_about_the_user(fake: FakeBotAPI, bot: BotProcess) -> None:
    user = fake.user(3_987_654)
    await at_plan(user)
    await user.tap("Team")
    assert rows_mentioning(bot.db_path, str(user.id))  # the test can see the user's row before
    await user.send("/forget")
    ask = await user.pop_message()
    assert ask.text == texts.FORGET_ASK
    assert (await user.tap(texts.FORGET_NO)).text == texts.FORGET_KEPT
    assert rows_mentioning(bot.db_path, str(user.id))
    await user.send("/forget")
    await user.pop_message()
    assert (await user.tap(texts.FORGET_YES)).text == texts.FORGOTTEN
    assert rows_mentioning(bot.db_path, str(user.id)) == []
    # Writing again starts from scratch.
    await user.send("/start")
    assert (await user.pop_message()).text == HOME


async def test_flood_limit_answers_are_waited_out(fake: FakeBotAPI, bot: BotProcess) -> None:
    user = fake.user(3_000_006)
    fake.fail_next("sendMessage", 429, retry_after=1, chat_id=user.id)
    started = time.monotonic()
    await user.send("/start")
    assert (await user.pop_message()).text == HOME
    assert time.monotonic() - started >= 1.0  # retried after retry_after, not before
    assert ("sendMessage", 429, "Too Many Requests: retry after 1") in fake.errors


async def test_a_flood_limit_on_a_step_is_waited_out_and_the_step_shown_once(fake: FakeBotAPI, bot: BotProcess) -> None:
    user = fake.user(3_000_012)
    await user.send("/start")
    home = await user.pop_message()
    fake.fail_next("editMessageText", 429, retry_after=1, chat_id=user.id)
    started = time.monotonic()
    assert await user.tap("Help me decide") is home
    assert time.monotonic() - started >= 1.0
    assert home.text == after("Help me decide", PLAN) and home.edits == 1
    assert user.pending() == []


async def test_network_errors_are_retried(fake: FakeBotAPI, bot: BotProcess) -> None:
    user = fake.user(3_000_007)
    fake.drop_next("sendMessage", times=2, chat_id=user.id)
    await user.send("/start")
    assert (await user.pop_message()).text == HOME
    assert user.pending() == []  # one message, not duplicates


async def test_a_user_who_blocked_the_bot_has_reminders_turned_off(fake: FakeBotAPI, bot: BotProcess) -> None:
    user = fake.user(3_000_008)
    await user.send("/remind")
    offers = await user.pop_message()
    assert offers.text == texts.REMIND_ASK
    assert texts.STOP_REMINDERS in (await user.tap(offers.labels[0])).labels
    assert rows_mentioning(bot.db_path, str(user.id))
    blocked_lines = lambda: bot.output.count("a user has blocked the bot")  # noqa: E731
    before = blocked_lines()
    await user.block()
    await bot.wait_output("the block to be noticed", lambda: blocked_lines() > before)
    await bot.wait_output("reminders to be turned off", lambda: "their reminders are off" in bot.output)
    # A message racing the block gets a reply that bounces with 403: noticed too, once.
    await user.send("/help")
    await bot.wait_output("the 403 to be noticed", lambda: blocked_lines() >= before + 2)
    assert ("sendMessage", 403, "Forbidden: bot was blocked by the user") in fake.errors
    await user.send("/privacy")
    await bot.wait_output("the second 403", lambda: blocked_lines() >= before + 3)
    assert blocked_lines() == before + 3
    assert str(user.id) not in bot.output  # user ids appear at DEBUG only
