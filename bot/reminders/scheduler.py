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
from datetime import date, datetime, timedelta

from bot.events import Message, Recipient, UserKey
from bot.i18n import lang, person_language
from bot.metrics import REMINDERS
from bot.platform import Delivery, Outgoing, Platform
from bot.reminders import texts
from bot.reminders.service import ALERT, CHECKBACK, DEADLINE, VERIFY, ReminderService
from bot.storage.base import FAILED, SENT, SKIPPED, UNREACHABLE, Reminder, ReminderQueue

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

    def __init__(self, service: ReminderService, platforms: dict[str, Platform], *,
                 max_in_flight: int = MAX_IN_FLIGHT, lease: timedelta = LEASE, max_attempts: int = MAX_ATTEMPTS) -> None:
        self.service = service
        self.queue = service.queue
        # Every pack's reminders: the default pack's deadlines and check-backs, and any pack's alerts.
        self.packs = list(service.packs)
        self.guide = service.guide
        self.clock = service.clock
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

    async def run(self) -> None:
        """Deliver reminders until ``stop()``."""
        self._running = True
        heartbeat = asyncio.create_task(self._heartbeat())
        try:
            try:
                await self.service.sync(self.clock.now())
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
                    await self.clock.sleep_until(self.clock.now() + ERROR_PAUSE, self.service.wake)
        finally:
            heartbeat.cancel()
            await self._cancel_in_flight()
            await self._recorder.drain()
            self._done.set()

    async def _pass(self) -> None:
        wake = self.service.wake
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
        # After downtime several offsets of one deadline can be due at once: only the nearest is worth
        # sending ("1 day left"), the earlier ones ("7 days left") are skipped.
        nearest: dict[tuple[Recipient, str], int] = {}
        for row in batch:
            if row.kind == DEADLINE:
                k = (row.recipient, row.about)
                nearest[k] = min(nearest.get(k, row.offset_s), row.offset_s)
        for row in batch:
            if row.id in self._in_flight:
                continue  # our own claim lapsed (a stalled loop) and was renewed: it is being sent already
            superseded = row.kind == DEADLINE and row.offset_s != nearest[(row.recipient, row.about)]
            task = asyncio.create_task(self._deliver(row, superseded))
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
                await self.service.unreachable(row.recipient)
            elif row.attempts >= self.max_attempts:
                log.warning("reminders: reminder %d failed %d times; giving up", row.id, row.attempts)
                await self._record(row, FAILED)
            else:
                delay = min(RETRY_FIRST * 2 ** (row.attempts - 1), RETRY_MAX)
                await self.queue.release(row.id, self.owner, self.clock.now() + delay)
                self._tally["to retry"] += 1
                self.service.wake.set()
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
        # Rendered when sent, in the recipient's language as it is now (a channel's is not known: English).
        state = None if channel else await self.service.users.get_user(
            UserKey(row.recipient.platform, row.recipient.id), row.pack)
        t = lang(person_language(state.language, state.locale) if state else None)
        if row.kind == DEADLINE:
            deadline = self.service.deadlines_in(t).get(row.about)
            # Passed while the bot was down, or taken out of the guide: recorded as skipped, not sent.
            if deadline is None or deadline.at <= now or row.offset_s not in {int(o.total_seconds()) for o in deadline.offsets}:
                return None
            if channel:
                return texts.announcement(deadline, now, self.guide.steps_entry, t=t)
            return texts.deadline_reminder(deadline, now, self.guide.steps_entry, t=t)
        if row.kind == CHECKBACK:
            return texts.checkback_reminder(self.guide.steps_entry, t=t)
        if row.kind == VERIFY:
            if state is None or state.answers.get(self.guide.confirm_key) == "yes":
                return None
            return texts.verify_reminder(self.guide.steps_entry, self.guide.troubleshoot_entry, t=t)
        if row.kind == ALERT:
            guide = self.service.packs.get(row.pack)
            note = guide.changes if guide is not None else None
            # The pack was bumped again (or removed) since: that note is no longer the news.
            if guide is None or note is None or not guide.version == note.version == row.about:
                return None
            # The note in the recipient's language where the pack has it (else the pack's English).
            local = guide.in_language(t.code).changes or note
            return texts.change_alert(guide.name, local.text, guide.steps_entry, self.service.qualifier(guide.pack),
                                      channel=channel, t=t)
        log.warning("reminders: reminder %d has an unknown kind %r; skipped", row.id, row.kind)
        return None

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
        self.service.wake.set()
        self._drained.set()
        if self._running:
            await self._done.wait()
