"""Which backend a ``DATABASE_URL`` names: the scheme picks the opener.

A backend is added by one entry in ``OPENERS``, its module, its own migrations, and one more param of
the contract suites' ``backend`` fixture.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

from bot.storage.base import Storage, StorageError
from bot.storage.memory import MemoryStorage
from bot.storage.postgres import open_postgres
from bot.storage.sqlite import open_storage


async def _sqlite(url: str, create: bool) -> Storage:
    return await open_storage(sqlite_path(url), create=create)


async def _memory(url: str, create: bool) -> Storage:
    return MemoryStorage()


async def _postgres(url: str, create: bool) -> Storage:
    return await open_postgres(url, create=create)


OPENERS: dict[str, Callable[[str, bool], Awaitable[Storage]]] = {
    "sqlite": _sqlite, "memory": _memory, "postgresql": _postgres, "postgres": _postgres,
}
EXAMPLES = "sqlite:///PATH, postgresql://USER:PASSWORD@HOST:5432/DB or memory://"


def scheme(url: str) -> str:
    """Return the URL's scheme, or raise StorageError (naming DATABASE_URL) if no backend handles it."""
    name = urlsplit(url).scheme if "://" in url else ""
    if name not in OPENERS:
        shown = f"{name}://" if name else repr(url)
        raise StorageError(f"DATABASE_URL: unknown database {shown}; use {EXAMPLES}")
    if name == "sqlite":
        sqlite_path(url)
    return name


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///relative/path`` or ``sqlite:////absolute/path`` URL."""
    prefix = "sqlite:///"
    path = url[len(prefix):] if url.startswith(prefix) else ""
    if not path:
        raise StorageError(f"DATABASE_URL: {url!r} names no file; use sqlite:///PATH (e.g. sqlite:///data/optout.db)")
    return Path(path)


async def open_backend(url: str, *, create: bool = True) -> Storage:
    """Open the database ``url`` names and bring its schema up to date.

    ``create=False`` (for read-only commands such as ``optout-bot stats``) refuses to create a database
    that does not exist yet. Every failure is a StorageError whose one line names DATABASE_URL.
    """
    return await OPENERS[scheme(url)](url, create)
