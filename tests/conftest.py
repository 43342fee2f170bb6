"""Fixtures shared by every test directory, and a guard that fails any test trying the network."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.engine import Engine
from bot.guide import Guide, load_guide
from bot.storage import open_storage
from tests.postgres_server import PostgresServer, new_database, why_unavailable

# As bot.compose sets it for an `optout-bot run` process (tests build platforms without the root).
os.environ.setdefault("PTB_TIMEDELTA", "1")

ROOT = Path(__file__).resolve().parent.parent
MINI_GUIDE = ROOT / "tests" / "fixtures" / "mini.yaml"
SHIPPED_GUIDE = ROOT / "content" / "claude.yaml"
# Late 2026: after both 2025 deadlines (the guide's "today").
AFTER = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _is_local(address: object) -> bool:
    if isinstance(address, tuple) and address:
        host = address[0]
        if host in ("localhost", ""):
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False
    return True  # Unix sockets and socketpairs


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any in-process connection to a non-loopback address (subprocesses are pointed at fakes)."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def connect(self: socket.socket, address: object) -> None:
        if not _is_local(address):
            raise AssertionError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: object) -> int:
        if not _is_local(address):
            raise AssertionError(f"test tried to reach the network: {address!r}")
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


@pytest.fixture
def mini_guide() -> Guide:
    return load_guide(MINI_GUIDE)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(AFTER)


@pytest.fixture
async def storage(tmp_path: Path):
    store = await open_storage(tmp_path / "bot.db")
    yield store
    await store.close()


@pytest.fixture
def engine(mini_guide: Guide, storage, clock: ManualClock) -> Engine:
    return Engine(mini_guide, storage, clock)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server for the session; skips with one line where none can run."""
    reason = why_unavailable()
    if reason is not None:
        pytest.skip(reason)
    server = PostgresServer.start()
    yield server
    server.stop()


@pytest.fixture
async def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh, empty database of its own for each test (about 0.1 s; the server runs with fsync off)."""
    return await new_database(postgres_server)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Stop the thread of any SQLite connection a failed test left open.

    aiosqlite's connection thread is not a daemon (so that a write is never cut short), and Python
    waits for it at exit: one storage a failing test never closed would turn the failure into a hang.
    """
    import gc

    import aiosqlite

    for obj in gc.get_objects():
        if isinstance(obj, aiosqlite.Connection):
            obj.stop()  # a no-op for a closed one; otherwise its queued calls finish first

