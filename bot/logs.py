"""Logging set-up: one line per event, text or JSON, with every secret redacted at every level."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

# httpx logs each request URL at INFO, and Telegram's URLs contain the bot token; httpcore, aiohttp
# and websockets echo request details at DEBUG. The redacting filter below would catch the token
# anyway; quietening them keeps the log readable.
NOISY = ("httpx", "httpcore", "aiohttp.access", "websockets", "hpack", "tornado.access")


class RedactingFilter(logging.Filter):
    """Replace every configured secret in a record's final message (and traceback) by ``[REDACTED]``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def _clean(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, "[REDACTED]")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if self._secrets:
            record.msg = self._clean(record.getMessage())
            record.args = None
            if record.exc_info:
                # Format the traceback now, redacted, so handlers print this text instead.
                record.exc_text = self._clean(logging.Formatter().formatException(record.exc_info))
                record.exc_info = None
            if record.stack_info:
                record.stack_info = self._clean(record.stack_info)
        return True


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
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter(secrets))
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in NOISY:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
