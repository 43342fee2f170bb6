"""Engine throughput: simulated users walk the guide through the engine, every step committed to SQLite.

    .venv/bin/python bench/engine.py [--users 2000] [--concurrency 200] [--guide content/claude.yaml]

Prints steps per second and the process's peak memory (max RSS). Runs on one core (one event loop;
the SQLite backend's worker thread does the SQLite work).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import button_data
from bot.clock import ManualClock
from bot.content_check import guide_paths
from bot.engine import Engine
from bot.events import Press, Start, UserKey
from bot.guide import DEFAULT_CONTENT_PATH, load_guide
from bot.storage import open_storage


async def walk(engine: Engine, key: UserKey, presses: tuple[tuple[str, str], ...]) -> int:
    outcome = await engine.handle(key, Start())
    steps = 1
    for node_id, option_id in presses:
        buttons = [b for r in outcome.replies for row in r.buttons for b in row]
        wanted = f":{option_id}" if option_id else ""
        button = next(b for b in buttons if button_data.parse(b.data).kind in ("o", "n") and b.data.endswith(wanted))
        outcome = await engine.handle(key, Press(button.data))
        assert outcome.notice is None, f"{key}: unexpected notice at {node_id}"
        steps += 1
    return steps


async def main(users: int, concurrency: int, guide_path: Path) -> None:
    guide = load_guide(guide_path)
    paths = guide_paths(guide)
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        storage = await open_storage(Path(tmp) / "bench.db")
        engine = Engine(guide, storage, ManualClock(datetime(2026, 11, 22, tzinfo=UTC)))
        gate = asyncio.Semaphore(concurrency)

        async def user(i: int) -> int:
            async with gate:
                return await walk(engine, UserKey("bench", str(i)), rng.choice(paths).presses)

        started = time.perf_counter()
        steps = sum(await asyncio.gather(*(user(i) for i in range(users))))
        elapsed = time.perf_counter() - started
        await storage.close()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"guide: {guide_path.name} ({len(paths)} paths), users: {users}, concurrency: {concurrency}")
    print(f"steps: {steps} in {elapsed:.2f} s = {steps / elapsed:,.0f} steps/s (each step one committed transaction)")
    print(f"peak memory (max RSS): {peak_mib:.0f} MiB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--guide", type=Path, default=DEFAULT_CONTENT_PATH)
    args = parser.parse_args()
    asyncio.run(main(args.users, args.concurrency, args.guide))
