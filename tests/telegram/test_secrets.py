"""No start-up error path prints the token, even when the Bot API (or a proxy) echoes the request path.

Every path `optout-bot run` can take when a Bot API call fails at start-up, against a server that answers
the failing call with an error naming the path (``/bot<TOKEN>/getMe``) as is, upper-cased and
lower-cased; PTB itself lower-cases a "Bad Request: ..." message. TELEGRAM_API_BASE_URL carries a
``user:password@``. Text and JSON logs, at DEBUG (every level).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web

from tests.ops.helpers import free_port
from tests.telegram.conftest import MINI_GUIDE, OPTOUT_BOT

pytestmark = pytest.mark.asyncio(loop_scope="module")

TOKEN = "7012345678:AAHsecretPartOfTheTokenXyz0123456789ab"
SECRET = TOKEN.split(":", 1)[1]
USERINFO = ("opuser", "hunter2pw")
BOT_JSON = {"id": 7012345678, "is_bot": True, "first_name": "Opt-Out Assistant", "username": "optout_test_bot",
            "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}
# (method that fails, HTTP status, prefix of Telegram's description, whether the bot keeps running, extra settings)
PATHS = [
    ("getMe", 400, "Bad Request: ", False, {}),
    ("getMe", 404, "Not Found: ", False, {}),
    ("getMe", 502, "", False, {}),
    ("setMyCommands", 400, "Bad Request: ", True, {}),
    ("deleteWebhook", 400, "Bad Request: ", False, {}),
    ("getUpdates", 500, "Internal Server Error: ", True, {}),
    ("setWebhook", 400, "Bad Request: ", False, {"TELEGRAM_WEBHOOK_URL": "https://bot.example.org/hook",
                                                 "TELEGRAM_WEBHOOK_SECRET": "webhook-secret-0123456789"}),
]


class EchoingBotAPI:
    """Answers like the Bot API, except that one method fails with an error that echoes the request path."""

    def __init__(self) -> None:
        self.failing: dict[int, tuple[str, int, str]] = {}  # by the port of the bot's URL, one per run
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{run}/{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        failing, status, prefix = self.failing[int(request.match_info["run"].removeprefix("run"))]
        path = request.path
        if method.lower() == failing.lower():
            description = f"{prefix}No route {path} ({path.upper()}; {path.lower()})"
            if status == 502:  # a proxy's HTML page, not the Bot API's JSON
                return web.Response(status=502, text=f"<html><body>Bad gateway for {path}</body></html>",
                                    content_type="text/html")
            return web.json_response({"ok": False, "error_code": status, "description": description}, status=status)
        if method.lower() == "getupdates":
            await asyncio.sleep(0.2)
            return web.json_response({"ok": True, "result": []})
        return web.json_response({"ok": True, "result": BOT_JSON if method.lower() == "getme" else True})


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def api() -> AsyncIterator[EchoingBotAPI]:
    server = EchoingBotAPI()
    await server.start()
    yield server
    await server.stop()


async def run_until_settled(api: EchoingBotAPI, workdir: Path, run: int, path: tuple, fmt: str) -> tuple[int | None, str]:
    method, status, prefix, keeps_running, extra = path
    api.failing[run] = (method, status, prefix)
    user, password = USERINFO
    env = {
        "PATH": "/usr/bin:/bin", "HOME": str(workdir), "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": f"http://{user}:{password}@127.0.0.1:{api.port}/run{run}/bot",
        "DATABASE_URL": f"sqlite:///{workdir / 'bot.db'}", "CONTENT_PATH": str(MINI_GUIDE), "HEALTH_PORT": "0",
        "LOG_LEVEL": "DEBUG", "LOG_FORMAT": fmt, "NO_PROXY": "127.0.0.1,localhost",
        "TELEGRAM_WEBHOOK_PORT": str(free_port()), "TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1", **extra,
    }
    log = workdir / "bot.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(str(OPTOUT_BOT), "run", cwd=workdir, env=env,
                                                    stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    try:
        # A path the bot survives has been taken once the failing call's line is out; the others end the process.
        while proc.returncode is None and loop.time() < deadline:
            text = log.read_text(errors="replace")
            if keeps_running and ("command menu" in text or "fetching updates failed" in text):
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), 0.1)
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), 15)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return code, log.read_text(errors="replace")


async def test_no_start_up_error_path_prints_the_token(api: EchoingBotAPI, tmp_path_factory: pytest.TempPathFactory) -> None:
    # Each path once, text and JSON in turn, and the two that PTB lower-cases ("Bad Request: ...") and
    # that only log (the menu) in the other format too: every path and both formats, in 9 starts.
    runs = [(path, ("text", "json")[i % 2]) for i, path in enumerate(PATHS)]
    runs += [(PATHS[0], "json"), (PATHS[3], "text")]
    slots = asyncio.Semaphore(4)

    async def one(run: int, path: tuple, fmt: str) -> tuple[tuple, str, int | None, str]:
        async with slots:
            workdir = tmp_path_factory.mktemp(f"secrets-{fmt}")
            code, output = await run_until_settled(api, workdir, run, path, fmt)
            return path, fmt, code, output

    results = await asyncio.gather(*(one(i, path, fmt) for i, (path, fmt) in enumerate(runs)))
    assert {fmt for _, fmt, _, _ in results} == {"text", "json"}
    for path, fmt, code, output in results:
        method, status, _, keeps_running, _ = path
        what = f"{method} {status} ({fmt}):\n{output[-2000:]}"
        # The path was really taken: the failure is reported, and the run ended as it should.
        assert (code == 0) if keeps_running else (code == 2), what
        lowered = output.lower()
        assert SECRET.lower() not in lowered and TOKEN.lower() not in lowered, what
        assert USERINFO[1] not in output and f"{USERINFO[0]}:" not in output, what
        if fmt == "json":
            for line in output.splitlines():
                if line.startswith("{"):
                    json.loads(line)
