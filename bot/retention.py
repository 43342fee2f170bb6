"""Automatic erasure: users inactive for ``RETENTION_DAYS`` are deleted at start-up and then once a day.

With several instances on one database, a lease decides which of them sweeps: the first to try takes it
for a day, and the others skip their sweep until it lapses (so a deploy that restarts every instance
does not sweep again either).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta

from bot.clock import Clock
from bot.metrics import ERRORS, RETENTION_DELETED
from bot.storage.base import Coordination, UserStore

log = logging.getLogger(__name__)

SWEEP_EVERY = timedelta(days=1)
LEASE = "retention"


class RetentionSweeper:
    """Delete every user (reminders included) whose last activity is older than ``days`` days."""

    def __init__(self, storage: UserStore, clock: Clock, days: int, every: timedelta = SWEEP_EVERY, *,
                 leases: Coordination | None = None, holder: str = "") -> None:
        self._storage = storage
        self._leases = leases  # None: this process is the only one on its database
        self._holder = f"{holder}:{uuid.uuid4().hex}" if holder else uuid.uuid4().hex
        self._clock = clock
        self._keep = timedelta(days=days)
        self._every = every
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def sweep(self) -> int:
        """Delete the users inactive since the cut-off; return how many."""
        cutoff = self._clock.now() - self._keep
        deleted = await self._storage.delete_inactive(cutoff)
        RETENTION_DELETED.inc(deleted)
        log.info("retention: deleted %d user(s) inactive since %s", deleted, cutoff.date().isoformat())
        return deleted

    async def sweep_if_due(self) -> int | None:
        """Sweep unless another instance holds this period's lease; return how many were deleted, or None."""
        now = self._clock.now()
        if self._leases is not None and not await self._leases.take_lease(LEASE, self._holder, now, now + self._every):
            log.info("retention: another instance holds today's sweep")
            return None
        return await self.sweep()

    def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name="retention")

    async def stop(self) -> None:
        """Wake the sleeping task and wait for it (a sweep in progress finishes its transaction)."""
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.sweep_if_due()
            except Exception:
                # A failed sweep (disk full, locked file) must not end the bot; tomorrow's sweep retries.
                ERRORS.labels(kind="retention").inc()
                log.exception("retention: sweep failed")
            due = self._clock.now() + self._every
            # sleep_until may return early (the system clock caps a sleep at an hour), so loop to the due time.
            while not self._stop.is_set() and self._clock.now() < due:
                await self._clock.sleep_until(due, self._stop)
