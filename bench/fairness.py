"""Benchmark: people arriving while one person floods the bot, beside the same arrivals with nobody flooding.

`optout-bot run` (limiter on, as deployed) against the fake Bot API, which answers 429 past Telegram's 30
messages a second. Each round, one person sends 200 texts at once (or presses one button 200 times); 0.3 s
later bystanders start to arrive, one every 0.1 s (40 a round, open loop), each sending /start. It prints
the bystanders' p50/p99 from /start to the first question arriving at the fake, for the three loads, and
what the flooder got: replies, "one moment" notices, presses answered, and 429s.

    .venv/bin/python bench/fairness.py [--rounds 3] [--burst 200] [--bystanders 40]

Goal: bystanders' p99 under 1 s during a burst, near the figure without one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

SELF = Path(__file__).resolve()
ROOT = SELF.parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(SELF.parent))

from telegram_rush import Row, load_average  # noqa: E402
from telegram_updates import OPTOUT_BOT, run_bot  # noqa: E402

from adapters.telegram.fairness import BUSY  # noqa: E402
from tests.fakes.telegram_api import FakeBotAPI, FakeUser  # noqa: E402

FLOOD_LIMIT = 30
LOADS = ("no burst", "200 texts", "200 presses")


@dataclass
class Result:
    load: str
    waits: list[float] = field(default_factory=list)
    flooder_replies: int = 0
    flooder_notices: int = 0
    presses_answered: int = 0
    floods: int = 0

    pct = staticmethod(Row.pct)  # the rush bench's percentile, in ms


async def bystanders(fake: FakeBotAPI, first_id: int, count: int) -> list[float]:
    users = [fake.user(first_id + i) for i in range(count)]
    firsts: dict[int, float] = {}
    previous = fake.on_send

    def seen(message) -> None:  # type: ignore[no-untyped-def]
        firsts.setdefault(message.chat_id, time.perf_counter())

    fake.on_send = seen
    sent: dict[int, float] = {}
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.3
    try:
        for i, user in enumerate(users):
            await asyncio.sleep(max(0.0, start + i * 0.1 - loop.time()))
            sent[user.id] = time.perf_counter()
            await user.send("/start")
        await fake.wait_for(lambda: all(u.id in firsts for u in users), 120, "every bystander's first question")
    finally:
        fake.on_send = previous
    return [firsts[u.id] - sent[u.id] for u in users]


async def flood(fake: FakeBotAPI, flooder: FakeUser, load: str, burst: int) -> list:  # type: ignore[type-arg]
    if load == "200 texts":
        for i in range(burst):
            await flooder.send(f"text {i}")
        return []
    await flooder.send("/start")
    home = await flooder.pop_message(60)
    data = home.buttons[0]["callback_data"]
    return [await flooder.press_data(home, data, wait=False) for _ in range(burst)]


async def main(rounds: int, burst: int, count: int) -> int:
    results = {load: Result(load) for load in LOADS}
    with tempfile.TemporaryDirectory(prefix="bench-fair-") as tmp:
        workdir = Path(tmp)
        async with FakeBotAPI(flood_limit=FLOOD_LIMIT) as fake:
            env = {
                "PATH": os.environ.get("PATH", ""), "HOME": str(workdir), "PYTHONPATH": str(ROOT),
                "TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE_URL": fake.base_url,
                "NO_PROXY": "127.0.0.1,localhost", "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
                "DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}", "CONTENT_PATH": str(ROOT / "tests/fixtures/mini.yaml"),
                "HEALTH_PORT": "0", "LOG_LEVEL": "WARNING", "FAKE_NOW": "2026-11-22T12:00:00+00:00",
            }
            proc = await run_bot(fake, [str(OPTOUT_BOT), "run"], env, workdir)
            try:
                await bystanders(fake, 10_000, 10)  # warm-up: connections, caches
                next_id = 100_000
                for _ in range(rounds):
                    for load in LOADS:
                        await asyncio.sleep(3)  # the chat limits and the flood bucket fill again
                        result = results[load]
                        floods = fake.floods
                        flooder = fake.user(next_id)
                        queries = [] if load == "no burst" else await flood(fake, flooder, load, burst)
                        result.waits += await bystanders(fake, next_id + 1, count)
                        if load != "no burst":
                            await asyncio.sleep(2)  # the flooder's last answers land
                            texts = [m.text for m in flooder.bot_messages]
                            result.flooder_notices += texts.count(BUSY)
                            result.flooder_replies += len(texts) - texts.count(BUSY) - (load == "200 presses")
                            result.presses_answered += sum(q.answered for q in queries)
                        result.floods += fake.floods - floods
                        next_id += 1_000
            finally:
                proc.terminate()
                await proc.wait()
    load_avg = load_average()
    print(f"{rounds} round(s) per load; {count} bystanders a round from 0.3 s after the burst, one every 0.1 s; "
          f"the fake answers 429 past {FLOOD_LIMIT} messages/s. Load average: {load_avg}")
    print(f"{'load':<12} {'bystanders':>10} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} "
          f"{'flooder replies':>15} {'notices':>7} {'presses answered':>16} {'429s':>5}")
    ok = True
    for r in results.values():
        print(f"{r.load:<12} {len(r.waits):>10} {r.pct(r.waits, 50):>7.0f} {r.pct(r.waits, 99):>7.0f} "
              f"{max(r.waits) * 1000:>7.0f} {r.flooder_replies:>15} {r.flooder_notices:>7} "
              f"{r.presses_answered if r.load == '200 presses' else '':>16} {r.floods:>5}")
        ok = ok and r.pct(r.waits, 99) < 1000
    return 0 if ok else 1



if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--bystanders", type=int, default=40)
    args = parser.parse_args()
    started = time.monotonic()
    code = asyncio.run(main(args.rounds, args.burst, args.bystanders))
    print(f"wall time {time.monotonic() - started:.0f} s")
    sys.exit(code)
