"""The watch itself: each pack source fetched, its main text compared with the stored snapshot, a report.

A failure (404, a redirect to another page, a timeout...) leaves the snapshot as it was, so the text
is compared with the last good read once the page answers again; it is reported on every run until
the page answers or the pack's address is fixed, so that cron and CI keep failing meanwhile.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.clock import Clock
from bot.content_facts import CHANGES, read_fact_comments
from bot.guide import load_guide
from bot.metrics import SOURCE_CHANGES
from bot.storage.base import SourceSnapshot, SourceSnapshots
from bot.watch.extract import main_text
from bot.watch.fetch import (
    HTTP_ERROR,
    NETWORK,
    NOT_FOUND,
    NOT_HTML,
    NOT_MODIFIED,
    OK,
    REDIRECT,
    ROBOTS,
    TIMEOUT,
    TOO_LARGE,
    Fetched,
    PoliteFetcher,
)

log = logging.getLogger(__name__)

DIFF_LINES = 12  # of a changed source's diff, at most (the report says how many more)
LINE_WIDTH = 300  # a long paragraph is cut here, which keeps a phone-sized summary readable
NO_TEXT = "no_text"  # fetched, but no main text in the HTML (a page that needs JavaScript)
ERROR = "error"  # something unforeseen while checking it (a database error, an extractor bug)

# Report outcomes beside the failure kinds of bot.watch.fetch.
CHANGED, UNCHANGED, FIRST = "changed", "unchanged", "first"


@dataclass(frozen=True)
class WatchedSource:
    pack: str
    source_id: str
    url: str
    facts: tuple[str, ...]  # the fact ids of the blocks (and changes note) that cite it


@dataclass(frozen=True)
class SourceResult:
    source: WatchedSource
    outcome: str  # CHANGED, UNCHANGED, FIRST, or a failure kind
    detail: str = ""
    diff: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return self.outcome not in (CHANGED, UNCHANGED, FIRST)

    def line(self) -> str:
        s = self.source
        facts = ", ".join(s.facts) if s.facts else "no fact cites it"
        return f"{s.pack} {s.source_id} ({facts}): {describe(self.outcome, self.detail)} {s.url}"


@dataclass
class WatchReport:
    results: list[SourceResult] = field(default_factory=list)

    def of(self, *outcomes: str) -> list[SourceResult]:
        return [r for r in self.results if r.outcome in outcomes]

    @property
    def changed(self) -> list[SourceResult]:
        return self.of(CHANGED)

    @property
    def failed(self) -> list[SourceResult]:
        return [r for r in self.results if r.failed]

    @property
    def exit_code(self) -> int:
        return 1 if self.changed or self.failed else 0

    def lines(self, diff_prefix: str = "    ") -> list[str]:
        """The report for a terminal: each changed or failed source, its diff indented, then a total."""
        out: list[str] = []
        for result in self.results:
            if result.outcome in (UNCHANGED, FIRST):
                continue
            out.append(result.line())
            out.extend(diff_prefix + line for line in result.diff)
        out.append(self.summary())
        return out

    def summary(self) -> str:
        first = len(self.of(FIRST))
        tail = f" ({first} read for the first time)" if first else ""
        return (f"checked {len(self.results)} source(s): {len(self.changed)} changed, {len(self.failed)} failed, "
                f"{len(self.results) - len(self.changed) - len(self.failed)} unchanged{tail}")


def describe(outcome: str, detail: str) -> str:
    return {
        CHANGED: "main text changed",
        UNCHANGED: "unchanged",
        FIRST: "read for the first time",
        NOT_FOUND: f"not found ({detail})",
        HTTP_ERROR: f"the server answered {detail}",
        REDIRECT: f"redirects to another page, {detail}; update the pack's address:",
        TIMEOUT: f"timed out ({detail})",
        TOO_LARGE: f"too large to read ({detail})",
        NOT_HTML: f"not an HTML page ({detail})",
        ROBOTS: f"not fetched: {detail}",
        NETWORK: f"could not be reached ({detail})",
        NO_TEXT: "no main text found (the page may need JavaScript)",
        ERROR: f"could not be checked ({detail})",
    }.get(outcome, f"{outcome} {detail}".strip())


def watched_sources(pack_paths: Iterable[Path]) -> list[WatchedSource]:
    """Every source of every pack, with the fact ids that cite it (from the ``# facts:`` comments)."""
    found: list[WatchedSource] = []
    for path in pack_paths:
        guide = load_guide(path)
        comments = read_fact_comments(path.read_text(encoding="utf-8")).by_block
        facts: dict[str, set[str]] = {s.id: set() for s in guide.sources}
        cited = [(b.id, b.sources) for n in guide.nodes for b in n.blocks]
        if guide.changes is not None:
            cited.append((CHANGES, guide.changes.sources))
        for key, sources in cited:
            for source in sources:
                facts.setdefault(source, set()).update(comments.get(key) or ())
        found.extend(WatchedSource(guide.pack, s.id, s.url, tuple(sorted(facts[s.id], key=_fact_order)))
                     for s in guide.sources)
    return found


def _fact_order(fact: str) -> tuple[str, int]:
    letters = fact.rstrip("0123456789")
    return letters, int(fact[len(letters):] or 0)


class SourceWatch:
    def __init__(self, snapshots: SourceSnapshots, clock: Clock, *, timeout: float = 20.0,
                 fetcher: PoliteFetcher | None = None) -> None:
        self._snapshots = snapshots
        self._clock = clock
        self._fetcher = fetcher or PoliteFetcher(timeout=timeout)

    async def run(self, sources: list[WatchedSource]) -> WatchReport:
        """Check every source (hosts in parallel, one request at a time per host); results in ``sources`` order."""
        async with self._fetcher:
            results = await asyncio.gather(*(self._check(s) for s in sources))
        report = WatchReport(list(results))
        for result in report.results:
            if result.outcome == CHANGED or result.failed:
                SOURCE_CHANGES.labels(kind=result.outcome).inc()
        log.info("content watch: %s", report.summary())
        return report

    async def _check(self, source: WatchedSource) -> SourceResult:
        try:
            return await self._check_one(source)
        except Exception as exc:
            # One strange page or a passing database error must not cost the other sources their check.
            log.warning("content watch: %s %s could not be checked", source.pack, source.source_id, exc_info=True)
            return SourceResult(source, ERROR, f"{type(exc).__name__}: {exc}")

    async def _check_one(self, source: WatchedSource) -> SourceResult:
        old = await self._snapshots.get_snapshot(source.pack, source.source_id)
        if old is not None and old.url != source.url:
            old = None  # the pack now cites another address: its first read is a new baseline
        fetched = await self._fetcher.fetch(source.url, old.etag if old else None, old.last_modified if old else None)
        if fetched.kind == NOT_MODIFIED and old is not None:
            await self._store(source, old.text, fetched, old)
            return SourceResult(source, UNCHANGED)
        if fetched.kind != OK:
            return SourceResult(source, fetched.kind, fetched.detail)
        assert fetched.html is not None
        text = await asyncio.to_thread(main_text, fetched.html, fetched.url)
        if not text:
            return SourceResult(source, NO_TEXT)
        await self._store(source, text, fetched, old)
        if old is None:
            return SourceResult(source, FIRST)
        if text == old.text:
            return SourceResult(source, UNCHANGED)
        return SourceResult(source, CHANGED, diff=short_diff(old.text, text))

    async def _store(self, source: WatchedSource, text: str, fetched: Fetched, old: SourceSnapshot | None) -> None:
        # A 304 may omit the validators; then the ones the page was read with stay valid.
        etag = fetched.etag or (old.etag if old and fetched.kind == NOT_MODIFIED else None)
        modified = fetched.last_modified or (old.last_modified if old and fetched.kind == NOT_MODIFIED else None)
        await self._snapshots.put_snapshot(SourceSnapshot(
            source.pack, source.source_id, source.url, text, self._clock.now(), etag, modified))


# Diffed a sentence a line: a changed word in a long paragraph then shows as one short sentence, not
# as the whole paragraph twice.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[\"“'‘(\[]?[A-Z0-9])")


def sentences(text: str) -> list[str]:
    return [s for line in text.splitlines() for s in _SENTENCE_END.split(line) if s]


def short_diff(before: str, after: str, limit: int = DIFF_LINES) -> tuple[str, ...]:
    """A unified diff of two main texts, a sentence a line, one line of context, at most ``limit`` lines."""
    lines = [line.rstrip("\n") for line in difflib.unified_diff(
        sentences(before), sentences(after), "before", "now", n=1, lineterm="")]
    lines = [line if len(line) <= LINE_WIDTH else line[:LINE_WIDTH - 1] + "…" for line in lines]
    if len(lines) > limit:
        return (*lines[:limit], f"… {len(lines) - limit} more diff line(s)")
    return tuple(lines)


def pack_paths(content_path: Path, target: Path | None = None) -> list[Path]:
    """The packs to watch: ``target`` (a pack, or a directory of packs), else CONTENT_PATH and the packs beside it."""
    from bot.content_check import pack_files

    if target is not None:
        return pack_files(target) if target.is_dir() else [target]
    others = [p for p in pack_files(content_path.parent) if p.resolve() != content_path.resolve()]
    return [content_path, *others]
