"""The web chat's routes: requests in as neutral events, the engine's replies out as pages.

Post, redirect, get: a press is a POST, answered with 303 to ``/PACK?v=ID``, whose GET shows the view
that press produced. Views are kept a while in this process so that the browser's Back shows the page
it left (its buttons then belong to an earlier step, which the engine explains); a view this process
does not hold (another instance, a restart) is shown as the person's current step, read from the
database, so any instance can serve any session.
"""

from __future__ import annotations

import logging
import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from aiohttp import web

from adapters.web import guard, pages, texts
from adapters.web.calendar import ORIGIN, CalendarReminders
from adapters.web.view import View, view_of
from bot import button_data
from bot.clock import Clock
from bot.engine import Engine
from bot.events import Command, Event, Press, Start, UserKey
from bot.guide import Guide
from bot.i18n import ENGLISH, LANGUAGES, choose_language, lang

log = logging.getLogger(__name__)

PLATFORM = "web"
STATIC = Path(__file__).resolve().parent / "static"
MAX_REQUEST = 8 * 1024  # bytes: a press is under 200; nothing typed is ever sent
MAX_DATA = 200  # characters of a posted button (the grammar's own limit is 60 bytes)
VIEWS = 5_000  # views kept for Back, across sessions (a view is a few kB: at most some 25 MB)


def accept_language(header: str | None) -> str | None:
    """The first language of an Accept-Language header that we speak, by its q-values; None if none is."""
    if not header:
        return None
    ranked = []
    for i, item in enumerate(header.split(",")[:20]):
        tag, _, params = item.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and tag != "*" and q > 0:
            ranked.append((-q, i, tag.strip()))
    for _, _, tag in sorted(ranked):
        code = choose_language(tag)
        if code != ENGLISH or tag.lower().startswith("en"):
            return code
    return None


