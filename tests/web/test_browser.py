"""The web chat in a real headless Chromium (Debian's package) driven by Playwright, against
``optout-bot run`` started as an operator starts it: the Claude walk on a phone and a desktop with
JavaScript on and off, German by Accept-Language, a pack link, More details, Forget me, the calendar
file, axe-core on every page, and no request to any other host. One server and one browser serve
the whole module."""

from __future__ import annotations

import asyncio
import shutil
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import pytest_asyncio

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip("no Chromium found (apt-get install chromium): the browser tests are skipped",
                allow_module_level=True)

import aiohttp  # noqa: E402
from axe_playwright_python.async_playwright import Axe  # noqa: E402
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect  # noqa: E402

from tests.ops.helpers import BOT, bot_env, free_port  # noqa: E402

pytestmark = pytest.mark.asyncio(loop_scope="module")

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
# What each step of the walk says; the walk presses the first button each time (Help me decide,
# Personal, Yes, Accept without touching the switch, Yes, Yes sometimes).
ENGLISH_WALK = ["Which kind of Claude account is it?", "Do you use Claude Code with this account?",
                "Have you already answered it?", "have you continued any older chats",
                "do you share sensitive material", "How to switch it off"]
GERMAN_WALK = ["Was für ein Claude-Konto ist es?", "Nutzt du Claude Code mit diesem Konto?", None, None, None,
               "So schaltest du sie aus"]
AXE = Axe()
# Contexts with JavaScript off, each with its twin page with scripts (for axe), opened when first needed.
SCRIPTLESS: dict[BrowserContext, Page | None] = {}


@dataclass
class Site:
    url: str
    browser: Browser
    requests: list[str] = field(default_factory=list)

    async def context(self, *, js: bool = True, viewport: dict[str, int] = DESKTOP, locale: str = "en-GB",
                      **options: object) -> BrowserContext:
        context = await self.browser.new_context(java_script_enabled=js, viewport=viewport, locale=locale, **options)
        context.on("request", lambda request: self.requests.append(request.url))
        if not js:
            SCRIPTLESS[context] = None
        return context


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    tmp = tmp_path_factory.mktemp("web")
    port = free_port()
    env = bot_env(tmp, WEB_PORT=str(port), CONTENT_PATH=None, FAKE_NOW="2026-12-06T12:00:00Z")
    log = (tmp / "bot.log").open("w")
    proc = await asyncio.create_subprocess_exec(str(BOT), "run", cwd=tmp, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_serving(url, proc, tmp / "bot.log")
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM)
            yield Site(url, browser)
            await browser.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 10)
        log.close()


def _read(path: Path) -> str:
    return path.read_text(errors="replace")


async def _wait_serving(url: str, proc: asyncio.subprocess.Process, log: Path, within: float = 20) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.get(url + "/static/app.css") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            assert proc.returncode is None, _read(log)
            assert loop.time() < deadline, f"the web chat did not answer within {within} s:\n{_read(log)}"
            await asyncio.sleep(0.05)


async def accessible(page: Page, before: str | None = None) -> None:
    """axe-core finds no serious or critical violation, and the page needs no horizontal scrolling.

    axe waits on the page's timers, which a page without JavaScript never runs: such a page is checked
    as its twin, the same address with the same cookies in a context with scripts (showing a view
    changes nothing); ``before`` names a page about to be opened, checked first.
    """
    checked = page
    if page.context in SCRIPTLESS:
        checked = SCRIPTLESS[page.context]
        if checked is None:
            twin = await page.context.browser.new_context(viewport=page.viewport_size)  # type: ignore[union-attr]
            checked = SCRIPTLESS[page.context] = await twin.new_page()
        await checked.context.clear_cookies()
        await checked.context.add_cookies(await page.context.cookies())  # type: ignore[arg-type]
        await checked.goto(before or page.url)
    results = await AXE.run(checked)
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
           for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    width = await checked.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert bad == [], f"{page.url}: {bad}"
    assert width[0] <= width[1], f"{page.url} scrolls sideways: {width}"


async def press_first(page: Page, expect_text: str | None, js: bool) -> None:
    button = page.locator("form.choices button").first
    if js:
        await button.click()
    else:
        async with page.expect_navigation():
            await button.click()
    if expect_text:
        await expect(page.locator("#step")).to_contain_text(expect_text)


