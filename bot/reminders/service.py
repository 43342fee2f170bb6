"""The reminder service: what the engine and the Discord admin commands call to (un)schedule reminders.

Kinds of reminder (the ``kind`` column):
- ``deadline``: at one of a guide deadline's offsets before it (users, and Discord servers' channels);
- ``checkback``: "look at the setting again" once every deadline has passed (``about`` = its due day);
- ``verify``: one "did it work?" to a user who saw the steps and asked for reminders but never
  said the setting is off;
- ``alert``: a guide pack's ``changes`` note, once per subscriber and pack version (``about`` = the
  version), in any pack. Scheduled at start-up by ``sync``; the unique key makes a restart, a second
  copy or a SIGKILL mid-broadcast unable to schedule one twice.
"""

from __future__ import annotations

import asyncio
import calendar
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.events import PlatformHints, Recipient, UserKey
from bot.guide import Deadline, Guide, ResultNode
from bot.i18n import EN, Lang
from bot.reminders import texts
from bot.storage.base import NewReminder, Reminder, ReminderQueue, Subscriber, UserStore

log = logging.getLogger(__name__)

DEADLINE, CHECKBACK, VERIFY, ALERT = "deadline", "checkback", "verify", "alert"
VERIFY_AFTER = timedelta(days=2)
# A subscription row with this deadline id marks a recipient who follows deadlines, including ones
# a maintainer adds to the guide later.
FOLLOWS = ""
# Subscription rows for change alerts: "!alerts@VERSION" says the recipient follows the pack's changes
# and had seen that version when subscribing, so its note is no news to them. Deadline ids cannot
# start with "!" (bot.guide.Id).
ALERTS = "!alerts@"


def alerts_marker(version: str) -> str:
    return f"{ALERTS}{version}"


def follows_alerts(known: set[str]) -> bool:
    return any(d.startswith(ALERTS) for d in known)


