"""The ``backend`` fixture: every contract test runs once per backend.

A backend joins the contract suites with one entry in BACKENDS: a function from the test (for the
fixtures it needs) and a temporary folder to its DATABASE_URL. PostgreSQL's is a fresh database on a
throwaway server the session starts (tests/postgres_server.py); without server binaries it skips with
one line.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from bot.events import UserKey
from bot.storage import Storage, UserState, open_backend
from tests.postgres_server import PostgresServer, why_unavailable

T0 = datetime(2026, 11, 22, 12, tzinfo=UTC)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    reason = why_unavailable()
    if reason is not None:
        pytest.skip(reason)
    server = PostgresServer.start()
    yield server
    server.stop()


async def new_database(server: PostgresServer) -> str:
    """Create an empty database on the test server; return its DATABASE_URL."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    admin = await asyncpg.connect(server.url())
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return server.url(name)


@pytest.fixture
async def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh, empty database of its own for each test (about 0.1 s; the server runs with fsync off)."""
    return await new_database(postgres_server)


async def _postgres(request: pytest.FixtureRequest, tmp: Path) -> str:
    return await new_database(request.getfixturevalue("postgres_server"))


async def _sqlite(request: pytest.FixtureRequest, tmp: Path) -> str:
    return f"sqlite:///{tmp / 'contract.db'}"


async def _memory(request: pytest.FixtureRequest, tmp: Path) -> str:
    return "memory://"


BACKENDS: dict[str, Callable[[pytest.FixtureRequest, Path], Awaitable[str]]] = {
    "sqlite": _sqlite,
    "memory": _memory,
    "postgres": _postgres,
}


@pytest.fixture(params=sorted(BACKENDS))
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    store = await open_backend(await BACKENDS[request.param](request, tmp_path))
    yield store
    await store.close()


def state(user: str = "1", node: str = "plan", step: int = 3, at: datetime = T0, pack: str = "claude",
          platform: str = "telegram") -> UserState:
    return UserState(
        key=UserKey(platform, user),
        pack=pack,
        guide_version="v1",
        node=node,
        step=step,
        answers={"plan": "pro"},
        history=[("home", {})],
        pending=None,
        locale="de",
        created_at=at,
        updated_at=at,
    )
