"""What every request passes: security headers, request limits, the anonymous session, CSRF."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections import OrderedDict

from aiohttp import web
from aiolimiter import AsyncLimiter

SESSION_COOKIE = "optout_session"
LANG_COOKIE = "optout_lang"
_SESSION = re.compile(r"[A-Za-z0-9_-]{22,64}")

# Only this site's own files: no inline script or style, no other host, no framing.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}


def new_session() -> str:
    return secrets.token_urlsafe(24)  # 192 random bits


def session_of(request: web.Request) -> str | None:
    value = request.cookies.get(SESSION_COOKIE)
    return value if value and _SESSION.fullmatch(value) else None


def csrf_token(session: str) -> str:
    # Keyed by the session id, which only this browser holds (HttpOnly): a page of another site can
    # neither read it nor compute the token, and every instance derives the same one without a shared
    # secret or a stored token.
    return hmac.new(session.encode(), b"csrf", hashlib.sha256).hexdigest()[:32]


def csrf_ok(session: str | None, token: str | None) -> bool:
    return bool(session and token) and hmac.compare_digest(csrf_token(session), token or "")


def is_https(request: web.Request, trust_forwarded: bool) -> bool:
    if trust_forwarded and request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip() == "https":
        return True
    return request.secure


def client_ip(request: web.Request, trust_forwarded: bool) -> str:
    if trust_forwarded and (forwarded := request.headers.get("X-Forwarded-For")):
        return forwarded.split(",")[-1].strip()  # the proxy's own entry; earlier ones the client can forge
    return request.remote or "?"


class Limits:
    """Requests a minute per key (a session, an IP address), each key a leaky bucket of aiolimiter.

    Kept per instance: behind a load balancer each instance allows its share, which bounds abuse
    without a database round trip per request. The least recently seen keys are dropped past ``keys``.
    """

    def __init__(self, per_minute: int, keys: int = 50_000) -> None:
        self.per_minute = per_minute
        self.keys = keys
        self._buckets: OrderedDict[str, AsyncLimiter] = OrderedDict()

    async def allow(self, key: str) -> bool:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = AsyncLimiter(self.per_minute, 60)
            if len(self._buckets) > self.keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        if not bucket.has_capacity():
            return False
        await bucket.acquire()  # has capacity: returns at once
        return True


def set_session_cookie(response: web.StreamResponse, session: str, *, secure: bool, days: int) -> None:
    response.set_cookie(SESSION_COOKIE, session, max_age=days * 86400, httponly=True, samesite="Lax",
                        secure=secure, path="/")


def set_lang_cookie(response: web.StreamResponse, code: str, *, secure: bool, days: int) -> None:
    response.set_cookie(LANG_COOKIE, code, max_age=days * 86400, httponly=True, samesite="Lax", secure=secure, path="/")
