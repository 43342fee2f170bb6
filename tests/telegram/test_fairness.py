"""One person flooding the bot (200 texts, 200 presses) does not keep others from being answered.

`optout-bot run` against a fake Bot API that enforces Telegram's 30 messages a second. Right after each
burst, 40 people send /start, one every 0.1 s from 0.3 s on; each must get the guide's first question.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio

from adapters.telegram.fairness import BUSY, NOTICE_EVERY, WAITING
from adapters.telegram.rate_limits import CHAT_BURST, CHAT_RATE
from bot.guide import load_guide
from tests.fakes.telegram_api import FakeBotAPI
from tests.ops.helpers import free_port
from tests.telegram.conftest import MINI_GUIDE, BotProcess, bot_env

pytestmark = pytest.mark.asyncio(loop_scope="module")

BURST = 200
BYSTANDERS = 40
SECRET_TEXT = "my-private-words"  # what the spammer types; it must reach no log line


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI(flood_limit=30) as api:  # Telegram's limit for the bot as a whole
        yield api


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(fake: FakeBotAPI, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BotProcess]:
    workdir = tmp_path_factory.mktemp("fairness")
    process = BotProcess(fake, workdir, bot_env(fake, workdir, MINI_GUIDE, HEALTH_PORT=str(free_port())))
    await process.start()
    yield process
    assert await process.stop() == 0, process.output[-3000:]


async def bystanders_answered(fake: FakeBotAPI, first_id: int) -> list[float]:
    """40 people send /start at 0.1 s intervals from 0.3 s on; return each one's wait for the first question."""
    users = [fake.user(first_id + i) for i in range(BYSTANDERS)]
    sent: dict[int, float] = {}
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.3
    for i, user in enumerate(users):
        # Paced arrivals are the load under test (open loop), not a wait for an answer.
        await asyncio.sleep(max(0.0, start + i * 0.1 - loop.time()))
        sent[user.id] = time.monotonic()
        await user.send("/start")
    await fake.wait_for(lambda: all(u.bot_messages for u in users), 20.0, "every bystander's first question")
    first = {}
    for at, chat in fake.sent_at:
        first.setdefault(chat, at)
    guide = load_guide(MINI_GUIDE)
    question = guide.node(guide.start)
    for user in users:
        # The guide's first question, with its buttons: not a "one moment" or an error.
        got = user.bot_messages[0]
        assert got.labels[:len(question.options)] == [o.label for o in question.options], got.text
        assert question.blocks[0].text.replace("**", "")[:30] in got.text, got.text
    return [first[u.id] - sent[u.id] for u in users]


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def assert_about_one_a_second(fake: FakeBotAPI, chat_id: int) -> None:
    """Every stretch of the chat's messages fits the chat limit: a burst of CHAT_BURST, then CHAT_RATE a second."""
    times = [at for at, chat, _ in fake.limited if chat == chat_id]
    for i in range(len(times)):
        for j in range(i, len(times)):
            assert j - i + 1 <= CHAT_BURST + (times[j] - times[i]) * CHAT_RATE + 0.5, times


def only_429s_failed(fake: FakeBotAPI) -> None:
    assert [e for e in fake.errors if e[1] != 429] == []


async def metric(bot: BotProcess, name: str) -> float:
    port = bot.env["HEALTH_PORT"]
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/metrics") as response:
        page = await response.text()
    return sum(float(line.rsplit(" ", 1)[1]) for line in page.splitlines() if line.startswith(name))


async def test_a_burst_of_texts_leaves_everyone_else_answered(fake: FakeBotAPI, bot: BotProcess) -> None:
    spammer = fake.user(8_100_000)
    dropped_before = await metric(bot, 'optout_updates_dropped_total{instance="')
    started = time.monotonic()
    for i in range(BURST):
        await spammer.send(f"{SECRET_TEXT} {i}")
    waits = await bystanders_answered(fake, 8_100_001)
    assert p(waits, 0.99) < 1.0, sorted(waits)
    print(f"texts: bystanders p50 {p(waits, 0.5) * 1000:.0f} ms, p99 {p(waits, 0.99) * 1000:.0f} ms")

    # The spammer got answers to the few updates kept and "one moment" instead of the rest, at most
    # once per NOTICE_EVERY seconds, all within his chat's limit.
    await fake.wait_for(lambda: len(spammer.bot_messages) >= 2, 10.0, "the spammer's answers")
    notices = [m for m in spammer.bot_messages if m.text == BUSY]
    elapsed = time.monotonic() - started
    assert 1 <= len(notices) <= 1 + elapsed / NOTICE_EVERY
    assert len(spammer.bot_messages) - len(notices) <= 2 * (1 + WAITING)  # replies to at most 1 + WAITING texts
    assert_about_one_a_second(fake, spammer.id)
    only_429s_failed(fake)
    assert await metric(bot, 'optout_updates_dropped_total{instance="') - dropped_before >= BURST - 2 * (1 + WAITING)
    # One line about the drops (once a minute per person), never what was typed.
    assert bot.output.count("sends faster than they can be answered") == 1
    assert SECRET_TEXT not in bot.output
    assert bot.proc is not None and bot.proc.returncode is None


async def test_a_burst_of_presses_leaves_everyone_else_answered(fake: FakeBotAPI, bot: BotProcess) -> None:
    spammer = fake.user(8_200_000)
    await spammer.send("/start")
    home = await spammer.pop_message()
    data = home.buttons[0]["callback_data"]
    queries = [await spammer.press_data(home, data, wait=False) for _ in range(BURST)]
    waits = await bystanders_answered(fake, 8_200_001)
    assert p(waits, 0.99) < 1.0, sorted(waits)
    print(f"presses: bystanders p50 {p(waits, 0.5) * 1000:.0f} ms, p99 {p(waits, 0.99) * 1000:.0f} ms")

    # Every press answered exactly once (the spinner stops); the repeats as "one moment", not as steps.
    await fake.wait_for(lambda: all(q.answered for q in queries), 10.0, "every press answered")
    assert all(q.answers == 1 for q in queries)
    assert sum(q.answer_text == BUSY for q in queries) >= BURST - (1 + WAITING)
    assert 1 <= home.edits <= 2  # the pressed message moved on to the next step
    assert len(spammer.bot_messages) <= 1 + 2 * (1 + WAITING)
    assert_about_one_a_second(fake, spammer.id)
    only_429s_failed(fake)
    assert bot.proc is not None and bot.proc.returncode is None
