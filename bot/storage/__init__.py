"""Storage: the interface the engine and scheduler use, and its SQLite backend."""

from bot.storage.base import Storage, StorageError, UserState
from bot.storage.sqlite import SqliteStorage, open_storage

__all__ = ["SqliteStorage", "Storage", "StorageError", "UserState", "open_storage"]