class WebChat:
    """The aiohttp application of the web chat; holds no conversation logic."""

    def __init__(self, engine: Engine, calendar: CalendarReminders, clock: Clock, *, retention_days: int,
                 session_per_minute: int, ip_per_minute: int, trust_forwarded: bool = False,
                 telegram_link: Callable[[str], str | None] = lambda pack: None) -> None:
        self.engine = engine
        self.calendar = calendar
        self.clock = clock
        self.retention_days = retention_days
        self.trust_forwarded = trust_forwarded
        self.telegram_link = telegram_link
        self.packs: dict[str, Guide] = {g.pack: g for g in engine.packs}
        self.default = engine.packs[0].pack
        self.entries = set(engine.packs[0].entries)  # /steps opens the default pack's steps
        # Each pack's title per language, worked out once (translating a guide copies all its nodes).
        self.titles = {(g.pack, code): g.in_language(code).title for g in engine.packs for code in LANGUAGES}
        self.session_limits = guard.Limits(session_per_minute)
        self.ip_limits = guard.Limits(ip_per_minute)
        self.views: OrderedDict[tuple[str, str], tuple[View, str]] = OrderedDict()

    def application(self) -> web.Application:
        app = web.Application(client_max_size=MAX_REQUEST, middlewares=[self._headers, self._limits])
        app.router.add_static("/static", STATIC)
        app.router.add_get("/calendar.ics", self.ics)
        app.router.add_get("/forget", self.forget)
        app.router.add_get("/privacy", self.privacy)
        app.router.add_post("/language", self.language)
        app.router.add_get("/", self.show)
        app.router.add_post("/", self.press)
        app.router.add_get("/{name}", self.show)
        app.router.add_post("/{name}", self.press)
        return app

    # Middlewares ------------------------------------------------------------------------------
    @web.middleware
    async def _headers(self, request: web.Request, handler: Callable) -> web.StreamResponse:
        scheme = "https" if guard.is_https(request, self.trust_forwarded) else "http"
        ORIGIN.set(f"{scheme}://{request.host}")
        try:
            response = await handler(request)
        except web.HTTPRequestEntityTooLarge:
            response = self._message(request, texts.TOO_BIG, status=413)
        except web.HTTPNotFound:
            response = self._message(request, texts.NOT_FOUND, status=404, link=True)
        except web.HTTPMethodNotAllowed:
            response = self._message(request, texts.NOT_FOUND, status=405, link=True)
        response.headers.update(guard.HEADERS)
        if not request.path.startswith("/static/"):
            # Pages are one person's: never kept by a shared cache.
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @web.middleware
    async def _limits(self, request: web.Request, handler: Callable) -> web.StreamResponse:
        if request.path.startswith("/static/"):
            return await handler(request)
        session = guard.session_of(request)
        if not await self.ip_limits.allow(guard.client_ip(request, self.trust_forwarded)) or (
            session is not None and not await self.session_limits.allow(session)
        ):
            response = self._message(request, texts.TOO_MANY, status=429)
            response.headers["Retry-After"] = "60"
            return response
        if request.content_length is not None and request.content_length > MAX_REQUEST:
            return self._message(request, texts.TOO_BIG, status=413)
        return await handler(request)

    # Language and frames ------------------------------------------------------------------------
    def _hint(self, request: web.Request) -> tuple[str | None, bool]:
        """The person's language hint (?lang=, the picker's cookie, Accept-Language), and whether ?lang= set it."""
        asked = request.query.get("lang")
        if asked in LANGUAGES:
            return asked, True
        cookie = request.cookies.get(guard.LANG_COOKIE)
        if cookie in LANGUAGES:
            return cookie, False
        return accept_language(request.headers.get("Accept-Language")), False

    def _frame(self, request: web.Request, pack: str, session: str | None, code: str) -> pages.Frame:
        return pages.Frame(
            t=lang(code), title=self.titles[(pack, code)], url=f"{ORIGIN.get()}/{pack}", action=f"/{pack}",
            csrf=guard.csrf_token(session) if session else None, telegram=self.telegram_link(pack),
        )

    def _message(self, request: web.Request, msgid: str, *, status: int, link: bool = False) -> web.Response:
        code = choose_language(self._hint(request)[0])
        frame = self._frame(request, self.default, None, code)
        t = frame.t
        html = pages.message(frame, t._(msgid), (t._(texts.START_AGAIN), "/") if link else None)
        return web.Response(text=html, status=status, content_type="text/html")

    def _respond(self, request: web.Request, view: View, pack: str, session: str | None, *,
                 new_session: bool = False, set_lang: str | None = None, kept: str | None = None) -> web.Response:
        code = choose_language(self._hint(request)[0] if set_lang is None else set_lang)
        frame = replace(self._frame(request, pack, session, code), view=kept)
        html = pages.page(frame, pages.step_html(view.parts, frame))
        response = web.Response(text=html, content_type="text/html")
        self._cookies(request, response, session if new_session else None, set_lang)
        return response

    def _cookies(self, request: web.Request, response: web.StreamResponse, session: str | None,
                 set_lang: str | None) -> None:
        secure = guard.is_https(request, self.trust_forwarded)
        if session:
            guard.set_session_cookie(response, session, secure=secure, days=self.retention_days)
        if set_lang:
            guard.set_lang_cookie(response, set_lang, secure=secure, days=self.retention_days)

    # Views --------------------------------------------------------------------------------------
    def _keep(self, session: str, view: View, pack: str) -> str:
        vid = secrets.token_urlsafe(9)
        self.views[(session, vid)] = (view, pack)
        if len(self.views) > VIEWS:
            self.views.popitem(last=False)
        return vid

    async def _handle(self, session: str, event: Event, hint: str | None) -> View:
        return view_of(await self.engine.handle(UserKey(PLATFORM, session), event, locale=hint))

    def _pack_of_path(self, name: str | None) -> str | None:
        if name is None or name in self.entries:
            return self.default
        return name if name in self.packs else None

    # Handlers -----------------------------------------------------------------------------------
    async def show(self, request: web.Request) -> web.Response:
        name = request.match_info.get("name")
        pack = self._pack_of_path(name)
        if pack is None:
            raise web.HTTPNotFound()
        session = guard.session_of(request)
        hint, from_query = self._hint(request)
        vid = request.query.get("v")
        kept = self.views.get((session or "", vid)) if vid else None
        if kept is not None:
            view, pack = kept
            return self._respond(request, view, pack, session, set_lang=hint if from_query else None)
        fresh = session is None
        session = session or guard.new_session()
        # A link opens its guide at the start (as /start does on Telegram); a view this process no
        # longer holds is shown as the step the person is at now.
        event: Event = Press(button_data.current(pack)) if vid else Start(name)
        view = await self._handle(session, event, hint)
        # With the script on, the address becomes this view's, so that Back to this page shows it
        # again rather than opening the link anew (which would start over).
        kept = f"/{pack}?v={self._keep(session, view, pack)}"
        return self._respond(request, view, pack, session, new_session=fresh, set_lang=hint if from_query else None,
                             kept=kept)

    async def press(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info.get("name")
        pack = self._pack_of_path(name)
        if pack is None:
            raise web.HTTPNotFound()
        form = await request.post()
        session = guard.session_of(request)
        pressed = form.get("b")
        if not guard.csrf_ok(session, _field(form, "csrf")) or not isinstance(pressed, str) or len(pressed) > MAX_DATA:
            return self._message(request, texts.EXPIRED, status=403, link=True)
        assert session is not None
        view = await self._handle(session, Press(pressed), self._hint(request)[0])
        # The address and heading follow the guide the engine answered in (a check-all press moves on to the next).
        return self._after_post(request, session, view, view.pack if view.pack in self.packs else pack)

    def _after_post(self, request: web.Request, session: str, view: View, pack: str) -> web.StreamResponse:
        if view.forgotten:
            # Erased: the page saying so is kept under no session, and the cookie goes.
            vid = self._keep("", view, pack)
            response = _see_other(f"/{pack}?v={vid}")
            response.del_cookie(guard.SESSION_COOKIE, path="/")
            response.del_cookie(guard.LANG_COOKIE, path="/")
            return response
        return _see_other(f"/{pack}?v={self._keep(session, view, pack)}")

    async def language(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        session = guard.session_of(request)
        code, path = _field(form, "lang"), _field(form, "path") or "/"
        pack = self._pack_of_path(path.strip("/") or None)
        if not guard.csrf_ok(session, _field(form, "csrf")) or code not in LANGUAGES or pack is None:
            return self._message(request, texts.EXPIRED, status=403, link=True)
        assert session is not None and code is not None
        view = await self._handle(session, Command("language", code), code)
        response = self._after_post(request, session, view, pack)
        self._cookies(request, response, None, code)
        return response

    async def forget(self, request: web.Request) -> web.Response:
        session = guard.session_of(request)
        if session is None:
            return self._message(request, texts.NOTHING_STORED, status=200, link=True)
        # The engine asks to confirm; its Yes and No post like any other button.
        view = await self._handle(session, Command("forget"), self._hint(request)[0])
        return self._respond(request, view, self.default, session)

    async def privacy(self, request: web.Request) -> web.Response:
        session = guard.session_of(request)
        fresh = session is None
        session = session or guard.new_session()
        view = await self._handle(session, Command("privacy"), self._hint(request)[0])
        return self._respond(request, view, self.default, session, new_session=fresh)

    async def ics(self, request: web.Request) -> web.Response:
        offer = request.query.get("offer", "")
        pack = request.query.get("pack") or self.default
        if pack not in self.packs:
            raise web.HTTPNotFound()
        code = choose_language(request.query.get("lang") or self._hint(request)[0])
        body = self.calendar.ics(offer[:20], self.clock.now(), f"{ORIGIN.get()}/{pack}", pack=pack, t=lang(code))
        if body is None:
            return self._message(request, texts.NOT_FOUND, status=404, link=True)
        return web.Response(body=body, content_type="text/calendar", charset="utf-8", headers={
            "Content-Disposition": 'attachment; filename="optout-reminders.ics"'})


def _see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})


def _field(form: object, name: str) -> str | None:
    value = form.get(name) if hasattr(form, "get") else None  # type: ignore[union-attr]
    return value if isinstance(value, str) else None

