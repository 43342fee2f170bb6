"""PostgreSQL beside SQLite: engine steps/s with one and two instances, reminders/s across two instances.

    .venv/bin/python bench/postgres.py [--users 2000] [--concurrency 200] [--reminders 10000] [--fast-server]

Starts a throwaway PostgreSQL server (tests/postgres_server.py) with PostgreSQL's default durability
(fsync and synchronous_commit on; ``--fast-server`` turns them off, as the test suite does), then for
each backend runs "instances": separate processes started together on one database, as several bot
replicas would be.

- steps: each instance walks its own simulated users through the shipped guide with the real Engine
  (bench/engine.py's walk), every step one committed write. The figure is all instances' steps over the
  time from the first start to the last finish.
- reminders: ``--reminders`` due reminders are seeded; each instance runs the real Scheduler with a
  platform that accepts every message at once (no rate limit), so the figure is the queue alone:
  claims and recorded outcomes. The run checks every reminder was recorded sent exactly once.

Goals on the 2-core machine: >= 1,500 steps/s with two PostgreSQL instances, >= 1,000 reminders/s.
The database server shares the two cores with the instances; `uptime` is printed so a busy machine shows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402

from bench.engine import walk  # noqa: E402
from bot.clock import ManualClock, SystemClock  # noqa: E402
from bot.content_check import guide_paths  # noqa: E402
from bot.engine import Engine  # noqa: E402
from bot.events import Recipient, UserKey  # noqa: E402
from bot.guide import DEFAULT_CONTENT_PATH, load_guide  # noqa: E402
from bot.platform import Delivery, Outgoing  # noqa: E402
from bot.reminders.scheduler import Scheduler  # noqa: E402
from bot.reminders.service import ReminderService  # noqa: E402
from bot.storage import open_backend  # noqa: E402
from bot.storage.base import NewReminder  # noqa: E402
from tests.postgres_server import PostgresServer, why_unavailable  # noqa: E402
from tests.reminders.helpers import write_guide  # noqa: E402

GOAL_STEPS = 1500.0  # steps/s, two PostgreSQL instances
GOAL_REMINDERS = 1000.0  # reminders/s, two PostgreSQL instances
NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


# What one instance (a child process) does ----------------------------------------------------------
class InstantPlatform:
    """A platform that accepts every message at once: the queue, not an API, is what is measured."""

    name = "telegram"

    def __init__(self) -> None:
        self.sent = 0

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def ready(self) -> bool:
        return True

    async def send(self, message: Outgoing) -> Delivery:
        self.sent += 1
        return Delivery.SENT


def wait_for_go(extra: dict | None = None) -> None:
    """Tell the parent this instance is set up, and wait until every instance is (so they start together)."""
    print(json.dumps({"ready": True, **(extra or {})}), flush=True)
    sys.stdin.readline()


async def steps_instance(url: str, prefix: str, users: int, concurrency: int) -> dict:
    guide = load_guide(DEFAULT_CONTENT_PATH)
    paths = guide_paths(guide)
    rng = random.Random(prefix)
    storage = await open_backend(url)
    engine = Engine(guide, storage, ManualClock(NOW))
    gate = asyncio.Semaphore(concurrency)

    async def user(i: int) -> int:
        async with gate:
            return await walk(engine, UserKey("bench", f"{prefix}{i}"), rng.choice(paths).presses)

    wait_for_go()
    started, cpu = time.time(), time.process_time()
    steps = sum(await asyncio.gather(*(user(i) for i in range(users))))
    finished, cpu = time.time(), time.process_time() - cpu
    await storage.close()
    return {"steps": steps, "started": started, "finished": finished, "cpu": cpu}


async def reminders_instance(url: str, guide_path: str, total: int) -> dict:
    storage = await open_backend(url)
    platform = InstantPlatform()
    service = ReminderService(storage, storage, load_guide(Path(guide_path)), SystemClock(NOW))
    scheduler = Scheduler(service, {"telegram": platform})
    wait_for_go()
    started = time.time()
    task = asyncio.create_task(scheduler.run())
    # Done when every reminder is recorded, by this instance or another: a bounded poll of the database
    # (the only thing the instances share).
    for _ in range(15_000):  # 300 s at most
        if (await storage.counts()).get("sent", 0) >= total:
            break
        await asyncio.sleep(0.02)
    finished = time.time()
    await scheduler.stop()
    await task
    await storage.close()
    return {"sent": platform.sent, "started": started, "finished": finished}


# The parent ---------------------------------------------------------------------------------------
def run_instances(commands: list[list[str]]) -> list[dict]:
    """Start one process per command, let them all begin at once, return each one's result."""
    procs = [subprocess.Popen([sys.executable, __file__, *c], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for c in commands]
    try:
        for p in procs:
            line = p.stdout.readline()
            if not line:
                raise SystemExit(f"an instance failed to start ({p.wait()})")
        for p in procs:
            p.stdin.write("go\n")
            p.stdin.flush()
        results = [json.loads(p.stdout.readline() or "null") for p in procs]
    finally:
        for p in procs:
            p.wait(timeout=600)
    if None in results:
        raise SystemExit("an instance failed")
    return results


def span(results: list[dict]) -> float:
    return max(r["finished"] for r in results) - min(r["started"] for r in results)


def steps_per_s(url: str, instances: int, users: int, concurrency: int, tag: str) -> tuple[float, str]:
    """Return all instances' steps per second, and how busy the instances' own processes were."""
    results = run_instances([["--instance", "steps", url, f"{tag}{n}-", str(users // instances), str(concurrency)]
                             for n in range(instances)])
    shares = ", ".join(f"{r['cpu'] / (r['finished'] - r['started']):.0%}" for r in results)
    cpu = f"instance CPU {shares} of a core, {1e6 * sum(r['cpu'] for r in results) / sum(r['steps'] for r in results):.0f} µs a step"
    return sum(r["steps"] for r in results) / span(results), cpu


async def seed(url: str, guide_path: Path, count: int) -> None:
    guide = write_guide(guide_path, [("bench", NOW + timedelta(hours=1, seconds=1), ["PT1H"])], version="bench-1")
    storage = await open_backend(url)
    try:
        rows = [NewReminder(Recipient("telegram", "user", str(uid)), guide.pack, "deadline", "bench", 3600, NOW)
                for uid in range(7_000_000, 7_000_000 + count)]
        assert await storage.schedule(rows) == count
    finally:
        await storage.close()


async def sent_count(url: str) -> int:
    storage = await open_backend(url)
    try:
        return (await storage.counts()).get("sent", 0)
    finally:
        await storage.close()


def reminders_per_s(url: str, instances: int, count: int, workdir: Path) -> float:
    guide_path = workdir / f"guide-{instances}.yaml"
    asyncio.run(seed(url, guide_path, count))
    results = run_instances([["--instance", "reminders", url, str(guide_path), str(count)] for _ in range(instances)])
    sent = [r["sent"] for r in results]
    recorded = asyncio.run(sent_count(url))
    # Every reminder sent once: by one instance or the other, never both.
    assert sum(sent) == count == recorded, f"sent {sent}, recorded {recorded}, expected {count}"
    if instances > 1:
        print(f"    (split between instances: {sent})")
    return count / span(results)


async def create_database(server: PostgresServer, name: str) -> str:
    admin = await asyncpg.connect(server.url())
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return server.url(name)


def main(users: int, concurrency: int, reminders: int, durable: bool) -> int:
    reason = why_unavailable()
    if reason:
        print(f"no PostgreSQL server: {reason}")
        return 2
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    print(f"cores: {os.cpu_count()}, users: {users}, concurrency per instance: {concurrency}, reminders: {reminders}")
    server = PostgresServer.start(durable=durable)
    print(f"PostgreSQL server: {server.bin_dir.parent.name}, fsync {'on' if durable else 'off'}")
    figures: dict[tuple[str, str], float] = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)

            def url(backend: str, name: str) -> str:
                if backend == "sqlite":
                    return f"sqlite:///{workdir / name}.db"
                return asyncio.run(create_database(server, name))

            for backend in ("sqlite", "postgres"):
                for instances in (1, 2):
                    rate, cpu = steps_per_s(url(backend, f"steps{instances}"), instances, users, concurrency, backend)
                    figures[(backend, f"steps x{instances}")] = rate
                    print(f"{backend:9} engine steps, {instances} instance(s): {rate:8,.0f} steps/s ({cpu})")
                for instances in (1, 2):
                    rate = reminders_per_s(url(backend, f"reminders{instances}"), instances, reminders, workdir)
                    figures[(backend, f"reminders x{instances}")] = rate
                    print(f"{backend:9} reminders claimed+recorded, {instances} instance(s): {rate:8,.0f} /s")
    finally:
        server.stop()
    print(f"uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")
    ok = (figures[("postgres", "steps x2")] >= GOAL_STEPS and figures[("postgres", "reminders x2")] >= GOAL_REMINDERS)
    print(f"goals (PostgreSQL, two instances: >= {GOAL_STEPS:,.0f} steps/s, >= {GOAL_REMINDERS:,.0f} reminders/s): "
          f"{'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--instance":
        kind, *rest = sys.argv[2:]
        if kind == "steps":
            result = asyncio.run(steps_instance(rest[0], rest[1], int(rest[2]), int(rest[3])))
        else:
            result = asyncio.run(reminders_instance(rest[0], rest[1], int(rest[2])))
        print(json.dumps(result), flush=True)
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=2000, help="simulated users in all (split between instances)")
    parser.add_argument("--concurrency", type=int, default=200, help="users in flight per instance")
    parser.add_argument("--reminders", type=int, default=10000)
    parser.add_argument("--fast-server", action="store_true", help="run the server with fsync off")
    args = parser.parse_args()
    sys.exit(main(args.users, args.concurrency, args.reminders, durable=not args.fast_server))
