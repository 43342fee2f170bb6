"""CONTENT_WATCH=daily: `run`'s serve loop watches once a day under the lease and posts to the operator chat
(Telegram, through the fake Bot API), on a clock the test moves."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from bot.clock import ManualClock
from bot.compose import build_services, create_platforms, serve
from bot.metrics import SOURCE_CHANGES
from bot.settings import load_settings
from bot.watch.daily import LEASE, operator_message
from bot.watch.watch import SourceResult, WatchedSource, WatchReport
from tests.fakes.telegram_api import FakeBotAPI
from tests.watch.site import PARAGRAPHS, Page, Site, article, write_pack

T0 = datetime(2026, 12, 6, 6, tzinfo=UTC)
OPERATOR = 7_000_001


async def _eventually(check, what: str, within: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not check():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def test_run_watches_daily_under_the_lease_and_posts_to_the_operator_chat(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.INFO, logger="bot.watch")
    monkeypatch.setattr("bot.watch.fetch.HOST_GAP", 0.0)  # the pause itself is tested in test_watch.py
    async with FakeBotAPI() as fake, Site() as site:
        site.pages["/faq"] = Page(article())
        site.pages["/gone"] = Page(article(PARAGRAPHS[:1]))
        pack = write_pack(tmp_path, "demo", {"faq": site.url("/faq"), "gone": site.url("/gone")})
        settings = load_settings(
            env_file=None, telegram_bot_token=fake.token, telegram_api_base_url=fake.base_url, content_path=pack,
            database_url=f"sqlite:///{tmp_path / 'bot.db'}", health_port=0, content_watch="daily",
            content_watch_timeout=2, operator_telegram_chat_id=str(OPERATOR), instance_name="bot-1",
        )
        clock = ManualClock(T0)
        services = await build_services(settings, clock=clock)
        operator = fake.user(OPERATOR, "Operator")
        # Another instance on this database ran today's watch (its lease lapses at noon).
        assert await services.storage.take_lease(LEASE, "bot-2:x", T0, T0 + timedelta(hours=6))
        serving = asyncio.create_task(serve(services, create_platforms(services)))
        try:
            await _eventually(lambda: "another instance holds today's run" in caplog.text, "the lease to be seen")
            assert site.requests == [] and operator.pending() == []

            # A day on, the other lease has lapsed: this instance reads every source once and says so.
            await clock.advance(timedelta(days=1))
            first = await operator.pop_message()
            assert first.text.startswith("Source watch: checked 2 source(s): 0 changed, 0 failed, 2 unchanged"
                                         " (2 read for the first time)")
            assert len(site.hits("/faq")) == 1

            changed = [*PARAGRAPHS[:2], PARAGRAPHS[2].replace("thirty days", "ninety days")]
            site.pages["/faq"] = Page(article(changed))
            del site.pages["/gone"]
            before = SOURCE_CHANGES.labels(kind="changed")._value.get()
            await clock.advance(timedelta(days=1))
            report = (await operator.pop_message()).text.splitlines()
            assert report[0] == "Source watch: checked 2 source(s): 1 changed, 1 failed, 0 unchanged"
            assert report[1] == f"demo faq (CG1, CG2, CG10): main text changed {site.url('/faq')}"
            assert "\u2212Temporary chats are never used to train our models and are deleted after thirty days." in [
                line.strip() for line in report]
            assert "+Temporary chats are never used to train our models and are deleted after ninety days." in [
                line.strip() for line in report]
            assert f"demo gone (CG1, CG2): not found (HTTP 404) {site.url('/gone')}" in report
            assert "bump its version and add a changes note" in report[-1]
            assert SOURCE_CHANGES.labels(kind="changed")._value.get() == before + 1
            exposed = generate_latest().decode()  # what /metrics serves
            assert 'optout_source_changes_total{kind="changed"}' in exposed
            assert 'optout_source_changes_total{kind="not_found"}' in exposed

            # Nothing new the next day: no message (the 404 is fixed).
            site.pages["/gone"] = Page(article(PARAGRAPHS[:1]))
            hits = len(site.requests)
            await clock.advance(timedelta(days=1))
            await _eventually(lambda: len(site.requests) >= hits + 2, "the third daily run")
            await asyncio.sleep(0.2)
            assert operator.pending() == []
        finally:
            signal.raise_signal(signal.SIGTERM)  # as Docker stops the bot; serve's handler takes it
            assert await asyncio.wait_for(serving, 15) == 0
            await services.storage.close()


def test_a_quiet_day_posts_nothing_and_diff_minus_lines_stay_plain_text() -> None:
    source = WatchedSource("demo", "faq", "http://127.0.0.1/faq", ("CG1",))
    assert operator_message(WatchReport([SourceResult(source, "unchanged")])) is None
    text = operator_message(WatchReport([SourceResult(source, "changed", diff=("--- before", "+++ now", "@@ -1 +1 @@",
                                                                               "-- an old list item", "+- a new one"))]))
    assert text is not None
    assert "  \u2212- an old list item" in text.splitlines()


def test_the_watch_settings_are_checked_with_one_line_each() -> None:
    from bot.events import Recipient
    from bot.settings import SettingsError
    from bot.watch.daily import operator_recipients

    with pytest.raises(SettingsError, match=r"^CONTENT_WATCH: Input should be 'off' or 'daily'"):
        load_settings(env_file=None, content_watch="weekly")
    with pytest.raises(SettingsError, match=r"^OPERATOR_TELEGRAM_CHAT_ID: "):
        load_settings(env_file=None, operator_telegram_chat_id="@me")
    settings = load_settings(env_file=None, content_watch=" Daily ", operator_telegram_chat_id="-1001234",
                             operator_discord_channel_id="987654321", content_watch_timeout="7.5")
    assert settings.content_watch == "daily" and settings.content_watch_timeout == 7.5
    assert operator_recipients(settings) == [Recipient("telegram", "user", "-1001234"),
                                             Recipient("discord", "channel", "987654321")]
    assert operator_recipients(load_settings(env_file=None, operator_telegram_chat_id="")) == []


def test_a_long_summary_is_cut_for_the_chat_and_logged_whole(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.watch")
    results = [SourceResult(WatchedSource("demo", f"s{i}", f"http://127.0.0.1/{i}", ("CG1",)), "changed",
                            diff=("--- before", "+++ now", "@@ -1 +1 @@", f"-old sentence {i} " + "x" * 250,
                                  f"+new sentence {i} " + "y" * 250)) for i in range(40)]
    text = operator_message(WatchReport(results))
    assert text is not None and len(text) < 8500
    lines = text.splitlines()
    assert lines[-2].startswith("… ") and lines[-2].endswith("more line(s): the whole report is in the bot's log.")
    assert "bump its **version**" in lines[-1]
    assert "+new sentence 39 " in caplog.text  # the part the chat did not get
