"""The reminder service: what the engine and the Discord admin commands call to (un)schedule reminders.

Kinds of reminder (the ``kind`` column):
- ``deadline``: at one of a guide deadline's offsets before it (users, and Discord servers' channels);
- ``checkback``: "look at the setting again" once every deadline has passed (``about`` = its due day);
- ``verify``: one "did it work?" to a user who saw the steps and asked for reminders but never
  said the setting is off.
"""

from __future__ import annotations

import asyncio
import calendar
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.events import PlatformHints, Recipient, UserKey
from bot.guide import Deadline, Guide, ResultNode
from bot.i18n import EN, Lang
from bot.reminders import texts
from bot.storage.base import NewReminder, Reminder, ReminderQueue, Subscriber, UserStore

log = logging.getLogger(__name__)

DEADLINE, CHECKBACK, VERIFY = "deadline", "checkback", "verify"
VERIFY_AFTER = timedelta(days=2)
# A subscription row with this deadline id marks a recipient who follows deadlines, including ones
# a maintainer adds to the guide later.
FOLLOWS = ""
CHECK_BACK_MONTHS = {"P7D": 0, "P1M": 1, "P3M": 3}


def add_months(at: datetime, months: int) -> datetime:
    """Same day ``months`` later, clamped to the month's last day (31 January + 1 month = 28/29 February)."""
    month0 = at.month - 1 + months
    year, month = at.year + month0 // 12, month0 % 12 + 1
    return at.replace(year=year, month=month, day=min(at.day, calendar.monthrange(year, month)[1]))


def checkback_due(code: str, now: datetime) -> datetime:
    months = CHECK_BACK_MONTHS[code]
    return add_months(now, months) if months else now + timedelta(days=7)


def seconds(offset: timedelta) -> int:
    return int(offset.total_seconds())


