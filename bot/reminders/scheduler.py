"""The reminder scheduler: sleep until the next reminder is due, claim it, send it, record the outcome.

It never polls: it asks the database when the next reminder falls due and sleeps on the injected
clock until then, or until the service's ``wake`` event says something new was scheduled. Sends run
concurrently (up to ``max_in_flight``), so the platform's own rate limiter, not this loop, sets the
pace; claims of reminders queued behind that limiter are kept alive by a heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta

from bot.clock import Clock
from bot.events import Message, Recipient, UserKey
from bot.metrics import REMINDERS
from bot.platform import Delivery, Outgoing, Platform
from bot.reminders.kinds import ReminderRenderer, kind_of, superseded
from bot.reminders.service import ReminderService, turn_off
from bot.storage.base import FAILED, SENT, SKIPPED, UNREACHABLE, Reminder, ReminderQueue, UserStore

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=10)  # how soon a crashed process's claims are taken over after restart
MAX_IN_FLIGHT = 64  # enough to keep 30/s flowing; more only queues in the HTTP pool
MAX_ATTEMPTS = 5
RETRY_FIRST = timedelta(seconds=30)
RETRY_MAX = timedelta(minutes=30)
ERROR_PAUSE = timedelta(seconds=5)
STOP_GRACE = 1.0  # seconds for sends in flight at shutdown; the rest are retried after a restart


class _Recorder:
    """Group commit: outcomes that finish while a write is under way go together in the next one.

    One transaction per outcome would cap delivery at SQLite's commit rate; batching adds no delay
    when sends are sparse (a batch of one is written at once) and a few milliseconds under load.
    """

    def __init__(self, queue: ReminderQueue, owner: str) -> None:
        self._reminders = queue
        self._owner = owner
        self._queue: list[tuple[int, str, tuple[str, date] | None, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def record(self, rid: int, status: str, counted: tuple[str, date] | None) -> None:
        done = asyncio.get_running_loop().create_future()
        self._queue.append((rid, status, counted, done))
        if self._writer is None or self._writer.done():
            # Its own task: a delivery cancelled at shutdown must not cancel the write of others.
            self._writer = asyncio.create_task(self._write())
        await done

    async def _write(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            sent = Counter(c for _, _, c, _ in batch if c is not None)
            try:
                await self._reminders.record(self._owner, [(rid, status) for rid, status, _, _ in batch], sent)
            except Exception as exc:
                for *_, done in batch:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for *_, done in batch:
                    if not done.done():
                        done.set_result(None)

    async def drain(self) -> None:
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)


class Scheduler:
    """Deliver due reminders through the running platforms, each at most once per claim."""

    def __init__(self, queue: ReminderQueue, users: UserStore, renderer: ReminderRenderer,
                 platforms: dict[str, Platform], *, clock: Clock, wake: asyncio.Event,
                 on_start: Callable[[datetime], Awaitable[object]] | None = None,
                 max_in_flight: int = MAX_IN_FLIGHT, lease: timedelta = LEASE, max_attempts: int = MAX_ATTEMPTS) -> None:
        """``wake`` is set when something new is scheduled; ``on_start`` runs once before the first claim
        (the service's ``sync``: new deadlines, moved dates, change alerts)."""
        self.queue = queue
        self.users = users
        self.renderer = renderer
        # Every pack's reminders: whatever kind, whichever pack.
        self.packs = list(renderer.guides)
        self.clock = clock
        self.wake = wake
        self.on_start = on_start
        self.platforms = platforms
        self.max_in_flight = max_in_flight
        self.lease = lease
        self.max_attempts = max_attempts
        # Identifies this process's claims, so a late answer never records over another copy's claim.
        self.owner = uuid.uuid4().hex
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._drained = asyncio.Event()
        self._stopping = False
        self._done = asyncio.Event()
        self._running = False
        self._tally: Counter[str] = Counter()
        self._recorder = _Recorder(self.queue, self.owner)
        # Recipients found unreachable while their other reminders were already claimed: those are
        # not sent either. Cleared whenever nothing is in flight, so it stays small.
        self._unreachable: set[Recipient] = set()

    @classmethod
    def for_service(cls, service: ReminderService, platforms: dict[str, Platform], **options: object) -> Scheduler:
        """The scheduler of a reminder service's queue, users, renderer, clock and wake event."""
        return cls(service.queue, service.users, service.renderer, platforms, clock=service.clock,
                   wake=service.wake, on_start=service.sync, **options)  # type: ignore[arg-type]

    async def run(self) -> None:
        """Deliver reminders until ``stop()``."""
        self._running = True
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            try:
                if self.on_start is not None:
                    await self.on_start(self.clock.now())
            except Exception:
                # Reminders already scheduled still go out; new deadlines are picked up at the next start.
                log.exception("reminders: could not schedule the guide's new deadlines")
            while not self._stopping:
                try:
                    await self._pass()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # A locked or failing database must not end reminders for the life of the process.
                    log.exception("reminders: scheduler pass failed; trying again shortly")
                    await self.clock.sleep_until(self.clock.now() + ERROR_PAUSE, self.wake)
        finally:
            heartbeat.cancel()
            await self._cancel_in_flight()
            await self._recorder.drain()
            self._done.set()

    async def _pass(self) -> None:
        wake = self.wake
        wake.clear()
        # Refill only when half the slots are free, so claims go in batches, not one row per transaction.
        if len(self._in_flight) > self.max_in_flight // 2:
            self._drained.clear()
            await self._drained.wait()
            return
        now = self.clock.now()
        free = self.max_in_flight - len(self._in_flight)
        batch = await self.queue.claim(now, free, self.owner, now + self.lease, list(self.platforms), self.packs)
        self._start(batch, now)
        if len(batch) == free:
            return  # more may be due right now
        due = await self.queue.next_due(list(self.platforms), self.packs)
        if self._stopping:
            return
        await self.clock.sleep_until(due or now + timedelta(hours=1), wake)

    def _start(self, batch: list[Reminder], now: datetime) -> None:
        skipped = superseded(batch)
        for row in batch:
            if row.id in self._in_flight:
                continue  # our own claim lapsed (a stalled loop) and was renewed: it is being sent already
            task = asyncio.create_task(self._deliver(row, row.id in skipped))
            self._in_flight[row.id] = task
            task.add_done_callback(lambda _t, rid=row.id: self._finished(rid))

    def _finished(self, rid: int) -> None:
        self._in_flight.pop(rid, None)
        if len(self._in_flight) <= self.max_in_flight // 2:
            self._drained.set()
        if not self._in_flight:
            self._unreachable.clear()
        if not self._in_flight and self._tally:
            log.info("reminders: %s", ", ".join(f"{n} {what}" for what, n in sorted(self._tally.items())))
            self._tally.clear()

    async def _deliver(self, row: Reminder, superseded: bool) -> None:
        now = self.clock.now()
        try:
            skip = superseded or row.recipient in self._unreachable
            message = None if skip else await self._message(row, now)
            if message is None:
                await self._record(row, SKIPPED)
                return
            result = await self.platforms[row.recipient.platform].send(Outgoing(row.recipient, (message,)))
        except asyncio.CancelledError:
            raise  # shutting down: the claim lapses and the reminder is sent after the restart
        except Exception:
            log.exception("reminders: sending reminder %d failed", row.id)
            result = Delivery.FAILED
        try:
            if result is Delivery.SENT:
                await self._record(row, SENT)
            elif result is Delivery.UNREACHABLE:
                self._unreachable.add(row.recipient)
                await self._record(row, UNREACHABLE)
                await turn_off(self.queue, row.recipient)
            elif row.attempts >= self.max_attempts:
                log.warning("reminders: reminder %d failed %d times; giving up", row.id, row.attempts)
                await self._record(row, FAILED)
            else:
                delay = min(RETRY_FIRST * 2 ** (row.attempts - 1), RETRY_MAX)
                await self.queue.release(row.id, self.owner, self.clock.now() + delay)
                self._tally["to retry"] += 1
                self.wake.set()
        except asyncio.CancelledError:
            raise
        except Exception:
            # The claim lapses and the reminder is tried again: at most one repeat, never a loss.
            log.exception("reminders: recording reminder %d failed", row.id)

    async def _record(self, row: Reminder, status: str) -> None:
        platform = row.recipient.platform
        counted = (platform, self.clock.now().date()) if status == SENT else None
        await self._recorder.record(row.id, status, counted)
        REMINDERS.labels(platform, status).inc()
        self._tally[status] += 1
        log.debug("reminders: %s %s %s", row.id, row.recipient, status)

    async def _message(self, row: Reminder, now: datetime) -> Message | None:
        """Return the message for a claimed reminder, or None when it is no longer worth sending."""
        channel = row.recipient.kind == "channel"
        if channel and (row.scope is None
                        or await self.queue.channel(row.recipient.platform, row.scope, row.pack) != row.recipient):
            return None  # announcements turned off, or moved to another channel, since it was claimed
        if kind_of(row) is None:
            log.warning("reminders: reminder %d has an unknown kind %r; skipped", row.id, row.kind)
            return None
        # Rendered when sent, in the recipient's language as it is now.
        state = None if channel else await self.users.get_user(UserKey(row.recipient.platform, row.recipient.id),
                                                                row.pack)
        return self.renderer.render(row, state, now)

    async def _heartbeat(self) -> None:
        while True:
            await self.clock.sleep_until(self.clock.now() + self.lease / 3)
            if self._in_flight:
                try:
                    await self.queue.extend_leases(self.owner, list(self._in_flight), self.clock.now() + self.lease)
                except Exception:
                    log.exception("reminders: could not extend the claims in flight")

    async def _cancel_in_flight(self) -> None:
        tasks = list(self._in_flight.values())
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=STOP_GRACE)
        for task in pending:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*pending, return_exceptions=True)

    async def stop(self) -> None:
        """Stop claiming, give the sends in flight a moment, and return once the loop has ended."""
        self._stopping = True
        self.wake.set()
        self._drained.set()
        if self._running:
            await self._done.wait()
