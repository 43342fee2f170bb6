"""A small web site on 127.0.0.1 for the watch's tests: pages a test can change, and a log of requests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestServer

PARAGRAPHS = [
    "To stop your conversations from being used to train our models, open Settings, then Data Controls, "
    "and switch off Improve the model for everyone. The change applies to new conversations from then on.",
    "Conversations you had before you switched it off may already have been used for training. Turning the "
    "setting off does not remove them from models that were trained earlier.",
    "Temporary chats are never used to train our models and are deleted after thirty days. Business plans "
    "such as Team and Enterprise are not used for training by default.",
]


def article(paragraphs: list[str] = PARAGRAPHS, *, updated: str = "3 December 2026", cookie: str = "We use cookies",
            related: tuple[str, ...] = ("How to export your data", "Deleting your account")) -> str:
    """A help-centre page: navigation, a cookie banner, the article, related articles and a dated footer."""
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    links = "".join(f'<li><a href="/related/{i}">{title}</a></li>' for i, title in enumerate(related))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Data Controls FAQ</title></head>
<body>
<header><nav><a href="/">Help Center</a> <a href="/search">Search</a> <a href="/contact">Contact us</a></nav></header>
<div id="cookie-banner" class="cookie-consent">{cookie} to improve your experience. <button>Accept all</button>
<button>Reject</button></div>
<main><article>
<h1>Data Controls FAQ</h1>
{body}
</article>
<aside class="related-articles"><h2>Related articles</h2><ul>{links}</ul></aside></main>
<footer><p>Updated {updated}</p><p>© 2026 Example Inc. All rights reserved.</p></footer>
</body></html>"""


@dataclass
class Page:
    body: bytes | str = ""
    status: int = 200
    content_type: str = "text/html"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering
    chunked: bool = False  # send without a Content-Length
    etag: str | None = None  # answer If-None-Match with 304 when it matches


class Site:
    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.robots: str | None = None  # None: robots.txt is a 404
        self.requests: list[tuple[str, dict[str, str]]] = []  # (path, headers) in arrival order
        self.active = 0
        self.most_at_once = 0
        self._server: TestServer | None = None

    def url(self, path: str) -> str:
        assert self._server is not None
        return str(self._server.make_url(path))

    def hits(self, path: str) -> list[dict[str, str]]:
        return [headers for p, headers in self.requests if p == path]

    async def __aenter__(self) -> Site:
        app = web.Application()
        app.router.add_route("GET", "/{tail:.*}", self._handle)
        self._server = TestServer(app, host="127.0.0.1")
        await self._server.start_server()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        await self._server.close()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append((request.path, dict(request.headers)))
        self.active += 1
        self.most_at_once = max(self.most_at_once, self.active)
        try:
            return await self._answer(request)
        finally:
            self.active -= 1

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        if request.path == "/robots.txt":
            if self.robots is None:
                return web.Response(status=404, text="no robots.txt")
            return web.Response(text=self.robots, content_type="text/plain")
        page = self.pages.get(request.path)
        if page is None:
            return web.Response(status=404, text="<html><body><h1>Not found</h1></body></html>", content_type="text/html")
        await asyncio.sleep(page.delay)
        headers = dict(page.headers)
        if page.etag is not None:
            headers["ETag"] = page.etag
            if request.headers.get("If-None-Match") == page.etag:
                return web.Response(status=304, headers=headers)
        body = page.body.encode() if isinstance(page.body, str) else page.body
        if page.chunked:
            resp = web.StreamResponse(status=page.status, headers=headers)
            resp.content_type = page.content_type
            resp.enable_chunked_encoding()
            await resp.prepare(request)
            for i in range(0, len(body), 256 * 1024):
                await resp.write(body[i:i + 256 * 1024])
            await resp.write_eof()
            return resp
        return web.Response(status=page.status, body=body, content_type=page.content_type, headers=headers)


def write_pack(folder: Path, name: str, sources: dict[str, str]) -> Path:
    """A guide pack whose sources (id -> address) are cited by two blocks with their fact comments."""
    ids = list(sources)
    lines = [
        'version: "2026.12.1"', f'title: "{name} test pack"', "start: result", "entries: {steps: result}",
        "sources:",
    ]
    for sid, url in sources.items():
        lines += [f"  - id: {sid}", f'    title: "{sid} page"', f"    url: {url}", "    seen: 2026-11-30", "    kind: vendor"]
    lines += [
        "nodes:", "  - id: result", "    kind: result", "    blocks:",
        "      # facts: CG2, CG1", "      - id: first", f"        sources: [{', '.join(ids)}]",
        '        text: "Switch it off in Settings."',
        "      # facts: CG10", "      - id: second", f"        sources: [{ids[0]}]",
        '        text: "It is not retroactive."',
    ]
    path = folder / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