async def walk(site: Site, page: Page, steps: list[str | None], js: bool) -> None:
    if js:
        await page.goto(site.url + "/")
        await accessible(page)
    else:
        # Opening "/" starts the guide over, so a twin of the start page is checked before, not after.
        await accessible(page, site.url + "/")
        await page.goto(site.url + "/")
    if js:
        await page.evaluate("window.stayed = true")  # gone if a press reloaded the page
    for expected in steps:
        await press_first(page, expected, js)
        if expected is None:
            await expect(page.locator("p.answered")).to_have_count(1)
        await accessible(page)
    if js:
        assert await page.evaluate("window.stayed === true"), "a press reloaded the page instead of swapping the step"
        assert await page.evaluate("document.activeElement.tagName") == "H1"
    else:
        assert "?v=" in page.url


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
async def test_the_claude_walk_reaches_the_result(site: Site, viewport: dict[str, int], js: bool) -> None:
    context = await site.context(js=js, viewport=viewport)
    page = await context.new_page()
    await walk(site, page, ENGLISH_WALK, js)
    await expect(page.locator("h1")).to_have_text("Claude: the “Help improve Claude” setting")
    # The browser's Back shows the question before the result, without a resubmission prompt.
    await page.go_back()
    await expect(page.locator("#step")).to_contain_text(ENGLISH_WALK[-2])
    if js:
        # Back to the first page shows it as it was, without starting over: its buttons are now stale.
        for _ in ENGLISH_WALK[:-1]:
            await page.go_back()
        await expect(page.locator("#step")).to_contain_text("What would you like to do?")
        await press_first(page, "That button belongs to an earlier step", js)
        await expect(page.locator("#step")).to_contain_text(ENGLISH_WALK[-1])  # where the person is
    await context.close()


async def test_german_by_accept_language(site: Site) -> None:
    context = await site.context(locale="de-DE", viewport=PHONE)
    page = await context.new_page()
    await walk(site, page, GERMAN_WALK, js=True)
    assert await page.get_attribute("html", "lang") == "de"
    await expect(page.locator("footer")).to_contain_text("Vergiss mich")
    await context.close()


async def test_a_pack_link_more_details_and_the_share_button(site: Site) -> None:
    context = await site.context(viewport=PHONE)
    page = await context.new_page()
    await page.goto(site.url + "/chatgpt")
    assert (await page.title()).startswith("ChatGPT")
    og = await page.get_attribute('meta[property="og:url"]', "content")
    assert og == site.url + "/chatgpt"
    await expect(page.locator("#share")).to_be_visible()  # the script shows it; without it the link is there
    await accessible(page)

    await page.goto(site.url + "/")
    for expected in ENGLISH_WALK:
        await press_first(page, expected, js=True)
    await page.get_by_role("button", name="📖 More details").click()
    await expect(page.locator("#step")).to_contain_text("📖 More details")
    await expect(page.locator("p.answered")).to_contain_text("More details")
    await accessible(page)
    await context.close()


async def test_forget_me_asks_erases_and_says_so(site: Site) -> None:
    context = await site.context(js=False)
    page = await context.new_page()
    await page.goto(site.url + "/")
    assert any(c["name"] == "optout_session" for c in await context.cookies())
    await page.get_by_role("link", name="Forget me").click()
    await expect(page.locator("#step")).to_contain_text("Erase everything I have about you?")
    await accessible(page)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Yes, erase everything").click()
    await expect(page.locator("#step")).to_contain_text("I've erased everything I had about you")
    await accessible(page)
    assert not any(c["name"] == "optout_session" for c in await context.cookies())
    await context.close()


async def test_remind_me_downloads_a_calendar_file(site: Site) -> None:
    context = await site.context(viewport=PHONE, accept_downloads=True)
    page = await context.new_page()
    await page.goto(site.url + "/")
    for expected in ENGLISH_WALK:
        await press_first(page, expected, js=True)
    await page.get_by_role("button", name="⏰ Remind me").click()
    await page.get_by_role("button", name="In 1 month").click()
    link = page.get_by_role("link", name="📅 Download the calendar file (.ics)")
    await accessible(page)
    async with page.expect_download() as download_info:
        await link.click()
    download = await download_info.value
    assert download.suggested_filename == "optout-reminders.ics"
    body = _read(Path(await download.path()))
    assert body.count("BEGIN:VEVENT") == 1 and "DTSTART:20270106T12" in body
    await context.close()


async def test_no_request_left_the_site(site: Site) -> None:
    # Last in the module, so it also covers every page of the tests above (styles, script, fetches).
    context = await site.context(viewport=PHONE)
    page = await context.new_page()
    await page.goto(site.url + "/chatgpt")
    await press_first(page, None, js=True)
    await expect(page.locator("p.answered")).to_have_count(1)
    await context.close()
    assert len(site.requests) >= 4  # the page, its style and script, the fetched step
    hosts = {urlsplit(url).netloc for url in site.requests}
    assert hosts == {urlsplit(site.url).netloc}
