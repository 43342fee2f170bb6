"""Which backend a ``DATABASE_URL`` names: the scheme picks the opener.

A backend is added by one entry in ``OPENERS``, its module, its own migrations, and one more param of
the contract suites' ``backend`` fixture.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

from bot.storage.base import Storage, StorageError
from bot.storage.memory import MemoryStorage
from bot.storage.sqlite import open_storage


async def _sqlite(url: str, create: bool) -> Storage:
    return await open_storage(sqlite_path(url), create=create)


async def _memory(url: str, create: bool) -> Storage:
    return MemoryStorage()


async def _postgres(url: str, create: bool) -> Storage:
    # Imported here: settings check DATABASE_URL through this module on every start, and a SQLite
    # deployment (or `optout-bot --version`) need not load asyncpg.
    from bot.storage.postgres import open_postgres

    return await open_postgres(url, create=create)


OPENERS: dict[str, Callable[[str, bool], Awaitable[Storage]]] = {
    "sqlite": _sqlite, "memory": _memory, "postgresql": _postgres, "postgres": _postgres,
}
EXAMPLES = "sqlite:///PATH, postgresql://USER:PASSWORD@HOST:5432/DB or memory://"


URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
POSTGRES_SHAPE = "postgresql://USER:PASSWORD@HOST:PORT/DATABASE"


def scheme(url: str) -> str:
    """Return the backend a URL names, or raise StorageError (one line naming DATABASE_URL, never the
    URL itself, which may hold a password) if its shape is wrong or no backend handles it.

    Nothing is opened: ``bot.settings`` calls this too, so that a bad URL stops start-up first.
    """
    name, separator, rest = url.strip().partition("://")
    if not separator or not URL_SCHEME.fullmatch(name):
        raise StorageError(f"DATABASE_URL: malformed: expected {EXAMPLES}")
    name = name.lower()
    if name == "sqlite":
        sqlite_path(url)
    elif name == "memory":
        if rest:
            raise StorageError("DATABASE_URL: malformed: write memory:// with nothing after it")
    elif name in ("postgresql", "postgres"):
        try:
            parts = urlsplit(url.strip())
            _ = parts.port  # raises ValueError on a port that is not a number
        except ValueError:
            raise StorageError(f"DATABASE_URL: malformed: expected {POSTGRES_SHAPE}") from None
        if not parts.hostname or not parts.path.strip("/"):
            raise StorageError(f"DATABASE_URL: malformed: expected {POSTGRES_SHAPE}")
    else:
        raise StorageError(f"DATABASE_URL: unknown scheme {name}://; use {EXAMPLES}")
    return name


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///relative/path`` or ``sqlite:////absolute/path`` URL."""
    prefix = "sqlite:///"
    path = url.strip()[len(prefix):] if url.strip().lower().startswith(prefix) else ""
    if not path.strip("/"):
        raise StorageError(
            "DATABASE_URL: malformed: write sqlite:/// and then the file's path, e.g. sqlite:///data/optout.db"
        )
    return Path(path)


async def open_backend(url: str, *, create: bool = True) -> Storage:
    """Open the database ``url`` names and bring its schema up to date.

    ``create=False`` (for read-only commands such as ``optout-bot stats``) refuses to create a database
    that does not exist yet. Every failure is a StorageError whose one line names DATABASE_URL.
    """
    return await OPENERS[scheme(url)](url, create)
