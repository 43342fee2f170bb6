"""The HTTP transport for unprompted sends (reminders): python-telegram-bot's request interface on aiohttp."""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote_plus

import aiohttp
from aiohttp.helpers import get_env_proxy_for_url
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData
from yarl import URL

# Why not PTB's HTTPXRequest here: httpx/httpcore cost about 3 ms of CPU per sendMessage with many
# requests in flight (httpcore scans its pool, checking each idle socket, on every request; at best
# 1.3 ms with 4 connections), which capped reminders near 250 a second. aiohttp's pool costs about
# 0.2 ms. It plugs in below PTB as a BaseRequest, so the Bot API calls, their parameters, PTB's
# mapping of answers to exceptions (403 Forbidden, 400 BadRequest, 429 RetryAfter...) and the
# AIORateLimiter stay PTB's own. bench/reminders.py measures it.
CONNECT_TIMEOUT = 5.0  # seconds, PTB's HTTPXRequest defaults
READ_TIMEOUT = 5.0
POOL_TIMEOUT = 1.0
_DEFAULT = BaseRequest.DEFAULT_NONE
_DefaultValue = type(_DEFAULT)  # PTB's marker class for "not given by the caller"
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class AiohttpRequest(BaseRequest):
    """Send Bot API requests over one aiohttp session with a pool of ``connections`` kept-alive connections."""

    __slots__ = ("_api_url", "_connections", "_proxy", "_proxy_auth", "_secret", "_session", "_timeout")

    def __init__(self, api_url: str, connections: int, secret: str) -> None:
        self._api_url = URL(api_url)
        self._connections = connections
        self._secret = secret  # the token: it is in every URL, so it is scrubbed from error messages
        self._session: aiohttp.ClientSession | None = None
        # As httpx does for the rest of the bot, HTTPS_PROXY / NO_PROXY from the environment apply.
        # Looked up once here: aiohttp's trust_env looks them up in a thread on every request.
        self._proxy: URL | None = None
        self._proxy_auth: aiohttp.BasicAuth | None = None
        try:
            self._proxy, self._proxy_auth = get_env_proxy_for_url(self._api_url)
        except LookupError:  # no proxy for this host
            pass
        # aiohttp has no separate wait for a free connection: "connect" covers waiting and connecting.
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=POOL_TIMEOUT + CONNECT_TIMEOUT, sock_connect=CONNECT_TIMEOUT, sock_read=READ_TIMEOUT
        )

    @property
    def read_timeout(self) -> float:
        return READ_TIMEOUT

    async def initialize(self) -> None:
        # No await in here: PTB initializes a bot's two request objects at once, which may be this one twice.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections, limit_per_host=self._connections),
                timeout=self._timeout,
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: float | object | None = _DEFAULT,
        write_timeout: float | object | None = _DEFAULT,
        connect_timeout: float | object | None = _DEFAULT,
        pool_timeout: float | object | None = _DEFAULT,
    ) -> tuple[int, bytes]:
        """Send one request; return the HTTP status and body for PTB to interpret."""
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        if request_data is not None and request_data.contains_files:
            # Only text messages go this way; uploads would need multipart bodies and media timeouts.
            raise TypeError("AiohttpRequest does not upload files; send them through the Application's bot")
        timeout = self._timeout
        if not all(isinstance(t, _DefaultValue) for t in (read_timeout, connect_timeout, pool_timeout)):
            timeout = aiohttp.ClientTimeout(
                total=None,
                connect=_given(pool_timeout, POOL_TIMEOUT) + _given(connect_timeout, CONNECT_TIMEOUT),
                sock_connect=_given(connect_timeout, CONNECT_TIMEOUT),
                sock_read=_given(read_timeout, READ_TIMEOUT),
            )
        data = _form(request_data.json_parameters) if request_data is not None else None
        try:
            async with session.request(
                method, url, data=data, headers=_FORM if data is not None else None, timeout=timeout,
                proxy=self._proxy, proxy_auth=self._proxy_auth,
            ) as response:
                return response.status, await response.read()
        except TimeoutError:  # aiohttp's timeouts are TimeoutErrors (and some also ClientErrors)
            raise TimedOut() from None
        except (aiohttp.ClientError, OSError) as exc:
            # "from None": the original's text and traceback can carry the URL, and with it the token.
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {self._scrub(str(exc))}") from None

    def _scrub(self, text: str) -> str:
        return text.replace(self._secret, "[REDACTED]") if self._secret else text


def _form(params: dict[str, str]) -> bytes:
    """Encode parameters as a form body, byte for byte as PTB's own urlencode does."""
    # Not aiohttp's form encoding, which builds a multipart writer for each request; and quoting is
    # cached because the same reminder text is quoted for every recipient (most of the encoding time).
    return "&".join(f"{_quoted(k)}={_quoted(v)}" for k, v in params.items()).encode()


@lru_cache(maxsize=256)
def _quoted(value: str) -> str:
    return quote_plus(value)


def _given(value: float | object | None, default: float) -> float:
    # PTB passes None for "no limit"; aiohttp's ClientTimeout takes None the same way, but the sum
    # of pool and connect waits needs numbers, so an unlimited wait becomes a very long one.
    if isinstance(value, _DefaultValue):
        return default
    return 1e9 if value is None else float(value)  # type: ignore[arg-type]

