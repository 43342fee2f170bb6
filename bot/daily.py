"""A job that runs at start-up and then once a day, on one instance of several: the retention sweep, the
content watch.

With several instances on one database, a lease decides which of them runs: the first to try takes it
for a day, and the others skip their run until it lapses (so a deploy that restarts every instance does
not run it again either).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta
from typing import Generic, TypeVar

from bot.clock import Clock
from bot.metrics import ERRORS
from bot.storage.base import Coordination

T = TypeVar("T")


class DailyJob(Generic[T]):
    """Subclasses give ``once()``, the lease's name, the error metric's kind and their log lines."""

    lease: str
    kind: str  # optout_errors_total{kind}
    held: str  # logged when another instance runs it today
    failed: str  # logged with the traceback of a failed run
    log: logging.Logger  # the job's own module's, so that its lines keep their logger's name
    # At stop: True cancels a run in progress (the watch: each snapshot is written on its own); False lets
    # it finish (the sweep: its transaction).
    cancel_on_stop = False

    def __init__(self, clock: Clock, every: timedelta, *, leases: Coordination | None, holder: str = "") -> None:
        self._clock = clock
        self._every = every
        self._leases = leases  # None: this process is the only one on its database
        self._holder = f"{holder}:{uuid.uuid4().hex}" if holder else uuid.uuid4().hex
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def once(self) -> T:
        raise NotImplementedError

    async def run_if_due(self) -> T | None:
        """Run unless another instance holds this period's lease; return what the run returned, or None."""
        now = self._clock.now()
        if self._leases is not None and not await self._leases.take_lease(self.lease, self._holder, now, now + self._every):
            self.log.info(self.held)
            return None
        return await self.once()

    def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name=self.lease)

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            if self.cancel_on_stop:
                self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while not self._stop.is_set():
            # Counted from the run's start, so that the day's run keeps its hour however long it takes.
            due = self._clock.now() + self._every
            try:
                await self.run_if_due()
            except Exception:
                # A failed run (disk full, a locked file, a strange page) must not end the bot; tomorrow's retries.
                ERRORS.labels(kind=self.kind).inc()
                self.log.exception(self.failed)
            # sleep_until may return early (the system clock caps a sleep at an hour), so loop to the due time.
            while not self._stop.is_set() and self._clock.now() < due:
                await self._clock.sleep_until(due, self._stop)
