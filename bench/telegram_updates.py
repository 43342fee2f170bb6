"""Benchmark: Telegram updates handled per second, and reply latency, under many simulated users.

Runs the fake Bot API (tests/fakes/telegram_api.py) on loopback and, one after the other, two bots
walking guides of the same depth with the same Bot API calls per step:

- plain: a python-telegram-bot ConversationHandler with in-memory state (this file, --plain-bot);
- ours:  `optout-bot run`, which persists every step to SQLite before replying.

Each simulated user sends /start and presses one button per step, waiting for each reply like a
person would. Latency is from an update being queued at the fake to the bot's next message (or the
edit that turns the pressed message into the next step) arriving there. Rate limits are off in
both bots (bench/telegram_rush.py measures with them on). Usage:

    .venv/bin/python bench/telegram_updates.py [--users 200] [--depth 4] [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

SELF = Path(__file__).resolve()
ROOT = SELF.parent.parent
OPTOUT_BOT = Path(sys.executable).parent / "optout-bot"
sys.path.insert(0, str(ROOT))

from tests.fakes.telegram_api import FakeBotAPI, FakeMessage, FakeUser  # noqa: E402

TARGET_RATIO = 0.8
OPTIONS = ("Option A", "Option B", "Option C")
# The same HTTP settings as adapters/telegram/platform.py, so that only the bots' own work differs.
CONCURRENT_UPDATES = 32
CONNECTION_POOL = 16


def question_text(i: int) -> str:
    return f"<b>Question {i + 1}</b>: which of these fits you best? Pick one &amp; go on."


def guide_yaml(depth: int) -> str:
    """A guide of ``depth`` questions with three options each, then a result."""
    lines = ['version: "bench-1"', "title: Benchmark guide", "start: q0", "entries: {steps: result}", "nodes:"]
    for i in range(depth):
        nxt = f"q{i + 1}" if i + 1 < depth else "result"
        lines += [
            f"  - id: q{i}", "    kind: question", "    blocks:",
            f'      - {{id: b{i}, text: "**Question {i + 1}**: which of these fits you best? Pick one & go on."}}',
            "    options:",
        ]
        lines += [f"      - {{id: o{j}, label: \"{label}\", next: {nxt}, record: {{q{i}: o{j}}}}}" for j, label in enumerate(OPTIONS)]
    lines += [
        "  - id: result", "    kind: result", "    blocks:",
        '      - {id: done, text: "Here is what to do: open **Settings** and turn the switch off."}',
        "    options:",
        "      - {id: done, label: \"I've turned it off\", action: confirm_off}",
    ]
    return "\n".join(lines) + "\n"


RESULT_TEXT = "Here is what to do: open <b>Settings</b> and turn the switch off."


# The plain bot --------------------------------------------------------------------------------
def run_plain_bot(depth: int) -> None:
    """A plain PTB bot: ConversationHandler, state in memory, the same calls per step as ours.

    BENCH_RATE_LIMIT=1 gives it PTB's AIORateLimiter with the parameters optout-bot deploys.
    """
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
    from telegram.constants import ParseMode
    from telegram.ext import (
        AIORateLimiter,
        ApplicationBuilder,
        CallbackQueryHandler,
        CommandHandler,
        ContextTypes,
        ConversationHandler,
    )

    def keyboard(i: int) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=f"q{i}:{j}")] for j, label in enumerate(OPTIONS)])

    # ConversationHandler records the new state only when a callback returns. A user who answers
    # quickly can press before that, and with concurrent updates the press then matches no state and
    # is dropped; so the callbacks return at once and send from a task, as PTB suggests.
    async def ask(chat_id: int, i: int) -> None:
        await context_bot().send_message(chat_id, question_text(i), parse_mode=ParseMode.HTML, reply_markup=keyboard(i))

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        """Ask the first question."""
        context.application.create_task(ask(update.effective_chat.id, 0), update=update)
        return 0

    def step(i: int):
        async def show(update: Update, label: str) -> None:
            # As optout-bot does: the pressed message becomes the next step, the answer on top.
            query = update.callback_query
            if i + 1 < depth:
                text, markup = question_text(i + 1), keyboard(i + 1)
            else:
                text = RESULT_TEXT
                markup = InlineKeyboardMarkup([[InlineKeyboardButton("I've turned it off", callback_data="done")]])
            await asyncio.gather(
                query.answer(),
                query.edit_message_text(f"✅ <b>{label}</b>\n\n{text}", parse_mode=ParseMode.HTML, reply_markup=markup),
            )

        async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
            """Record the answer, show it on the question, and ask the next one."""
            label = OPTIONS[int(update.callback_query.data.split(":")[1])]
            context.user_data[f"q{i}"] = label
            context.application.create_task(show(update, label), update=update)
            return i + 1 if i + 1 < depth else ConversationHandler.END

        return answer

    builder = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(os.environ["TELEGRAM_API_BASE_URL"])
        .concurrent_updates(CONCURRENT_UPDATES)
        .connection_pool_size(CONNECTION_POOL)
    )
    if os.environ.get("BENCH_RATE_LIMIT") == "1":
        from adapters.telegram.rate_limits import BURST, OVERALL_RATE, RETRIES_429

        builder = builder.rate_limiter(
            AIORateLimiter(overall_max_rate=BURST, overall_time_period=BURST / OVERALL_RATE, max_retries=RETRIES_429)
        )
    app = builder.build()
    context_bot = lambda: app.bot  # noqa: E731
    # State per user, not per message, is what this bot wants; PTB warns about that choice.
    warnings.filterwarnings("ignore", message="If 'per_message=False'")
    app.add_handler(ConversationHandler(
        entry_points=[CommandHandler("start", start)],
        states={i: [CallbackQueryHandler(step(i), pattern=f"^q{i}:")] for i in range(depth)},
        fallbacks=[CommandHandler("start", start)],
        per_message=False,
    ))
    app.run_polling(allowed_updates=["message", "callback_query"], timeout=10)


# The load -------------------------------------------------------------------------------------
def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    name: str
    updates: int
    seconds: float
    latencies: list[float]
    cpu: float = 0.0  # the bot process's CPU seconds during the measurement
    calls: int = 0  # Bot API calls the bot made during the measurement

    @property
    def rate(self) -> float:
        return self.updates / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


class Arrivals:
    """When each bot message, and each edit of one, reached the fake (time.perf_counter)."""

    def __init__(self, fake: FakeBotAPI) -> None:
        self.at: dict[tuple[int, int], float] = {}
        fake.on_send = fake.on_edit = self._seen

    def _seen(self, message: FakeMessage) -> None:
        self.at[(id(message), message.edits)] = time.perf_counter()


async def walk(
    user: FakeUser, depth: int, arrivals: Arrivals, starts: list[float], presses: list[tuple[float, float]],
    within: float = 60,
) -> None:
    """One user: /start, then one press per question, each timed from queueing to its answer.

    The /start latency goes to ``starts``; each press adds (queued at, latency) to ``presses``.
    """
    queued = time.perf_counter()
    await user.send("/start")
    message = await user.pop_message(within=within)
    starts.append(arrivals.at[(id(message), 0)] - queued)
    for _ in range(depth):
        edits = message.edits
        queued = time.perf_counter()
        await user.press(OPTIONS[user.id % 3], wait=False)
        await user.fake.wait_for(lambda edits=edits: message.edits > edits, within, "the next step", chat=user.id)
        presses.append((queued, arrivals.at[(id(message), edits + 1)] - queued))
    # Fast but wrong would not count: every walk must end at the result.
    assert "Here is what to do" in message.text and not user.pending(), message.text


async def play(user: FakeUser, depth: int, arrivals: Arrivals, latencies: list[float]) -> None:
    presses: list[tuple[float, float]] = []
    await walk(user, depth, arrivals, latencies, presses)
    latencies.extend(latency for _, latency in presses)


async def measure(fake: FakeBotAPI, name: str, users: int, depth: int, first_id: int) -> Result:
    arrivals = Arrivals(fake)
    players = [fake.user(first_id + i) for i in range(users)]
    latencies: list[float] = []
    started = time.perf_counter()
    await asyncio.gather(*(play(u, depth, arrivals, latencies) for u in players))
    seconds = time.perf_counter() - started
    fake.on_send = fake.on_edit = None
    return Result(name, users * (depth + 1), seconds, latencies)


async def run_bot(fake: FakeBotAPI, argv: list[str], env: dict[str, str], workdir: Path) -> asyncio.subprocess.Process:
    before = fake.calls["getUpdates"]
    proc = await asyncio.create_subprocess_exec(
        *argv, env=env, cwd=workdir, stdout=asyncio.subprocess.DEVNULL, stderr=(workdir / "bot.log").open("ab"),
    )
    await fake.wait_for(lambda: fake.calls["getUpdates"] > before or proc.returncode is not None, 60, "the bot to poll")
    if proc.returncode is not None:
        raise SystemExit(f"{argv[0]} exited: {(workdir / 'bot.log').read_text()[-2000:]}")
    return proc


async def main(users: int, depth: int, rounds: int) -> int:
    results: dict[str, list[Result]] = {"plain": [], "ours": []}
    with contextlib.ExitStack() as stack:
        return await _run(stack, results, users, depth, rounds)


async def _run(stack: contextlib.ExitStack, results: dict[str, list[Result]], users: int, depth: int, rounds: int) -> int:
    async with FakeBotAPI() as fake:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-telegram-")))
        guide = workdir / "guide.yaml"
        guide.write_text(guide_yaml(depth))
        env = {
            "PATH": os.environ.get("PATH", ""), "HOME": str(workdir), "PYTHONPATH": str(ROOT),
            "TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url,
            "NO_PROXY": "127.0.0.1,localhost", "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
            "DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}", "CONTENT_PATH": str(guide), "HEALTH_PORT": "0",
            "LOG_LEVEL": "WARNING", "TELEGRAM_RATE_LIMIT": "false", "BENCH_DEPTH": str(depth),
        }
        bots = {
            "plain": [sys.executable, str(SELF), "--plain-bot"],
            "ours": [str(OPTOUT_BOT), "run"],
        }
        next_id = 1_000_000
        for round_ in range(rounds):
            # Alternate which bot goes first, so that drift in the machine's load favours neither.
            order = list(bots.items()) if round_ % 2 == 0 else list(reversed(bots.items()))
            for name, argv in order:
                proc = await run_bot(fake, argv, env, workdir)
                try:
                    await measure(fake, f"{name} warm-up", min(20, users), depth, next_id)  # connections, caches
                    next_id += 100_000
                    cpu_before, calls_before = cpu_seconds(proc.pid), fake.calls.copy()
                    result = await measure(fake, name, users, depth, next_id)
                    result.cpu = cpu_seconds(proc.pid) - cpu_before
                    result.calls = sum((fake.calls - calls_before).values())
                    results[name].append(result)
                    next_id += 100_000
                finally:
                    proc.terminate()
                    await proc.wait()
        refused = list(fake.errors)
    best = {name: max(runs, key=lambda r: r.rate) for name, runs in results.items()}
    print(f"{users} users, {depth} questions each ({depth + 1} updates per user), {rounds} round(s), best round shown")
    print(f"{'bot':<44} {'updates':>8} {'updates/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/update':>14} {'API calls':>10}")
    labels = {"plain": "plain PTB ConversationHandler, in memory", "ours": "optout-bot run (engine, SQLite every step)"}
    for name, result in best.items():
        print(f"{labels[name]:<44} {result.updates:>8} {result.rate:>10.1f} {result.percentile(50):>8.1f} "
              f"{result.percentile(99):>8.1f} {result.cpu / result.updates * 1000:>14.1f} {result.calls:>10}")
    ratio = best["ours"].rate / best["plain"].rate
    print(f"throughput ratio ours/plain: {ratio:.2f} (target >= {TARGET_RATIO})")
    if refused:
        print(f"the fake refused {len(refused)} calls, first: {refused[0]}")
        return 1
    return 0 if ratio >= TARGET_RATIO else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--depth", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2, help="alternate the bots this many times; the best round counts")
    parser.add_argument("--plain-bot", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.plain_bot:
        run_plain_bot(int(os.environ["BENCH_DEPTH"]))
    else:
        sys.exit(asyncio.run(main(args.users, args.depth, args.rounds)))
