"""`optout-bot content watch` as cron or CI runs it: a real process, its report on stdout, its exit code."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from bot.watch.fetch import USER_AGENT
from tests.watch.site import PARAGRAPHS, Page, Site, article, write_pack

OPTOUT_BOT = Path(sys.executable).parent / "optout-bot"
DEAD_PROXY = "http://127.0.0.1:9"  # anything not on 127.0.0.1 fails: the process cannot reach the internet


async def content_watch(workdir: Path, pack: Path, *args: str, database: str | None = None) -> tuple[int, str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(workdir), "LANG": "C.UTF-8",
        "CONTENT_PATH": str(pack), "DATABASE_URL": database or f"sqlite:///{workdir / 'watch.db'}",
        "CONTENT_WATCH_TIMEOUT": "2",
        "HTTP_PROXY": DEAD_PROXY, "HTTPS_PROXY": DEAD_PROXY, "NO_PROXY": "127.0.0.1,localhost",
    }
    proc = await asyncio.create_subprocess_exec(
        str(OPTOUT_BOT), "content", "watch", *args, cwd=workdir, env=env, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_exit_codes_and_report_across_runs(tmp_path: Path) -> None:
    # Two sites: each gets robots.txt and one page, so the second pause of the per-host turn is never waited.
    async with Site() as site, Site() as other:
        site.pages["/faq"] = Page(article())
        other.pages["/retention"] = Page(article(PARAGRAPHS[1:]))
        pack = write_pack(tmp_path, "demo", {"faq": site.url("/faq"), "retention": other.url("/retention")})

        code, out, err = await content_watch(tmp_path, pack)
        assert (code, out, err) == (0, "checked 2 source(s): 0 changed, 0 failed, 2 unchanged "
                                       "(2 read for the first time)\n", "")
        assert await content_watch(tmp_path, pack) == (0, "checked 2 source(s): 0 changed, 0 failed, 2 unchanged\n", "")

        site.pages["/faq"] = Page(article([*PARAGRAPHS, "Since December, Business plans can opt in to training."]))
        other.pages["/retention"] = Page("", status=302, headers={"Location": "/privacy/retention-2027"})
        code, out, err = await content_watch(tmp_path, pack)
        assert code == 1 and err == ""
        lines = out.splitlines()
        assert lines[0] == f"demo faq (CG1, CG2, CG10): main text changed {site.url('/faq')}"
        assert "    +Since December, Business plans can opt in to training." in lines
        assert (f"demo retention (CG1, CG2): redirects to another page, {other.url('/privacy/retention-2027')}; "
                f"update the pack's address: {other.url('/retention')}") in lines
        assert lines[-1] == "checked 2 source(s): 1 changed, 1 failed, 0 unchanged"
        assert {h["User-Agent"] for _, h in site.requests + other.requests} == {USER_AGENT}

        # One pack by path; a bad DATABASE_URL is one line and exit 2, not a traceback.
        assert (await content_watch(tmp_path, pack, str(pack)))[0] == 1
        code, out, err = await content_watch(tmp_path, pack, database="mysql://x")
        assert code == 2 and out == "" and err.startswith("optout-bot: DATABASE_URL: ") and len(err.splitlines()) == 1
