"""The source watch's cost: a run over as many pages as the shipped packs cite, served on 127.0.0.1.

    .venv/bin/python bench/watch.py [--pages 43] [--hosts 20] [--kb 120] [--database sqlite]

Each "host" is a server on its own port (its own origin, robots.txt and turn). Prints, per run, the wall
time and the CPU time of the process, for a first run (every page read and extracted), a second one
(every page read again, nothing changed), one against servers answering 304 to the ETag, and one with
the default pause between two requests to a host; then the process's peak memory (max RSS). The test
servers run in the same process, so the CPU figures include serving the pages (an upper bound).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.clock import ManualClock
from bot.storage import open_backend
from bot.watch.fetch import HOST_GAP, PoliteFetcher
from bot.watch.watch import SourceWatch, watched_sources
from tests.watch.site import PARAGRAPHS, Page, Site, article, write_pack


def heavy_page(i: int, kb: int) -> str:
    """An article inside the weight of a real help-centre page (scripts, styles, menus)."""
    chrome = "<script>/* analytics */ var x = '" + "a" * 1000 + "';</script>\n"
    menu = "".join(f'<li><a href="/c/{n}">Category {n}</a></li>' for n in range(60))
    page = article([f"Page {i}. {p}" for p in PARAGRAPHS * 3]).replace("<nav>", f"<nav><ul>{menu}</ul>")
    pad = max(0, kb * 1024 - len(page)) // len(chrome) + 1
    return page.replace("</head>", chrome * pad + "</head>")


async def timed(what: str, watch: SourceWatch, sources) -> None:
    wall, cpu = time.perf_counter(), time.process_time()
    report = await watch.run(sources)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{what}: {wall:.2f} s wall, {cpu:.2f} s CPU ({cpu / len(sources) * 1000:.1f} ms CPU a page); {report.summary()}")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=43)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--kb", type=int, default=120)
    parser.add_argument("--database", choices=("sqlite", "memory"), default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        sites = [await Site().__aenter__() for _ in range(args.hosts)]
        try:
            urls = {}
            for i in range(args.pages):
                site = sites[i % args.hosts]
                site.pages[f"/p{i}"] = Page(heavy_page(i, args.kb), etag=f'"{i}"')
                urls[f"p{i}"] = site.url(f"/p{i}")
            sources = watched_sources([write_pack(Path(tmp), "bench", urls)])
            url = f"sqlite:///{tmp}/bench.db" if args.database == "sqlite" else "memory://"
            storage = await open_backend(url)
            clock = ManualClock(datetime(2026, 12, 6, tzinfo=UTC))
            print(f"{args.pages} pages of {args.kb} KB on {args.hosts} hosts, {args.database}")
            watch = SourceWatch(storage, clock, fetcher=PoliteFetcher(host_gap=0))
            await timed("first run, every page read and extracted", watch, sources)
            for site in sites:
                for page in site.pages.values():
                    page.etag = None
            await timed("second run, every page read again, unchanged", watch, sources)
            for i, site in enumerate(sites):
                for path, page in site.pages.items():
                    page.etag = f'"{path}-{i}"'
            await timed("third run, new ETags (pages read)", watch, sources)
            await timed("fourth run, 304 Not Modified", watch, sources)
            await timed(f"fifth run, {HOST_GAP:g} s between two requests to a host (as shipped)",
                        SourceWatch(storage, clock, fetcher=PoliteFetcher()), sources)
            await storage.close()
        finally:
            for site in sites:
                await site.__aexit__()
    print(f"peak memory (max RSS): {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    asyncio.run(main())
