"""A step reads one user row, whatever the number of packs: /help with ten packs, on every backend.

What is counted is what reaches the database: the SQL statements that read the users table (SQLite
with its row cache emptied first, PostgreSQL on the pool's connections), and for the memory backend
the user rows it hands out.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.clock import ManualClock
from bot.content_check import pack_files
from bot.engine import Engine
from bot.events import Command, Start, UserKey
from bot.guide import DEFAULT_CONTENT_PATH, load_guide
from bot.storage import Storage
from bot.storage.memory import MemoryStorage
from bot.storage.postgres import PostgresStorage
from bot.storage.sqlite import SqliteStorage
from tests.storage.conftest import T0

PACKS = [load_guide(DEFAULT_CONTENT_PATH),
         *(load_guide(p) for p in pack_files(DEFAULT_CONTENT_PATH.parent) if p != DEFAULT_CONTENT_PATH)]
READS_USERS = re.compile(r"\b(FROM|JOIN)\s+users\b", re.IGNORECASE)
KEY = UserKey("telegram", "42")


class _Recording:
    """A connection that notes each statement's text before passing it on."""

    def __init__(self, con: object, seen: list[str]) -> None:
        self._con, self._seen = con, seen

    def __getattr__(self, name: str) -> object:
        found = getattr(self._con, name)
        if name not in ("fetch", "fetchrow", "fetchval", "execute"):
            return found

        def call(sql: str, *args: object, **kwargs: object) -> object:
            self._seen.append(sql)
            return found(sql, *args, **kwargs)

        return call


async def _record_statements(store: Storage) -> Callable[[], list[str]]:
    seen: list[str] = []
    if isinstance(store, SqliteStorage):
        store._rows.clear()  # a cold cache: every row the step needs comes from the file
        store._people.clear()
        await store._db.set_trace_callback(seen.append)
    elif isinstance(store, PostgresStorage):
        run = store._run
        store._run = lambda fn: run(lambda con: fn(_Recording(con, seen)))  # type: ignore[method-assign]
    else:
        assert isinstance(store, MemoryStorage)
        get_user = store.get_user

        async def counted(key: UserKey, pack: str) -> object:
            found = await get_user(key, pack)
            seen.append(f"SELECT FROM users ({pack})")
            return found

        store.get_user = counted  # type: ignore[method-assign]
    return lambda: [s for s in seen if READS_USERS.search(s)]


async def test_help_with_ten_packs_reads_one_user_row(backend: Storage) -> None:
    assert len(PACKS) == 10
    engine = Engine(PACKS, backend, ManualClock(T0))
    for guide in reversed(PACKS):  # a row in every pack; Claude's, the default, is the last one used
        await engine.handle(KEY, Start(guide.pack))
    reads = await _record_statements(backend)
    helped = await engine.handle(KEY, Command("help"))
    assert helped.replies[0].text.startswith("**What I can do**")
    # The "Continue where I was" button goes back to the pack used last, read through the person's pointer.
    assert [b.data for row in helped.replies[-1].buttons for b in row] == ["claude/c"]
    assert len(reads()) == 1, reads()
