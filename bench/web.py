"""The web chat under load: 200 browsers (closed loop, cookies, no JavaScript) walk the Claude guide over
HTTP against ``optout-bot run`` (WEB_PORT, SQLite), each press a POST, a 303 and the GET of the next step;
beside a bare aiohttp server that answers the same requests with no work, for the ratio.

    .venv/bin/python bench/web.py [--sessions 200] [--seconds 15] [--rate 300]

A step is one press: POST + redirect + GET, timed from the POST to the last byte of the page. Every
step is durable: the engine commits it before the redirect, and at the end each session's row in the
database is read back and must hold the step its last page showed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from html import unescape
from pathlib import Path

import aiohttp
from yarl import URL

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.events import UserKey  # noqa: E402
from bot.storage import open_backend  # noqa: E402

BOT = Path(sys.executable).with_name("optout-bot")
CSRF = re.compile(r'name="csrf" value="([0-9a-f]+)"')
FIRST = re.compile(r'<form method="post" action="([^"]+)" class="choices">.*?name="b" value="([^"]+)"', re.S)
START_OVER = re.compile(r'name="b" value="([^"]+)">↺')
RESULT = "How to switch it off"

# The same three exchanges with no work behind them: a page, a POST answered 303, the next page.
BARE = textwrap.dedent('''
    import sys
    from aiohttp import web
    PAGE = open(sys.argv[2], encoding="utf-8").read()
    async def page(request):
        return web.Response(text=PAGE, content_type="text/html")
    async def press(request):
        await request.post()
        return web.Response(status=303, headers={"Location": "/claude?v=x"})
    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_get("/{name}", page)
    app.router.add_post("/{name}", press)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
''')


def start(args: list[str], **options: object) -> subprocess.Popen:
    return subprocess.Popen(args, **options)  # type: ignore[call-overload]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def wait_up(url: str, proc: subprocess.Popen) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(400):
            try:
                async with http.get(url + "/static/app.css" if "bare" not in url else url) as resp:
                    if resp.status < 500:
                        return
            except aiohttp.ClientConnectionError:
                pass
            if proc.poll() is not None:
                raise SystemExit(f"the server exited with {proc.returncode}")
            await asyncio.sleep(0.05)
    raise SystemExit(f"{url} did not answer")


async def session_loop(url: str, until: float, latencies: list[float], last: dict[str, str], bare: bool,
                       every: float | None, offset: float) -> int:
    """One browser: press, read the page, press again, until ``until``. With ``every`` (seconds) the presses
    are due on a fixed schedule whatever the server does (open loop), and a step's time counts from when
    it was due, so a slow answer also shows in the steps queued behind it."""
    jar = aiohttp.CookieJar(unsafe=True)
    steps = 0
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        async with http.get(url + "/") as resp:
            page = await resp.text()
        due = time.perf_counter() + offset
        while True:
            if every is not None:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
            if time.perf_counter() >= until:
                break
            found = FIRST.search(page)
            if bare or RESULT not in page:
                action, value = found.group(1), unescape(found.group(2))  # type: ignore[union-attr]
            else:
                action, value = "/claude", unescape(START_OVER.search(page).group(1))  # type: ignore[union-attr]
            started = due if every is not None else time.perf_counter()
            async with http.post(url + action, data={"csrf": CSRF.search(page).group(1), "b": value}) as resp:  # type: ignore[union-attr]
                page = await resp.text()  # aiohttp follows the 303 with the GET
                assert resp.status == 200, resp.status
            latencies.append(time.perf_counter() - started)
            steps += 1
            if every is not None:
                due += every
        if not bare:
            cookie = jar.filter_cookies(URL(url))["optout_session"].value
            last[cookie] = page
    return steps


async def load(url: str, sessions: int, seconds: float, bare: bool, rate: float | None
               ) -> tuple[float, list[float], dict[str, str]]:
    latencies: list[float] = []
    last: dict[str, str] = {}
    every = sessions / rate if rate else None
    started = time.perf_counter()
    until = started + seconds
    runs = (session_loop(url, until, latencies, last, bare, every, (i / sessions) * (every or 0)) for i in range(sessions))
    steps = sum(await asyncio.gather(*runs))
    return steps / (time.perf_counter() - started), latencies, last


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else float("nan")


async def durable(db: str, last: dict[str, str]) -> int:
    """How many sessions' rows do not hold the step their last page showed (must be 0)."""
    storage = await open_backend(db)
    lost = 0
    for session, page in last.items():
        state = await storage.get_user(UserKey("web", session), "claude")
        shown = re.search(r'name="b" value="(?:[a-z0-9_-]+/)?[onb]:(\d+)\b', page)
        if state is None or shown is None or state.step != int(shown.group(1)):
            lost += 1
    await storage.close()
    return lost


