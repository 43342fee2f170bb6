"""Take the README's picture: the Claude result on a 360×740 phone, in Debian's headless Chromium.

    .venv/bin/python -m tests.web.screenshot docs/web-result-phone.png
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.async_api import async_playwright

from tests.ops.helpers import BOT, bot_env, free_port


async def main(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        env = bot_env(Path(tmp), WEB_PORT=str(port), CONTENT_PATH=None, FAKE_NOW="2026-12-06T12:00:00Z")
        server = subprocess.Popen([str(BOT), "run"], cwd=tmp, env=env)  # noqa: ASYNC220 (a one-off script)
        try:
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium")
                page = await browser.new_page(viewport={"width": 360, "height": 740}, device_scale_factor=2)
                for _ in range(100):
                    try:
                        await page.goto(f"http://127.0.0.1:{port}/")
                        break
                    except Exception:
                        await asyncio.sleep(0.1)
                for _ in range(6):  # Help me decide, Personal, Yes, Accept, Yes, Yes sometimes
                    await page.locator("form.choices button").first.click()
                    await page.locator("p.answered").wait_for()
                await page.locator("#step").get_by_text("How to switch it off").wait_for()
                await page.screenshot(path=str(out))
                await browser.close()
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(10)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/web-result-phone.png")))
