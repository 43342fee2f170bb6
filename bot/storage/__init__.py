"""Storage: the ports the core uses (``base``), the backends (SQLite, memory) and ``open_backend``."""

from bot.storage.backends import open_backend
from bot.storage.base import (
    Coordination,
    CounterStore,
    ReminderQueue,
    StaleStateError,
    Storage,
    StorageError,
    UserState,
    UserStore,
)
from bot.storage.memory import MemoryStorage
from bot.storage.sqlite import SqliteStorage, open_storage

__all__ = [
    "Coordination",
    "CounterStore",
    "MemoryStorage",
    "ReminderQueue",
    "SqliteStorage",
    "StaleStateError",
    "Storage",
    "StorageError",
    "UserState",
    "UserStore",
    "open_backend",
    "open_storage",
]
