"""`content watch` against a local site: what a maintainer reads in the report for each kind of page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.metrics import SOURCE_CHANGES
from bot.storage import MemoryStorage
from bot.watch.fetch import USER_AGENT, PoliteFetcher
from bot.watch.watch import SourceWatch, WatchReport, watched_sources
from tests.watch.site import PARAGRAPHS, Page, Site, article, write_pack

T0 = datetime(2026, 12, 6, 6, tzinfo=UTC)


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    async with Site() as s:
        yield s


class Watcher:
    """One database and clock across runs, as cron running `optout-bot content watch` every day."""

    def __init__(self, site: Site, folder: Path, timeout: float = 5.0) -> None:
        self.site = site
        self.folder = folder
        self.timeout = timeout
        self.storage = MemoryStorage()
        self.clock = ManualClock(T0)

    async def run(self, **sources: str) -> WatchReport:
        pack = write_pack(self.folder, "demo", {sid.replace("_", "-"): self.site.url(path) for sid, path in sources.items()})
        fetcher = PoliteFetcher(timeout=self.timeout, host_gap=0)
        report = await SourceWatch(self.storage, self.clock, fetcher=fetcher).run(watched_sources([pack]))
        await self.clock.advance(timedelta(days=1))
        return report


@pytest.fixture
def watcher(site: Site, tmp_path: Path) -> Watcher:
    return Watcher(site, tmp_path)


def only_line(report: WatchReport) -> str:
    lines = report.lines()
    assert len(lines) >= 2, lines
    return lines[0]


async def test_an_unchanged_page_is_quiet_after_its_first_read(site: Site, watcher: Watcher) -> None:
    site.pages["/faq"] = Page(article())
    first = await watcher.run(faq="/faq")
    assert first.exit_code == 0
    assert first.lines() == ["checked 1 source(s): 0 changed, 0 failed, 1 unchanged (1 read for the first time)"]
    again = await watcher.run(faq="/faq")
    assert again.exit_code == 0
    assert again.lines() == ["checked 1 source(s): 0 changed, 0 failed, 1 unchanged"]


async def test_a_changed_article_is_one_line_with_its_facts_and_a_short_diff(site: Site, watcher: Watcher) -> None:
    site.pages["/faq"] = Page(article())
    site.pages["/other"] = Page(article(PARAGRAPHS[::-1]))
    await watcher.run(faq="/faq", other="/other")
    before = SOURCE_CHANGES.labels(kind="changed")._value.get()
    changed = [*PARAGRAPHS[:2], PARAGRAPHS[2].replace("thirty days", "ninety days")]
    site.pages["/faq"] = Page(article(changed))

    report = await watcher.run(faq="/faq", other="/other")
    assert report.exit_code == 1
    lines = report.lines()
    assert lines[0] == f"demo faq (CG1, CG2, CG10): main text changed {site.url('/faq')}"
    diff = [line.strip() for line in lines[1:-1]]
    assert diff[:2] == ["--- before", "+++ now"]
    # A sentence a line: the changed sentence, its neighbours as context, not the whole paragraph twice.
    assert diff[2:] == [
        "@@ -5,3 +5,3 @@",
        "Turning the setting off does not remove them from models that were trained earlier.",
        "-Temporary chats are never used to train our models and are deleted after thirty days.",
        "+Temporary chats are never used to train our models and are deleted after ninety days.",
        "Business plans such as Team and Enterprise are not used for training by default.",
    ]
    assert not any("Related" in line or "cookies" in line for line in lines)
    assert lines[-1] == "checked 2 source(s): 1 changed, 0 failed, 1 unchanged"
    assert SOURCE_CHANGES.labels(kind="changed")._value.get() == before + 1

    # The new text is the baseline now: the next run has nothing to say.
    assert (await watcher.run(faq="/faq", other="/other")).exit_code == 0


async def test_a_long_change_shows_a_short_diff(site: Site, watcher: Watcher) -> None:
    site.pages["/faq"] = Page(article([f"Paragraph {i} says something about the setting and its effect." for i in range(40)]))
    await watcher.run(faq="/faq")
    site.pages["/faq"] = Page(article([f"Paragraph {i} now says something else entirely, for a test." for i in range(40)]))
    lines = (await watcher.run(faq="/faq")).lines()
    assert len(lines) == 1 + 13 + 1  # the line, 12 diff lines and how many more, the total
    assert lines[-2].strip().startswith("… ") and lines[-2].endswith("more diff line(s)")


async def test_chrome_alone_is_no_change(site: Site, watcher: Watcher) -> None:
    site.pages["/faq"] = Page(article())
    await watcher.run(faq="/faq")
    # Only the footer's date, the cookie banner and the related articles differ.
    site.pages["/faq"] = Page(article(updated="6 December 2026", cookie="This site uses cookies and similar tech",
                                      related=("What is Temporary Chat?", "Export your data", "Billing FAQ")))
    assert (await watcher.run(faq="/faq")).lines() == ["checked 1 source(s): 0 changed, 0 failed, 1 unchanged"]
    # A date stamp on a line of its own inside the article is chrome too; a date in a sentence is not.
    site.pages["/faq"] = Page(article(["Last updated: 6 December 2026", *PARAGRAPHS]))
    assert (await watcher.run(faq="/faq")).exit_code == 0
    # A help centre's "Updated over a week ago" under the title ages by itself.
    site.pages["/faq"] = Page(article(["Updated over a week ago", *PARAGRAPHS]))
    assert (await watcher.run(faq="/faq")).exit_code == 0
    site.pages["/faq"] = Page(article(["Updated over 2 weeks ago", *PARAGRAPHS]))
    assert (await watcher.run(faq="/faq")).exit_code == 0
    site.pages["/faq"] = Page(article([*PARAGRAPHS, "From 6 December 2026 the setting is on for everyone."]))
    assert (await watcher.run(faq="/faq")).changed


async def test_a_missing_page_is_reported_and_the_last_good_text_kept(site: Site, watcher: Watcher) -> None:
    site.pages["/faq"] = Page(article())
    await watcher.run(faq="/faq")
    del site.pages["/faq"]
    report = await watcher.run(faq="/faq")
    assert report.exit_code == 1
    assert report.lines() == [
        f"demo faq (CG1, CG2, CG10): not found (HTTP 404) {site.url('/faq')}",
        "checked 1 source(s): 0 changed, 1 failed, 0 unchanged",
    ]
    # Back, with a change made meanwhile: compared with the text read before the 404.
    site.pages["/faq"] = Page(article(PARAGRAPHS[:2]))
    assert [r.source.source_id for r in (await watcher.run(faq="/faq")).changed] == ["faq"]


async def test_a_server_error_is_reported(site: Site, watcher: Watcher) -> None:
    site.pages["/faq"] = Page("<html><body>oops</body></html>", status=503)
    assert only_line(await watcher.run(faq="/faq")) == f"demo faq (CG1, CG2, CG10): the server answered HTTP 503 {site.url('/faq')}"


async def test_a_redirect_to_another_page_is_reported_one_within_the_page_followed(site: Site, watcher: Watcher) -> None:
    site.pages["/moved"] = Page("", status=301, headers={"Location": "/articles/12345-data-controls"})
    site.pages["/articles/12345-data-controls"] = Page(article())
    site.pages["/faq"] = Page("", status=308, headers={"Location": "/faq/"})
    site.pages["/faq/"] = Page(article())
    report = await watcher.run(moved="/moved", faq="/faq")
    assert report.exit_code == 1
    assert report.lines()[0] == (
        f"demo moved (CG1, CG2, CG10): redirects to another page, {site.url('/articles/12345-data-controls')}; "
        f"update the pack's address: {site.url('/moved')}"
    )
    assert [r.outcome for r in report.results] == ["redirect", "first"]
    assert site.hits("/articles/12345-data-controls") == []  # the other page is not read in its place


async def test_a_slow_page_times_out(site: Site, tmp_path: Path) -> None:
    watcher = Watcher(site, tmp_path, timeout=0.3)
    site.pages["/slow"] = Page(article(), delay=3.0)
    site.pages["/faq"] = Page(article())
    report = await watcher.run(slow="/slow", faq="/faq")
    assert report.lines()[0] == f"demo slow (CG1, CG2, CG10): timed out (no answer within 0.3 s) {site.url('/slow')}"
    assert [r.outcome for r in report.results] == ["timeout", "first"]
    assert report.exit_code == 1


async def test_an_oversize_page_is_not_read(site: Site, watcher: Watcher) -> None:
    huge = article(["A long paragraph about the setting, repeated to make the page heavy. " * 40] * 1000)
    assert len(huge) > 2 * 1024 * 1024
    site.pages["/big"] = Page(huge)
    site.pages["/streamed"] = Page(huge, chunked=True)  # no Content-Length: the limit stops the read
    report = await watcher.run(big="/big", streamed="/streamed")
    assert [line.split(": ", 1)[1] for line in report.lines()[:2]] == [
        f"too large to read (larger than 2 MB) {site.url('/big')}",
        f"too large to read (larger than 2 MB) {site.url('/streamed')}",
    ]
    assert report.exit_code == 1


async def test_a_file_that_is_not_html_is_reported(site: Site, watcher: Watcher) -> None:
    site.pages["/terms.pdf"] = Page(b"%PDF-1.7 ...", content_type="application/pdf")
    report = await watcher.run(terms="/terms.pdf")
    assert only_line(report) == f"demo terms (CG1, CG2, CG10): not an HTML page (application/pdf) {site.url('/terms.pdf')}"
    assert report.exit_code == 1


async def test_a_page_that_needs_javascript_is_reported(site: Site, watcher: Watcher) -> None:
    site.pages["/app"] = Page('<html><body><div id="root"></div><script src="/app.js"></script></body></html>')
    assert "no main text found (the page may need JavaScript)" in only_line(await watcher.run(app="/app"))
    assert site.hits("/app.js") == []  # no script is fetched, let alone run


async def test_robots_txt_is_respected(site: Site, watcher: Watcher) -> None:
    site.robots = "User-agent: *\nDisallow: /private/\n\nUser-agent: OptOutAssistant\nDisallow: /help/\n"
    site.pages["/help/faq"] = Page(article())
    site.pages["/private/faq"] = Page(article())
    site.pages["/blog/post"] = Page(article())
    report = await watcher.run(help="/help/faq", private="/private/faq", blog="/blog/post")
    assert report.lines()[0] == f"demo help (CG1, CG2, CG10): not fetched: robots.txt disallows it {site.url('/help/faq')}"
    assert [r.outcome for r in report.results] == ["robots", "first", "first"]  # its own group replaces "*"
    assert site.hits("/help/faq") == []
    assert len(site.hits("/robots.txt")) == 1  # read once per run and host


async def test_conditional_requests_get_304_and_count_as_unchanged(site: Site, watcher: Watcher) -> None:
    modified = "Tue, 01 Dec 2026 10:00:00 GMT"
    site.pages["/faq"] = Page(article(), etag='"v1"', headers={"Last-Modified": modified})
    await watcher.run(faq="/faq")
    report = await watcher.run(faq="/faq")
    assert report.lines() == ["checked 1 source(s): 0 changed, 0 failed, 1 unchanged"]
    first, second = site.hits("/faq")
    assert "If-None-Match" not in first
    assert second["If-None-Match"] == '"v1"' and second["If-Modified-Since"] == modified
    # A new version of the page: a full answer again, and a change.
    site.pages["/faq"] = Page(article(PARAGRAPHS[1:]), etag='"v2"')
    assert (await watcher.run(faq="/faq")).changed
    assert site.hits("/faq")[-1]["If-None-Match"] == '"v1"'
    await watcher.run(faq="/faq")
    assert site.hits("/faq")[-1]["If-None-Match"] == '"v2"'


async def test_one_request_at_a_time_per_host_with_a_user_agent_that_names_the_project(
    site: Site, watcher: Watcher
) -> None:
    for i in range(6):
        site.pages[f"/p{i}"] = Page(article(), delay=0.05)
    report = await watcher.run(**{f"p{i}": f"/p{i}" for i in range(6)})
    assert len(report.results) == 6 and not report.failed
    assert site.most_at_once == 1
    assert {headers["User-Agent"] for _, headers in site.requests} == {USER_AGENT}
    assert "Opt-Out Assistant" in USER_AGENT


async def test_a_pause_between_requests_to_one_host(site: Site, tmp_path: Path) -> None:
    for name in "abc":
        site.pages[f"/{name}"] = Page(article())
    pack = write_pack(tmp_path, "demo", {name: site.url(f"/{name}") for name in "abc"})
    import time

    started = time.monotonic()
    await SourceWatch(MemoryStorage(), ManualClock(T0), fetcher=PoliteFetcher(host_gap=0.2)).run(watched_sources([pack]))
    assert time.monotonic() - started >= 0.4  # robots.txt, then /a, /b and /c: a pause before /b and /c


def test_every_shipped_source_is_watched_with_the_facts_that_cite_it() -> None:
    from bot.guide import load_guide
    from bot.watch.watch import pack_paths

    content = Path(__file__).resolve().parents[2] / "content"
    watched = watched_sources(pack_paths(content / "claude.yaml"))
    expected = {(g.pack, s.id, s.url) for p in sorted(content.glob("*.yaml")) for g in [load_guide(p)] for s in g.sources}
    assert {(w.pack, w.source_id, w.url) for w in watched} == expected
    facts = {(w.pack, w.source_id): w.facts for w in watched}
    assert "CG3" in facts[("chatgpt", "temporary-chat")]
    assert {"F9", "F10", "F12"} <= set(facts[("claude", "privacy-settings")])
    assert watched[0].pack == "claude"  # CONTENT_PATH's pack first, as `run` loads them


async def test_a_source_that_cannot_be_checked_does_not_stop_the_others(site: Site, watcher: Watcher) -> None:
    site.pages["/a"] = Page(article())
    site.pages["/b"] = Page(article(PARAGRAPHS[1:]))

    class Broken(MemoryStorage):
        async def put_snapshot(self, snapshot):  # type: ignore[no-untyped-def]
            if snapshot.source_id == "a":
                raise OSError("disk full")
            await super().put_snapshot(snapshot)

    watcher.storage = Broken()
    report = await watcher.run(a="/a", b="/b")
    assert report.lines()[0] == f"demo a (CG1, CG2, CG10): could not be checked (OSError: disk full) {site.url('/a')}"
    assert [r.outcome for r in report.results] == ["error", "first"]
    assert report.exit_code == 1