class ReminderService:
    """Schedule, describe and cancel reminders; implements bot.engine.Reminders."""

    def __init__(self, queue: ReminderQueue, users: UserStore, guide: Guide, clock: Clock, *,
                 verify_after: timedelta = VERIFY_AFTER, hints: Mapping[str, PlatformHints] | None = None) -> None:
        self.queue = queue
        # {platform: how it spells commands}: the confirmations say how to stop reminders there.
        self.hints = dict(hints or {})
        self.users = users
        self.guide = guide
        self.pack = guide.pack
        self.clock = clock
        self.verify_after = verify_after
        self._local_deadlines: dict[str, dict[str, Deadline]] = {}
        # Set whenever something is scheduled, so the scheduler re-reads when the next one is due.
        self.wake = asyncio.Event()

    # What fits the date ----------------------------------------------------------------------
    def _ahead(self, now: datetime) -> list[Deadline]:
        return sorted((d for d in self.guide.deadlines if d.at > now), key=lambda d: d.at)

    @staticmethod
    def _future_offsets(deadline: Deadline, now: datetime) -> list[timedelta]:
        return sorted((o for o in deadline.offsets if deadline.at - o > now), reverse=True)

    def deadlines_in(self, t: Lang) -> dict[str, Deadline]:
        """The guide's deadlines with their labels in ``t``'s language (English where the pack lacks it)."""
        local = self._local_deadlines.get(t.code)
        if local is None:
            local = self._local_deadlines[t.code] = {d.id: d for d in self.guide.in_language(t.code).deadlines}
        return local

    def offers(self, key: UserKey, now: datetime, *, turned_off: bool = False, t: Lang = EN) -> list[tuple[str, str]]:
        """Return (offer id, button label) pairs that fit the date and the user.

        Someone who has said the setting is off gets check-backs, never deadline reminders (those
        are written for people who have not switched it off yet).
        """
        if turned_off:
            return self._check_backs(t)
        upcoming = [(d, offs) for d in self._ahead(now) if (offs := self._future_offsets(d, now))]
        if len(upcoming) == 1:
            deadline, offsets = upcoming[0]
            return [("dl", texts.deadline_offer(offsets, deadline, t=t))]
        if upcoming:
            every = sorted({o for _, offs in upcoming for o in offs}, reverse=True)
            return [("dl", texts.deadline_offer(every, None, t=t))]
        return self._check_backs(t)

    @staticmethod
    def _check_backs(t: Lang) -> list[tuple[str, str]]:
        return [(f"cb:{code}", t._(label)) for code, label in texts.CHECK_BACK_OFFERS]

    def _deadline_rows(self, to: Subscriber, deadline: Deadline, now: datetime, *, catch_up: bool) -> list[NewReminder]:
        offsets = self._future_offsets(deadline, now)
        if not offsets and catch_up and deadline.offsets and deadline.at > now:
            # A deadline new to this recipient with every offset already past: one reminder now beats
            # none, since it is still ahead.
            return [NewReminder(to.recipient, self.pack, DEADLINE, deadline.id, seconds(min(deadline.offsets)), now,
                                to.scope)]
        return [NewReminder(to.recipient, self.pack, DEADLINE, deadline.id, seconds(o), deadline.at - o, to.scope)
                for o in offsets]

    # The engine's calls ----------------------------------------------------------------------
    async def subscribe(self, key: UserKey, offer: str, now: datetime, *, turned_off: bool = False,
                        t: Lang = EN) -> str | None:
        """Schedule an offer; return the confirmation text, or None if the offer is not valid now."""
        if offer not in {o for o, _ in self.offers(key, now, turned_off=turned_off)}:
            return None
        to = Subscriber(Recipient.user(key), self.pack)
        if offer == "dl":
            ahead = self._ahead(now)
            rows = [r for d in ahead for r in self._deadline_rows(to, d, now, catch_up=False)]
            await self.queue.subscribe(to, [FOLLOWS, *(d.id for d in ahead)], rows)
            local = self.deadlines_in(t)
            lines = [texts.deadline_line(local[d.id], o, t=t) for d in ahead for o in self._future_offsets(d, now)]
            text = texts.subscribed(lines, self._stop_command(key), t=t)
        else:
            due = checkback_due(offer.removeprefix("cb:"), now)
            await self.queue.subscribe(to, [FOLLOWS], [])
            await self.queue.replace_pending(
                NewReminder(to.recipient, self.pack, CHECKBACK, due.date().isoformat(), 0, due)
            )
            text = texts.checkback_subscribed(due, self._stop_command(key), t=t)
        await self._maybe_verify(key, now)
        self.wake.set()
        log.debug("reminders: %s subscribed to %s", key, offer)
        return text

    def _stop_command(self, key: UserKey) -> str:
        return self.hints.get(key.platform, PlatformHints()).stop_reminders

    async def _maybe_verify(self, key: UserKey, now: datetime) -> None:
        state = await self.users.get_user(key, self.pack)
        if state is None or state.answers.get(self.guide.confirm_key) == "yes":
            return
        seen = [state.node, *(node for node, _ in state.history)]
        if not any(self.guide.has_node(n) and isinstance(self.guide.node(n), ResultNode) for n in seen):
            return
        wait = self.verify_after
        ahead = self._ahead(now)
        if ahead:
            # Ask in time for the answer to matter: halfway to the next deadline at the latest.
            wait = min(wait, (ahead[0].at - now) / 2)
        await self.queue.schedule([NewReminder(Recipient.user(key), self.pack, VERIFY, "", 0, now + wait)])

    async def describe(self, key: UserKey, now: datetime, *, t: Lang = EN) -> str | None:
        """Return a sentence about what is scheduled for the user, or None when nothing is."""
        lines = self._lines(await self.queue.pending(Recipient.user(key), self.pack), t)
        return texts.scheduled(lines, t=t) if lines else None

    def _lines(self, rows: list[Reminder], t: Lang = EN) -> list[str]:
        deadlines = self.deadlines_in(t)
        lines = []
        for row in rows:
            if row.kind == DEADLINE and row.about in deadlines:
                lines.append(texts.deadline_line(deadlines[row.about], timedelta(seconds=row.offset_s), t=t))
            elif row.kind == CHECKBACK:
                lines.append(texts.checkback_line(row.due_at, t=t))
            elif row.kind == VERIFY:
                lines.append(texts.verify_line(row.due_at, t=t))
        return lines

    async def cancel(self, key: UserKey) -> int:
        """Cancel every pending reminder of the user; return how many."""
        cancelled, _ = await self.queue.cancel(Recipient.user(key), self.pack)
        log.debug("reminders: %s cancelled %d", key, cancelled)
        return cancelled

    async def confirmed(self, key: UserKey, now: datetime) -> None:
        """The user confirmed the setting is off: drop the "did it work?" check-back."""
        await self.queue.skip_pending(Recipient.user(key), self.pack, VERIFY)

    async def unreachable(self, recipient: Recipient) -> None:
        """The user blocked the bot or closed DMs, or a channel is gone or closed to the bot: turn off
        everything it would receive, in every pack, logging it once."""
        cancelled, followed = await self.queue.cancel(recipient)
        if not (cancelled or followed):
            return
        if recipient.kind == "channel":
            log.warning("reminders: a %s announcement channel cannot be reached; announcements are off",
                        recipient.platform)
        else:
            # No user id at INFO: the line says what happened, DEBUG says to whom.
            log.info("reminders: a %s user can no longer be reached; their reminders are off", recipient.platform)
        log.debug("reminders: unreachable %s", recipient)

    # Start-up --------------------------------------------------------------------------------
    async def sync(self, now: datetime) -> int:
        """Bring the schedule in line with the guide: new deadlines for subscribers, moved dates; return new rows."""
        for deadline in self.guide.deadlines:
            for offset in deadline.offsets:
                await self.queue.move_due(self.pack, DEADLINE, deadline.id, seconds(offset), deadline.at - offset)
        added = 0
        ahead = self._ahead(now)
        for subscriber, known in (await self.queue.subscriptions(self.pack)).items():
            new = [d for d in ahead if d.id not in known]
            if not new or FOLLOWS not in known:
                continue
            rows = [r for d in new for r in self._deadline_rows(subscriber, d, now, catch_up=True)]
            added += await self.queue.subscribe(subscriber, [d.id for d in new], rows)
        if added:
            log.info("reminders: scheduled %d reminders for deadlines new to their subscribers", added)
            self.wake.set()
        return added

    # Announcement channels ------------------------------------------------------------------
    # A platform's admins turn announcements on and off for a ``scope`` the adapter chooses (Discord: the
    # server); the core only keeps which channel of the scope receives them.
    async def subscribe_channel(self, channel: Recipient, scope: str, now: datetime) -> str:
        """Post the scope's deadline announcements in ``channel``; return what will be posted."""
        to = Subscriber(channel, self.pack, scope)
        ahead = self._ahead(now)
        rows = [r for d in ahead for r in self._deadline_rows(to, d, now, catch_up=False)]
        await self.queue.subscribe(to, [FOLLOWS, *(d.id for d in ahead)], rows)
        self.wake.set()
        log.info("reminders: a %s server turned deadline announcements on", channel.platform)
        return texts.channel_on(self._lines(await self.queue.pending(channel, self.pack)))

    async def unsubscribe_scope(self, platform: str, scope: str) -> bool:
        """Stop the scope's announcements; return False if they were not on."""
        removed = await self.queue.unsubscribe_scope(platform, scope)
        if removed:
            log.info("reminders: a %s server turned deadline announcements off", platform)
        return removed

    async def channel_status(self, platform: str, scope: str, now: datetime) -> str:
        """Say whether the scope gets announcements and which are scheduled."""
        channel = await self.queue.channel(platform, scope, self.pack)
        if channel is None:
            return texts.CHANNEL_NONE
        return texts.channel_on(self._lines(await self.queue.pending(channel, self.pack)))
