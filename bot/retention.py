"""Automatic erasure: users inactive for ``RETENTION_DAYS`` are deleted at start-up and then once a day.

With several instances on one database, one of them sweeps each day (bot/daily.py).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.clock import Clock
from bot.daily import DailyJob
from bot.metrics import RETENTION_DELETED
from bot.storage.base import Coordination, UserStore

log = logging.getLogger(__name__)

SWEEP_EVERY = timedelta(days=1)
LEASE = "retention"


class RetentionSweeper(DailyJob[int]):
    """Delete every user (reminders included) whose last activity is older than ``days`` days."""

    lease, kind = LEASE, "retention"
    held, failed = "retention: another instance holds today's sweep", "retention: sweep failed"
    log = log

    def __init__(self, storage: UserStore, clock: Clock, days: int, every: timedelta = SWEEP_EVERY, *,
                 leases: Coordination | None = None, holder: str = "") -> None:
        super().__init__(clock, every, leases=leases, holder=holder)
        self._storage = storage
        self._keep = timedelta(days=days)

    async def sweep(self) -> int:
        """Delete the users inactive since the cut-off; return how many."""
        cutoff = self._clock.now() - self._keep
        deleted = await self._storage.delete_inactive(cutoff)
        RETENTION_DELETED.inc(deleted)
        log.info("retention: deleted %d user(s) inactive since %s", deleted, cutoff.date().isoformat())
        return deleted

    once = sweep
    sweep_if_due = DailyJob.run_if_due