def row(name: str, rate: float, latencies: list[float], cpu: float) -> str:
    return (f"| {name} | {rate:,.0f} | {pct(latencies, 50):.0f} | {pct(latencies, 99):.0f} | "
            f"{max(latencies) * 1000:.0f} | {cpu * 1000:.2f} |")


async def main(sessions: int, seconds: float, rate: float) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        port, bare_port = free_port(), free_port()
        db = f"sqlite:///{tmp}/web.db"
        env = {**os.environ, "WEB_PORT": str(port), "HEALTH_PORT": "0", "DATABASE_URL": db,
               "FAKE_NOW": "2026-12-06T12:00:00Z", "WEB_SESSION_PER_MINUTE": "100000", "WEB_IP_PER_MINUTE": "10000000",
               "LOG_LEVEL": "WARNING", "TELEGRAM_BOT_TOKEN": "", "DISCORD_BOT_TOKEN": ""}
        ours = start([str(BOT), "run"], cwd=tmp, env=env)
        lost = []
        try:
            url = f"http://127.0.0.1:{port}"
            await wait_up(url, ours)
            async with aiohttp.ClientSession() as http, http.get(url + "/") as resp:
                sample = await resp.text()
            for name, target in ((f"web chat, {rate:.0f} steps/s offered", rate), ("web chat, as fast as it goes", None)):
                cpu = cpu_seconds(ours.pid)
                got, latencies, last = await load(url, sessions, seconds, bare=False, rate=target)
                rows.append((name, got, latencies, (cpu_seconds(ours.pid) - cpu) / len(latencies)))
                lost.append(await durable(db, last))
        finally:
            ours.send_signal(signal.SIGTERM)
            ours.wait(15)

        sample_path = Path(tmp) / "page.html"
        sample_path.write_text(sample, encoding="utf-8")
        bare = start([sys.executable, "-c", BARE, str(bare_port), str(sample_path)])
        try:
            bare_url = f"http://127.0.0.1:{bare_port}"
            await wait_up(bare_url + "/bare", bare)
            for name, target in ((f"bare aiohttp, {rate:.0f} steps/s offered", rate), ("bare aiohttp, as fast as it goes", None)):
                cpu = cpu_seconds(bare.pid)
                got, latencies, _ = await load(bare_url, sessions, seconds, bare=True, rate=target)
                rows.append((name, got, latencies, (cpu_seconds(bare.pid) - cpu) / len(latencies)))
        finally:
            bare.send_signal(signal.SIGTERM)
            bare.wait(15)

    print(f"{sessions} sessions for {seconds:.0f} s per row; a step = POST + 303 + GET of the next page; "
          "offered: each session presses on a fixed schedule, timed from when the press was due")
    print("| server | steps/s | p50 ms | p99 ms | max ms | server CPU ms/step |")
    print("|---|---|---|---|---|---|")
    for name, got, latencies, cpu in rows:
        print(row(name, got, latencies, cpu))
    print(f"ratio web chat / bare at full speed {rows[1][1] / rows[3][1]:.2f}, in server CPU per step"
          f" {rows[1][3] / rows[3][3]:.1f}x; sessions whose last step is not in"
          f" the database: {lost[0]} and {lost[1]} of {sessions} each; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rate", type=float, default=300, help="steps/s offered in the paced runs")
    args = parser.parse_args()
    asyncio.run(main(args.sessions, args.seconds, args.rate))
