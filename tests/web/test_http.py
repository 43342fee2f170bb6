"""The web chat over plain HTTP (no browser): post-redirect-get, cookies, CSRF, limits, headers, sizes,
calendar files, languages, erasing, and two instances on one database."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp
import icalendar

from adapters.web import texts as web_texts
from bot import texts
from bot.events import UserKey
from bot.i18n import lang
from tests.conftest import AFTER
from tests.ops.helpers import BOT, bot_env, free_port
from tests.web.conftest import buttons, csrf

START = "What would you like to do?"
ACCOUNT = "Which kind of Claude account is it?"


async def press(client, page: str, label: str, path: str = "/claude") -> tuple[str, str]:
    """Press a button as a browser without JavaScript does; return (the page after the redirect, its URL)."""
    resp = await client.post(path, data={"csrf": csrf(page), "b": buttons(page)[label]}, allow_redirects=False)
    assert resp.status == 303, await resp.text()
    location = resp.headers["Location"]
    got = await client.get(location)
    assert got.status == 200
    return await got.text(), location


async def test_a_walk_without_javascript_is_post_redirect_get_and_back_shows_the_page_left(web_client) -> None:
    client = await web_client()
    first = await client.get("/")
    page = await first.text()
    assert first.status == 200 and START in page
    cookie = first.cookies["optout_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and not cookie["secure"]
    assert int(cookie["max-age"]) == 180 * 86400
    csp = first.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "form-action 'self'" in csp
    assert first.headers["Cache-Control"] == "no-store" and first.headers["Referrer-Policy"] == "no-referrer"

    question, url = await press(client, page, "🧭 Help me decide")
    assert url.startswith("/claude?v=") and ACCOUNT in question and "✔</span> 🧭 Help me decide" in question
    # The browser's Back: the page left is shown as it was; its button is stale, and the engine says so.
    stale, _ = await press(client, page, "📋 Just show me the steps")
    assert "That button belongs to an earlier step" in stale and ACCOUNT in stale


async def test_a_post_without_the_sessions_csrf_token_changes_nothing(web_client) -> None:
    client = await web_client()
    page = await (await client.get("/")).text()
    value = buttons(page)["🧭 Help me decide"]
    other = await web_client()
    foreign = csrf(await (await other.get("/")).text())
    for data in ({"b": value}, {"b": value, "csrf": foreign}, {"b": value, "csrf": ""}):
        resp = await client.post("/claude", data=data, allow_redirects=False)
        assert resp.status == 403 and lang("en")._(web_texts.EXPIRED) in await resp.text()
    # Still at the start: a view this process does not hold shows the person's current step.
    again = await (await client.get("/claude?v=unknown")).text()
    assert START in again and ACCOUNT not in again


async def test_limits_per_session_and_per_ip_answer_with_a_clear_page(web_client) -> None:
    client = await web_client(web_session_per_minute=3)
    assert (await client.get("/")).status == 200  # opens the session
    for _ in range(3):
        assert (await client.get("/claude?v=x")).status == 200
    limited = await client.get("/claude?v=x")
    assert limited.status == 429 and limited.headers["Retry-After"] == "60"
    assert lang("en")._(web_texts.TOO_MANY) in await limited.text()

    by_ip = await web_client(web_ip_per_minute=2)
    statuses = [(await by_ip.get("/forget")).status for _ in range(3)]
    assert statuses == [200, 200, 429]


async def test_a_request_too_large_is_refused_and_nothing_typed_is_read(web_client) -> None:
    client = await web_client()
    page = await (await client.get("/")).text()
    resp = await client.post("/claude", data={"csrf": csrf(page), "b": "o:1:decide", "x": "y" * 20_000})
    assert resp.status == 413 and lang("en")._(web_texts.TOO_BIG) in await resp.text()
    long = await client.post("/claude", data={"csrf": csrf(page), "b": "o" * 300}, allow_redirects=False)
    assert long.status == 403


async def test_the_cookie_is_secure_behind_an_https_proxy(web_client) -> None:
    client = await web_client(web_trust_forwarded=True)
    resp = await client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert resp.cookies["optout_session"]["secure"]
    assert 'property="og:url" content="https://' in await resp.text()


async def test_language_by_accept_language_query_and_picker(web_client) -> None:
    client = await web_client()
    german = await client.get("/", headers={"Accept-Language": "fr-CH;q=0.5, de-DE, en;q=0.8"})
    page = await german.text()
    assert '<html lang="de">' in page and "Hallo!" in page and "Vergiss mich" in page
    spanish = await client.get("/claude?lang=es")
    assert '<html lang="es">' in await spanish.text() and spanish.cookies["optout_lang"].value == "es"
    page = await spanish.text()
    resp = await client.post("/language", data={"csrf": csrf(page), "lang": "fr", "path": "/claude"},
                             allow_redirects=False)
    assert resp.status == 303 and resp.cookies["optout_lang"].value == "fr"
    french = await (await client.get(resp.headers["Location"])).text()
    assert '<html lang="fr">' in french and lang("fr")._(texts.LANGUAGE_SET) in french


async def test_a_pack_link_has_its_title_and_open_graph(web_client) -> None:
    client = await web_client()
    page = await (await client.get("/chatgpt")).text()
    assert "<title>ChatGPT: the “Improve the model for everyone” setting · Opt-Out Assistant</title>" in page
    assert 'property="og:title" content="ChatGPT: the' in page and '/chatgpt">' in page
    missing = await client.get("/no-such-pack")
    assert missing.status == 404 and lang("en")._(web_texts.NOT_FOUND) in await missing.text()


async def test_forget_me_confirms_erases_and_drops_the_cookie(web_client, services) -> None:
    client = await web_client()
    nothing = await (await web_client()).get("/forget")
    assert lang("en")._(web_texts.NOTHING_STORED) in await nothing.text()
    await client.get("/")
    session = client.session.cookie_jar.filter_cookies(client.make_url("/"))["optout_session"].value
    assert await services.storage.get_user(UserKey("web", session), "claude") is not None
    ask = await (await client.get("/forget")).text()
    assert "Erase everything I have about you?" in ask
    resp = await client.post("/claude", data={"csrf": csrf(ask), "b": buttons(ask)["Yes, erase everything"]},
                             allow_redirects=False)
    assert resp.status == 303 and resp.cookies["optout_session"]["max-age"] == "0"
    done = await (await client.get(resp.headers["Location"])).text()
    assert "I've erased everything I had about you" in done
    assert await services.storage.get_user(UserKey("web", session), "claude") is None


async def test_the_calendar_file_has_one_event_per_reminder(web_client) -> None:
    client = await web_client()
    resp = await client.get("/calendar.ics?offer=cb:P1M&lang=de")
    assert resp.status == 200 and resp.content_type == "text/calendar"
    assert "attachment" in resp.headers["Content-Disposition"]
    events = icalendar.Calendar.from_ical(await resp.read()).walk("VEVENT")
    assert len(events) == 1
    assert events[0].decoded("dtstart") == AFTER.replace(month=12, day=22)
    assert str(events[0]["summary"]) == (
        "Opt-Out-Assistent: 22. Dezember 2026: eine Nachfrage, damit du die Einstellung noch einmal prüfst")
    assert (await client.get("/calendar.ics?offer=dl")).status == 404  # the 2025 deadlines have passed


async def test_two_instances_on_one_database_serve_the_same_session(web_client) -> None:
    one, two = await web_client(), await web_client()
    page = await (await one.get("/")).text()
    resp = await one.post("/claude", data={"csrf": csrf(page), "b": buttons(page)["🧭 Help me decide"]},
                          allow_redirects=False)
    cookie = one.session.cookie_jar.filter_cookies(one.make_url("/"))["optout_session"].value
    # The other instance never saw this view: it shows the step the person is at, from the database.
    other = await two.get(resp.headers["Location"], cookies={"optout_session": cookie})
    assert ACCOUNT in await other.text()


async def test_optout_bot_run_serves_the_web_chat_with_web_port_alone(tmp_path: Path) -> None:
    port = free_port()
    env = bot_env(tmp_path, WEB_PORT=str(port), CONTENT_PATH=None, TELEGRAM_BOT_TOKEN=None, DISCORD_BOT_TOKEN=None)
    proc = await asyncio.create_subprocess_exec(str(BOT), "run", cwd=tmp_path, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    try:
        page = ""
        deadline = asyncio.get_running_loop().time() + 20
        async with aiohttp.ClientSession() as http:
            while not page:
                try:
                    async with http.get(f"http://127.0.0.1:{port}/") as resp:
                        page = await resp.text()
                except aiohttp.ClientConnectionError:
                    assert proc.returncode is None, (await proc.stdout.read()).decode()  # type: ignore[union-attr]
                    assert asyncio.get_running_loop().time() < deadline, "the web chat did not answer in 20 s"
                    await asyncio.sleep(0.05)
        assert START in page
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 10) == 0


async def test_continue_in_telegram_appears_once_the_telegram_bot_runs(services) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from bot.compose import web_platform

    class Telegram:  # what the root reads of the started Telegram platform
        name, username = "telegram", None

    telegram = Telegram()
    platform = web_platform(services, [telegram])  # type: ignore[list-item]
    async with TestClient(TestServer(platform.chat.application())) as client:  # type: ignore[attr-defined]
        assert "Continue in Telegram" not in await (await client.get("/chatgpt")).text()
        telegram.username = "OptOutBot"  # type: ignore[assignment]
        page = await (await client.get("/chatgpt")).text()
        assert '<a class="button" href="https://t.me/OptOutBot?start=chatgpt"' in page and "Continue in Telegram" in page


def test_a_busy_or_malformed_web_port_stops_run_with_one_line(tmp_path: Path) -> None:
    import socket

    from tests.ops.helpers import run_bot

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        run = run_bot(["run"], tmp_path, WEB_PORT=str(port), timeout=30)
    assert run.returncode != 0
    assert f"WEB_PORT: cannot listen on 127.0.0.1:{port}" in run.stderr and "Traceback" not in run.stderr
    bad = run_bot(["run"], tmp_path, WEB_PORT="eighty")
    assert bad.returncode != 0 and "WEB_PORT" in bad.stderr and "Traceback" not in bad.stderr


async def test_before_the_deadline_the_calendar_file_holds_each_deadline_reminder(web_client, services) -> None:
    from datetime import UTC, datetime, timedelta

    await services.clock.set(datetime(2025, 9, 20, 12, 0, tzinfo=UTC))
    client = await web_client()
    resp = await client.get("/calendar.ics?offer=dl")
    events = icalendar.Calendar.from_ical(await resp.read()).walk("VEVENT")
    # The final deadline's two reminders, 7 days and 1 day before (the first date has none).
    final = services.guide.deadline("final").at
    starts = sorted(e.decoded("dtstart") for e in events)
    assert starts == [final - timedelta(days=7), final - timedelta(days=1)]
    assert all("8 October 2025" in str(e["summary"]) for e in events)


async def test_check_all_pages_carry_the_guide_they_show(web_client) -> None:
    # "Continue" in "Check all my assistants" opens another guide: its address and heading follow it.
    client = await web_client()
    page = await (await client.get("/")).text()
    page, _ = await press(client, page, "🧩 Other assistants")
    page, _ = await press(client, page, "✅ Check all my assistants")
    page, url = await press(client, page, "⬜ ChatGPT")
    assert url.startswith("/claude?v=") and "☑️ ChatGPT" in page
    page, url = await press(client, page, "Continue ➡")
    assert url.startswith("/chatgpt?v="), url
    assert "<title>ChatGPT: the “Improve the model for everyone” setting" in page
    assert 'action="/chatgpt"' in page
