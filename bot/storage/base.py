"""The storage contract. Every backend passes tests/storage/test_contract.py."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import date, datetime

from bot.events import UserKey


class StorageError(Exception):
    """The database cannot be opened or used; str() says what to fix."""


class StaleStateError(Exception):
    """The user's row changed since it was read (another process wrote it): read again and redo."""


@dataclass
class UserState:
    """Where one user is in the guide. Nothing here is text the user typed."""

    key: UserKey
    guide_version: str
    node: str
    step: int = 0
    answers: dict[str, str] = field(default_factory=dict)
    # For Back: the nodes left behind, each with the answers as they were before leaving it.
    history: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    # A confirmation or menu the user was shown and may answer next ("forget", "remind").
    pending: str | None = None
    # How many times the row was written; a save succeeds only if nobody wrote it since it was read.
    rev: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None


class Storage(abc.ABC):
    """What the core needs from a database. One call is one transaction."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    @abc.abstractmethod
    async def ping(self) -> bool:
        """Return True when the database answers."""

    # Users ------------------------------------------------------------------------------------
    @abc.abstractmethod
    async def get_user(self, key: UserKey) -> UserState | None: ...

    @abc.abstractmethod
    async def save_step(self, state: UserState, counters: tuple[str, ...] = ()) -> None:
        """Store the user's state and add one to each funnel counter, in one transaction.

        Raise StaleStateError if the stored row's revision is no longer ``state.rev``; on success
        ``state.rev`` is the new revision.
        """

    @abc.abstractmethod
    async def forget_user(self, key: UserKey) -> None:
        """Delete every row about this user, reminders included."""

    @abc.abstractmethod
    async def delete_inactive(self, before: datetime) -> int:
        """Delete users (and their rows) not active since ``before``; return how many."""

    # Anonymous funnel -------------------------------------------------------------------------
    @abc.abstractmethod
    async def count(self, platform: str, counters: tuple[str, ...], day: date) -> None: ...

    @abc.abstractmethod
    async def funnel(self, since: date, until: date) -> dict[tuple[str, str], int]:
        """Return {(platform, counter): total} for days in [since, until]."""

    # Small key/value facts the bot keeps about itself (e.g. the Discord command hash) ---------
    @abc.abstractmethod
    async def get_meta(self, name: str) -> str | None: ...

    @abc.abstractmethod
    async def set_meta(self, name: str, value: str) -> None: ...
