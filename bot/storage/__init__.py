"""Storage: the interface the engine and scheduler use, and its SQLite backend."""

from bot.storage.base import StaleStateError, Storage, StorageError, UserState
from bot.storage.sqlite import SqliteStorage, open_storage

__all__ = ["SqliteStorage", "StaleStateError", "Storage", "StorageError", "UserState", "open_storage"]
