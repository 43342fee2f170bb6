"""Injectable clocks: the real one, and one that tests move by hand."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def sleep_until(self, when: datetime, wake: asyncio.Event | None = None) -> None:
        """Sleep until ``when`` or until ``wake`` is set, whichever comes first."""
        ...


async def _wait(wake: asyncio.Event | None, delay: float) -> None:
    if wake is None:
        await asyncio.sleep(delay)
        return
    try:
        await asyncio.wait_for(wake.wait(), delay)
    except TimeoutError:
        pass


class SystemClock:
    """The real time; ``start`` shifts it (``FAKE_NOW`` / ``--as-of``) while it keeps running."""

    def __init__(self, start: datetime | None = None) -> None:
        self._shift = (start - datetime.now(UTC)) if start else timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._shift

    async def sleep_until(self, when: datetime, wake: asyncio.Event | None = None) -> None:
        # Long sleeps are cut to an hour so that a jump of the system clock is noticed.
        delay = min(max((when - self.now()).total_seconds(), 0.0), 3600.0)
        await _wait(wake, delay)


class ManualClock:
    """A clock that only moves when a test calls ``advance`` or ``set``."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._moved = asyncio.Event()

    def now(self) -> datetime:
        return self._now

    async def set(self, when: datetime) -> None:
        self._now = when
        moved, self._moved = self._moved, asyncio.Event()
        moved.set()
        # Let the sleepers that are now due run before the test goes on.
        for _ in range(20):
            await asyncio.sleep(0)

    async def advance(self, delta: timedelta) -> None:
        await self.set(self._now + delta)

    async def sleep_until(self, when: datetime, wake: asyncio.Event | None = None) -> None:
        while self._now < when and not (wake and wake.is_set()):
            waits = [asyncio.ensure_future(self._moved.wait())]
            if wake is not None:
                waits.append(asyncio.ensure_future(wake.wait()))
            _, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            for task in pending:
                task.cancel()
