"""One platform budget shared by every instance on one database: each takes an even share of it.

Telegram allows a bot about 30 messages a second in all, whatever the number of processes sending with
its token; past that it answers 429 with a retry_after that halts every send of the bot, replies
included. With N instances each limiting itself to 30, N x 30 went out. Here each instance heartbeats
its membership of the bot's pool through the Coordination port and takes 1/N of the budget, N being the
members alive. Why an even split rather than a shared token bucket in the database: a bucket costs a
database round trip per message (30 a second per bot, on the hot path of every reply), while a heartbeat
costs one a second per instance and leaves each limiter local; the price is that an idle instance's
share goes unused, which matters little since reminders, the bulk of the traffic, are claimed evenly by
every instance. Replies keep their priority over broadcasts within each instance's share (the limiter's
turns).

A member that stops cleanly leaves at once; one that dies stops heartbeating and counts no more after
``TTL``, when the others take its share back. A newcomer waits one heartbeat before sending, so that
the others have seen it and lowered their shares by then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import timedelta

from bot.storage.base import Coordination

log = logging.getLogger(__name__)

HEARTBEAT = 1.0  # seconds between two heartbeats of an instance
TTL = timedelta(seconds=3)  # a member not heard from for this long counts no more
# A newcomer's wait before its first send: two of the others' heartbeats, so that each has counted it
# (one heartbeat could just miss the newcomer's first row).
JOIN_WAIT = 2 * HEARTBEAT


class SharedBudget:
    """This process's membership of ``pool``: how many instances share it (``members``), kept current."""

    def __init__(self, coordination: Coordination, pool: str, instance: str) -> None:
        self._coordination = coordination
        self.pool = pool
        self.member = f"{instance}:{uuid.uuid4().hex[:8]}"  # unique even if two instances share a name
        self.members = 1
        self.joined = asyncio.Event()  # set once this instance may send (the others know of it)
        self._task: asyncio.Task[None] | None = None
        self._shared = False

    def share(self, budget: float) -> float:
        """This instance's part of ``budget``."""
        return budget / self.members

    async def start(self) -> None:
        """Join the pool (one heartbeat), then keep heartbeating in the background."""
        count = await self._beat()
        if count is None:
            self.joined.set()  # one process on this backend: the whole budget, nothing to keep up
            return
        self._shared = True
        self._task = asyncio.create_task(self._run(), name=f"budget:{self.pool}")

    async def stop(self) -> None:
        """Leave the pool, so the others take this share at their next heartbeat."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._shared:
            try:
                await self._coordination.leave_budget(self.pool, self.member)
            except Exception as exc:  # the row lapses after TTL anyway
                log.warning("budget: could not leave %s (%s); the others take its share within %d s",
                            self.pool, exc, TTL.total_seconds())

    async def _run(self) -> None:
        waited = 0.0
        while True:
            await asyncio.sleep(HEARTBEAT)
            await self._beat()
            waited += HEARTBEAT
            if waited >= JOIN_WAIT:
                self.joined.set()

    async def _beat(self) -> int | None:
        try:
            count = await self._coordination.budget_members(self.pool, self.member, TTL)
        except Exception as exc:
            # Keep the last share: a database hiccup must not double this instance's rate.
            log.warning("budget: heartbeat for %s failed (%s); keeping a 1/%d share", self.pool, exc, self.members)
            return self.members
        if count is not None and count != self.members:
            log.info("budget: %d instance(s) share %s; this one takes 1/%d", count, self.pool, count)
            self.members = max(1, count)
        return count
