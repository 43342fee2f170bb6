"""Fixtures for the reminder tests (helpers in tests/reminders/helpers.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.reminders.scheduler import Scheduler
from bot.reminders.service import ReminderService
from bot.storage import SqliteStorage, open_storage
from tests.reminders.helpers import EARLY, FakePlatform


@pytest.fixture
def early_clock() -> ManualClock:
    return ManualClock(EARLY)


@pytest.fixture
def telegram() -> FakePlatform:
    return FakePlatform("telegram")


@pytest.fixture
def discord_platform() -> FakePlatform:
    return FakePlatform("discord")


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[SqliteStorage]:
    storage = await open_storage(tmp_path / "reminders.db")
    yield storage
    await storage.close()


class Running:
    """Start schedulers as the app does and stop every one at the end of the test."""

    def __init__(self) -> None:
        self.items: list[tuple[Scheduler, asyncio.Task[None]]] = []

    def start(self, service: ReminderService, platforms: dict, **kwargs: object) -> Scheduler:
        scheduler = Scheduler.for_service(service, platforms, **kwargs)
        self.items.append((scheduler, asyncio.create_task(scheduler.run())))
        return scheduler

    async def stop_all(self) -> None:
        for scheduler, task in self.items:
            await asyncio.wait_for(scheduler.stop(), 5)
            await task


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    r = Running()
    yield r
    await r.stop_all()