async def alert_subscribers(queue: ReminderQueue, packs: Sequence[str]) -> dict[str, int]:
    """Return {pack: how many people and channels follow its changes}: anonymous totals (optout-bot stats)."""
    return {pack: sum(follows_alerts(known) for known in (await queue.subscriptions(pack)).values()) for pack in packs}
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

    def __init__(self, queue: ReminderQueue, users: UserStore, guide: Guide | Sequence[Guide], clock: Clock, *,
                 verify_after: timedelta = VERIFY_AFTER, hints: Mapping[str, PlatformHints] | None = None) -> None:
        self.queue = queue
        # {platform: how it spells commands}: the confirmations say how to stop reminders there.
        self.hints = dict(hints or {})
        self.users = users
        guides = [guide] if isinstance(guide, Guide) else list(guide)
        # The default pack has the deadlines, check-backs and check-ins; every pack has change alerts.
        self.guide = guides[0]
        self.pack = self.guide.pack
        self.packs = {g.pack: g for g in guides}
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
    def calendar(self, offer: str, now: datetime, *, t: Lang = EN) -> list[tuple[datetime, str]]:
        """The (when, what) of each reminder ``offer`` stands for, for a calendar file in place of a
        subscription (the web chat keeps nothing to remind anyone); [] when the offer does not fit now."""
        if offer == "dl":
            local = self.deadlines_in(t)
            return [(d.at - o, texts.deadline_line(local[d.id], o, t=t))
                    for d in self._ahead(now) for o in self._future_offsets(d, now)]
        code = offer.removeprefix("cb:")
        if offer.startswith("cb:") and code in CHECK_BACK_MONTHS:
            due = checkback_due(code, now)
            return [(due, texts.checkback_line(due, t=t))]
        return []

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
        """Cancel every pending reminder and subscription of the user, change alerts included, in every
        pack; return how many reminders, plus one if it had subscriptions (0: there was nothing to stop)."""
        cancelled, followed = await self.queue.cancel(Recipient.user(key))
        log.debug("reminders: %s cancelled %d", key, cancelled)
        return cancelled + int(followed)

    # Change alerts ----------------------------------------------------------------------------
    def qualifier(self, pack: str) -> str | None:
        """What a pack's button data carries (bot.button_data): None for the default pack."""
        return None if pack == self.pack else pack

    async def follow_changes(self, key: UserKey, pack: str, now: datetime, *, t: Lang = EN) -> str:
        """Subscribe the user to a pack's change alerts; return the confirmation."""
        guide = self.packs[pack]
        await self.queue.subscribe(Subscriber(Recipient.user(key), pack), [alerts_marker(guide.version)], [])
        log.debug("reminders: %s follows the changes of %s", key, pack)
        return texts.alerts_subscribed(guide.name, self._stop_command(key), t=t)

    async def sync_alerts(self, now: datetime) -> int:
        """Schedule each pack's current ``changes`` note for its subscribers who have not had it; return new rows."""
        added = 0
        for guide in self.packs.values():
            note = guide.changes
            if note is None or note.version != guide.version:
                continue  # a note left over from an earlier version announces nothing
            seen = alerts_marker(guide.version)
            rows = [NewReminder(sub.recipient, guide.pack, ALERT, guide.version, 0, now, sub.scope)
                    for sub, known in (await self.queue.subscriptions(guide.pack)).items()
                    if follows_alerts(known) and seen not in known]
            new = await self.queue.schedule(rows)
            if new:
                log.info("reminders: %s changed (version %s): alerting %d subscribers", guide.pack, guide.version, new)
            added += new
        if added:
            self.wake.set()
        return added

    async def alert_subscribers(self) -> dict[str, int]:
        """Return {pack: how many people and channels follow its changes}."""
        return await alert_subscribers(self.queue, list(self.packs))

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
        """Bring the schedule in line with the guides: new deadlines for subscribers, moved dates, change
        alerts; return new rows."""
        return await self._sync_deadlines(now) + await self.sync_alerts(now)

    async def _sync_deadlines(self, now: datetime) -> int:
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
    async def subscribe_channel(self, channel: Recipient, scope: str, now: datetime, pack: str | None = None) -> str:
        """Post the scope's announcements of a pack in ``channel``: the default pack's deadlines and every
        pack's changes; return what will be posted."""
        pack = pack or self.pack
        guide = self.packs.get(pack)
        if guide is None:
            return texts.CHANNEL_UNKNOWN_PACK
        to = Subscriber(channel, pack, scope)
        seen = alerts_marker(guide.version)
        if pack != self.pack:
            await self.queue.subscribe(to, [seen], [])
            log.info("reminders: a %s server turned change alerts of %s on", channel.platform, pack)
            return texts.channel_alerts_on(guide.name)
        ahead = self._ahead(now)
        rows = [r for d in ahead for r in self._deadline_rows(to, d, now, catch_up=False)]
        await self.queue.subscribe(to, [FOLLOWS, seen, *(d.id for d in ahead)], rows)
        self.wake.set()
        log.info("reminders: a %s server turned deadline announcements on", channel.platform)
        return texts.channel_on(self._lines(await self.queue.pending(channel, self.pack)))

    async def unsubscribe_scope(self, platform: str, scope: str, pack: str | None = None) -> bool:
        """Stop the scope's announcements of one pack, or of all; return False if they were not on."""
        removed = await self.queue.unsubscribe_scope(platform, scope, pack)
        if removed:
            log.info("reminders: a %s server turned announcements off", platform)
        return removed

    async def channel_status(self, platform: str, scope: str, now: datetime) -> str:
        """Say whether the scope gets announcements and which are scheduled."""
        channel = await self.queue.channel(platform, scope, self.pack)
        text = (texts.CHANNEL_NONE if channel is None
                else texts.channel_on(self._lines(await self.queue.pending(channel, self.pack))))
        others = [g.name for g in self.packs.values()
                  if g.pack != self.pack and await self.queue.channel(platform, scope, g.pack) is not None]
        return f"{text}\n\n{texts.channel_alerts_status(others)}" if others else text
