"""``optout-bot db copy``: move every row of a SQLite database into PostgreSQL, for a move to several instances.

Users and people, reminders (with their ids, statuses and attempts), subscriptions, the funnel and the bot's facts
are copied in one target transaction; leases are not (they only say who does a job right now). The
target must be empty unless the operator asks for it to be emptied first; afterwards every table's row
count is compared with the source's, so a copy that lost a row fails instead of reporting success.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import TypeVar

from bot.storage.backends import open_backend, scheme
from bot.storage.base import StorageError
from bot.storage.postgres import PostgresStorage
from bot.storage.sqlite import SqliteStorage

log = logging.getLogger(__name__)
T = TypeVar("T")

# Copied in this order (none refers to another, but users first reads best in the output).
TABLES = ("users", "people", "reminders", "reminder_subs", "reminder_follows", "funnel", "meta")
TIMES = {"created_at", "updated_at", "due_at", "lease_until"}  # SQLite keeps them as UTC ISO text
DAYS = {"day"}
BOOLS = {"deadlines"}  # SQLite keeps them as 0 or 1
Rows = dict[str, tuple[list[str], list[tuple]]]  # table -> (columns, rows)


def _typed(columns: list[str], rows: list[tuple]) -> list[tuple]:
    def value(column: str, v: object) -> object:
        if column in BOOLS and v is not None:
            return bool(v)
        if v is None or not isinstance(v, str):
            return v
        if column in TIMES:
            return datetime.fromisoformat(v)
        if column in DAYS:
            return date.fromisoformat(v)
        return v

    return [tuple(value(c, v) for c, v in zip(columns, row, strict=True)) for row in rows]


async def _named(flag: str, call: Callable[[], Awaitable[T]]) -> T:
    """Run ``call``; a storage failure names the flag the URL came from, not DATABASE_URL."""
    try:
        return await call()
    except StorageError as exc:
        raise StorageError(str(exc).replace("DATABASE_URL:", f"{flag}:", 1)) from None


async def copy_database(source_url: str, target_url: str, *, replace: bool = False,
                        target_flag: str = "--to") -> dict[str, int]:
    """Copy every row from ``source_url`` (SQLite) into ``target_url`` (PostgreSQL); return rows per table.

    ``target_flag`` is where the target URL came from (--to or DB_COPY_TO), for the error messages.
    """
    for flag, url, wanted in (("--from", source_url, "sqlite"), (target_flag, target_url, "postgresql")):
        try:
            name = scheme(url)
        except StorageError as exc:
            raise StorageError(str(exc).replace("DATABASE_URL:", f"{flag}:", 1)) from None
        if name.removesuffix("ql") != wanted.removesuffix("ql"):
            raise StorageError(f"{flag}: expected a {wanted}:// URL, got {name}:// (copies go from SQLite to PostgreSQL)")
    source = await _named("--from", lambda: open_backend(source_url, create=False))
    try:
        assert isinstance(source, SqliteStorage)
        rows = await _named("--from", lambda: source.export_rows(TABLES))
    finally:
        await source.close()
    typed: Rows = {t: (columns, _typed(columns, data)) for t, (columns, data) in rows.items()}
    target = await _named(target_flag, lambda: open_backend(target_url))
    try:
        assert isinstance(target, PostgresStorage)
        await _named(target_flag, lambda: target.import_rows(typed, replace=replace))
        counts = await _named(target_flag, lambda: target.row_counts(TABLES))
    finally:
        await target.close()
    expected = {t: len(data) for t, (_, data) in typed.items()}
    if counts != expected:
        raise StorageError(f"{target_flag}: the copy does not match the source (rows per table: source {expected}, target {counts})")
    return counts
