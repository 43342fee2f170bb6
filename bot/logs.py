"""Logging set-up: one line per event, text or JSON, with every secret redacted at every level."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

# httpx logs each request URL at INFO, and Telegram's URLs contain the bot token; httpcore, aiohttp
# and websockets echo request details at DEBUG. The redacting filter below would catch the token
# anyway; quietening them keeps the log readable.
NOISY = ("httpx", "httpcore", "aiohttp.access", "websockets", "hpack", "tornado.access")


# scheme://user:password@ (or scheme://token@): the userinfo of a URL, dropped from every printed line.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/?#@'\"<>]+@")
MIN_SECRET = 6  # shorter "secrets" would blank out ordinary words
REDACTED = "[REDACTED]"


class RedactingFilter(logging.Filter):
    """Replace every configured secret in a record's final message (and traceback) by ``[REDACTED]``,
    and drop the userinfo of every URL in it.

    Matched without regard to case: PTB's error class capitalises a message that starts "Bad Request: ",
    which lower-cases a token echoed by the API or a proxy. A Telegram token's part after the colon is
    the secret by itself (the part before is the bot's public id), so it is matched alone too.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        parts: set[str] = set()
        for secret in secrets:
            if not secret:
                continue
            parts.add(secret)
            _, colon, after = secret.partition(":")
            if colon:
                parts.add(after)
        wanted = sorted((p for p in parts if len(p) >= MIN_SECRET), key=len, reverse=True)
        self._secrets = re.compile("|".join(map(re.escape, wanted)), re.IGNORECASE) if wanted else None

    def clean(self, text: str) -> str:
        if self._secrets is not None:
            text = self._secrets.sub(REDACTED, text)
        return _USERINFO.sub(r"\1", text)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.clean(record.getMessage())
        record.args = None
        if record.exc_info:
            # Format the traceback now, redacted, so handlers print this text instead.
            record.exc_text = self.clean(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = self.clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self.clean(record.stack_info)
        return True


_active = RedactingFilter(())  # the secrets of this process, once setup_logging has been given them


def redact(text: str, *secrets: str) -> str:
    """What may be printed of ``text`` outside logging (stderr lines): the process's secrets, and
    ``secrets``, redacted, and no URL's userinfo."""
    return RedactingFilter(secrets).clean(_active.clean(text)) if secrets else _active.clean(text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_text or record.exc_info:
            entry["error"] = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(level: str = "INFO", fmt: str = "text", secrets: Iterable[str] = ()) -> None:
    """Send logs to stderr, one line per event, with the given secrets redacted from every record."""
    global _active
    _active = RedactingFilter(secrets)
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_active)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in NOISY:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
