"""The ``backend`` fixture: every contract test runs once per backend.

A backend joins the contract suites with one entry in BACKENDS: a function from the test (for the
fixtures it needs) and a temporary folder to its DATABASE_URL. PostgreSQL's is a fresh database on a
throwaway server the session starts (tests/postgres_server.py); without server binaries it skips with
one line.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.events import UserKey
from bot.storage import Storage, UserState, open_backend
from tests.postgres_server import new_database

T0 = datetime(2026, 11, 22, 12, tzinfo=UTC)


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
async def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return await BACKENDS[request.param](request, tmp_path)


@pytest.fixture
async def backend(backend_url: str) -> AsyncIterator[Storage]:
    store = await open_backend(backend_url)
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
