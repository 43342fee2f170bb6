"""The ``backend`` fixture: every contract test runs once per backend.

A backend joins the contract suites with one entry here: a function from a temporary folder to its
DATABASE_URL (PostgreSQL's would read a test server's URL from the environment and skip without one).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.events import UserKey
from bot.storage import Storage, UserState, open_backend

BACKENDS: dict[str, Callable[[Path], str]] = {
    "sqlite": lambda tmp: f"sqlite:///{tmp / 'contract.db'}",
    "memory": lambda tmp: "memory://",
}

T0 = datetime(2026, 11, 22, 12, tzinfo=UTC)


@pytest.fixture(params=sorted(BACKENDS))
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    store = await open_backend(BACKENDS[request.param](tmp_path))
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
