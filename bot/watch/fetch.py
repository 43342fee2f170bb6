"""Polite page fetching for the source watch: one request at a time per host, robots.txt first.

Every request names the project in its User-Agent, sends the ETag / Last-Modified it was last given,
stops at a size limit and a timeout, and runs no JavaScript (it reads the HTML the server sends). A
redirect within the same page (http to https, a trailing slash, "www.") is followed; a redirect to
another page is reported, since the source has moved and the pack's address should follow it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import aiohttp

log = logging.getLogger(__name__)

ROBOTS_NAME = "OptOutAssistant"  # the token a site's robots.txt names to address this watch
USER_AGENT = f"{ROBOTS_NAME}-SourceWatch/1.0 (the Opt-Out Assistant bot's check of the pages its guides cite)"
MAX_BYTES = 2 * 1024 * 1024
HOST_GAP = 1.0  # seconds between two requests to one host (a robots.txt Crawl-delay can lengthen it)
MAX_CRAWL_DELAY = 30.0
MAX_HOPS = 5  # redirects followed within one page (RFC 9309 asks at least five for robots.txt)
HTML_TYPES = ("text/html", "application/xhtml+xml")

# What became of a fetch.
OK, NOT_MODIFIED = "ok", "not_modified"
NOT_FOUND, HTTP_ERROR, REDIRECT, TIMEOUT = "not_found", "http_error", "redirect", "timeout"
TOO_LARGE, NOT_HTML, ROBOTS, NETWORK = "too_large", "not_html", "robots", "network"


@dataclass(frozen=True)
class Fetched:
    kind: str
    url: str  # the address finally read (after same-page redirects)
    html: str | bytes | None = None
    etag: str | None = None
    last_modified: str | None = None
    detail: str = ""  # the status code, the redirect's target, the content type...


class PoliteFetcher:
    """Fetch pages through one aiohttp session; use as ``async with PoliteFetcher() as f: await f.fetch(url)``."""

    def __init__(self, timeout: float = 20.0, max_bytes: int = MAX_BYTES, host_gap: float | None = None) -> None:
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.host_gap = HOST_GAP if host_gap is None else host_gap
        self._session: aiohttp.ClientSession | None = None
        self._turns: dict[str, asyncio.Lock] = {}
        self._last: dict[str, float] = {}
        self._robots: dict[str, RobotFileParser | str] = {}  # origin -> parser, or why it could not be read

    async def __aenter__(self) -> PoliteFetcher:
        # Each run reads robots.txt afresh: a site's rules may have changed since yesterday.
        self._robots.clear()
        # trust_env: an operator behind a proxy sets HTTPS_PROXY / NO_PROXY as for any other tool.
        self._session = aiohttp.ClientSession(
            headers={"User-Agent": USER_AGENT}, timeout=aiohttp.ClientTimeout(total=self.timeout), trust_env=True,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    async def fetch(self, url: str, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        for _ in range(MAX_HOPS + 1):
            origin = _origin(url)
            robots = await self._robots_for(origin)
            if isinstance(robots, str):
                return Fetched(ROBOTS, url, detail=robots)
            if not robots.can_fetch(USER_AGENT, url):
                return Fetched(ROBOTS, url, detail="robots.txt disallows it")
            fetched = await self._get(url, etag, last_modified, robots)
            if fetched.kind != REDIRECT or not same_page(url, fetched.detail):
                return fetched
            url = fetched.detail
        return Fetched(REDIRECT, url, detail=f"{url} (more than {MAX_HOPS} redirects)")

    async def _get(self, url: str, etag: str | None, last_modified: str | None,
                   robots: RobotFileParser | None) -> Fetched:
        headers = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1"}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        async with self._turn(_origin(url), robots):
            try:
                return await self._request(url, headers)
            except TimeoutError:
                return Fetched(TIMEOUT, url, detail=f"no answer within {self.timeout:g} s")
            except aiohttp.ClientError as exc:
                return Fetched(NETWORK, url, detail=f"{type(exc).__name__}: {exc}")

    async def _request(self, url: str, headers: dict[str, str]) -> Fetched:
        assert self._session is not None, "use PoliteFetcher as an async context manager"
        async with self._session.get(url, headers=headers, allow_redirects=False) as resp:
            if resp.status in (301, 302, 303, 307, 308):
                return Fetched(REDIRECT, url, detail=urljoin(url, resp.headers.get("Location", "")))
            if resp.status == 304:
                return Fetched(NOT_MODIFIED, url, etag=resp.headers.get("ETag"),
                               last_modified=resp.headers.get("Last-Modified"))
            if resp.status in (404, 410):
                return Fetched(NOT_FOUND, url, detail=f"HTTP {resp.status}")
            if resp.status >= 300:
                return Fetched(HTTP_ERROR, url, detail=f"HTTP {resp.status}")
            if resp.content_type not in HTML_TYPES:
                return Fetched(NOT_HTML, url, detail=resp.content_type)
            if (resp.content_length or 0) > self.max_bytes:
                return Fetched(TOO_LARGE, url, detail=_size(self.max_bytes))
            body = bytearray()
            async for chunk in resp.content.iter_chunked(64 * 1024):
                body += chunk
                if len(body) > self.max_bytes:
                    return Fetched(TOO_LARGE, url, detail=_size(self.max_bytes))
            charset = resp.charset
            html: str | bytes = bytes(body)
            if charset:
                try:
                    html = body.decode(charset, errors="replace")
                except LookupError:  # an unknown charset name: let the extractor guess from the bytes
                    pass
            return Fetched(OK, url, html=html, etag=resp.headers.get("ETag"),
                           last_modified=resp.headers.get("Last-Modified"))

    def _turn(self, origin: str, robots: RobotFileParser | None) -> _HostTurn:
        """The host's turn for a page (after a pause since its last page), or for robots.txt (no pause: it
        comes first, as with every crawler)."""
        if robots is None:
            return _HostTurn(self, origin, gap=None)
        delay = robots.crawl_delay(USER_AGENT)
        return _HostTurn(self, origin, max(self.host_gap, min(float(delay or 0), MAX_CRAWL_DELAY)))

    async def _robots_for(self, origin: str) -> RobotFileParser | str:
        """The origin's robots.txt, read once per run (RFC 9309: a 4xx means no rules, a 5xx or no
        answer means stay away)."""
        if origin not in self._robots:
            async with self._turn(origin, None):
                if origin not in self._robots:
                    self._robots[origin] = await self._read_robots(origin)
        return self._robots[origin]

    async def _read_robots(self, origin: str) -> RobotFileParser | str:
        assert self._session is not None
        parser = RobotFileParser(f"{origin}/robots.txt")
        try:
            async with self._session.get(f"{origin}/robots.txt", max_redirects=MAX_HOPS) as resp:
                if 400 <= resp.status < 500:
                    parser.parse([])
                    return parser
                if resp.status >= 300:
                    return f"robots.txt answered HTTP {resp.status}"
                body = await resp.content.read(self.max_bytes)
        except TimeoutError:
            return f"robots.txt: no answer within {self.timeout:g} s"
        except aiohttp.ClientError as exc:
            return f"robots.txt could not be read ({type(exc).__name__}: {exc})"
        parser.parse(body.decode("utf-8", errors="replace").splitlines())
        return parser


class _HostTurn:
    """Hold the host's one request slot, and keep ``gap`` seconds after the host's previous page (None: a
    request that neither waits nor counts as a page)."""

    def __init__(self, fetcher: PoliteFetcher, origin: str, gap: float | None) -> None:
        self._fetcher = fetcher
        self._origin = origin
        self._gap = gap
        self._lock = fetcher._turns.setdefault(origin, asyncio.Lock())

    async def __aenter__(self) -> None:
        await self._lock.acquire()
        loop = asyncio.get_running_loop()
        last = self._fetcher._last.get(self._origin)
        if last is not None and self._gap:
            # Politeness towards a real server is real time: the injected clock is for the daily schedule.
            await asyncio.sleep(max(0.0, last + self._gap - loop.time()))

    async def __aexit__(self, *exc: object) -> None:
        if self._gap is not None:
            self._fetcher._last[self._origin] = asyncio.get_running_loop().time()
        self._lock.release()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _page(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    return host, parts.path.rstrip("/") or "/", parts.query


def same_page(a: str, b: str) -> bool:
    """Tell whether two addresses name one page (scheme, "www." and a trailing slash aside)."""
    return _page(a) == _page(b)


def _size(n: int) -> str:
    return f"larger than {n / 1024 / 1024:g} MB" if n >= 1024 * 1024 else f"larger than {n:,} bytes"
