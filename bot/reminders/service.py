"""The reminder service: what the engine and the Discord admin commands call to (un)schedule reminders,
in any pack. The kinds of reminder, and what each is scheduled as, says and looks like, are in
bot/reminders/kinds.py. Change alerts are scheduled at start-up by ``sync``; the unique key makes a
restart, a second copy or a SIGKILL mid-broadcast unable to schedule one twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from bot.clock import Clock
from bot.events import PlatformHints, Recipient, UserKey
from bot.guide import Deadline, Guide, ResultNode
from bot.i18n import EN, Lang
from bot.reminders import texts
from bot.reminders.kinds import (
    ALERT,
    CHECK_BACK_MONTHS,
    CHECKBACK,
    DEADLINE,
    VERIFY,
    AlertKind,
    CheckBackKind,
    DeadlineKind,
    ReminderRenderer,
    VerifyKind,
    add_months,
    ahead,
    checkback_due,
    future_offsets,
    seconds,
)
from bot.storage.base import ReminderQueue, Subscriber, UserStore

__all__ = ["ALERT", "CHECKBACK", "DEADLINE", "VERIFY", "ReminderService", "add_months", "alert_subscribers",
           "checkback_due", "turn_off"]

log = logging.getLogger(__name__)

VERIFY_AFTER = VerifyKind.AFTER
async def alert_subscribers(queue: ReminderQueue, packs: Sequence[str]) -> dict[str, int]:
    """Return {pack: how many people and channels follow its changes}: anonymous totals (optout-bot stats)."""
    return {pack: sum(f.changes_seen is not None for f in (await queue.subscriptions(pack)).values())
            for pack in packs}


async def turn_off(queue: ReminderQueue, recipient: Recipient) -> None:
    """The user blocked the bot or closed DMs, or a channel is gone or closed to the bot: turn off
    everything it would receive, in every pack, logging it once."""
    cancelled, followed = await queue.cancel(recipient)
    if not (cancelled or followed):
        return
    if recipient.kind == "channel":
        log.warning("reminders: a %s announcement channel cannot be reached; announcements are off",
                    recipient.platform)
    else:
        # No user id at INFO: the line says what happened, DEBUG says to whom.
        log.info("reminders: a %s user can no longer be reached; their reminders are off", recipient.platform)
    log.debug("reminders: unreachable %s", recipient)


class ReminderService:
    """Schedule, describe and cancel reminders of every pack; implements bot.engine.Reminders.

    Every pack is alike: any may declare deadlines (reminders before them, announcements in channels);
    every pack has check-backs, "did it work?" check-ins and change alerts. What each kind of reminder
    is scheduled as, says and looks like is in bot/reminders/kinds.py.
    """

    def __init__(self, queue: ReminderQueue, users: UserStore, guide: Guide | Sequence[Guide], clock: Clock, *,
                 verify_after: timedelta = VERIFY_AFTER, hints: Mapping[str, PlatformHints] | None = None) -> None:
        self.queue = queue
        # {platform: how it spells commands}: the confirmations say how to stop reminders there.
        self.hints = dict(hints or {})
        self.users = users
        guides = [guide] if isinstance(guide, Guide) else list(guide)
        self.guide = guides[0]  # the default pack: what a request that names none is about
        self.pack = self.guide.pack
        self.packs = {g.pack: g for g in guides}
        self.renderer = ReminderRenderer(self.packs)
        self.clock = clock
        self.verify_after = verify_after
        # Set whenever something is scheduled, so the scheduler re-reads when the next one is due.
        self.wake = asyncio.Event()

    def _guide(self, pack: str | None) -> Guide:
        return self.packs[pack or self.pack]

    def deadlines_in(self, t: Lang, pack: str | None = None) -> dict[str, Deadline]:
        """A pack's deadlines with their labels in ``t``'s language (English where the pack lacks it)."""
        local = self.renderer.guide(pack or self.pack, t)
        return {d.id: d for d in local.deadlines} if local else {}

    # What fits the date ----------------------------------------------------------------------
    def offers(self, key: UserKey | None, now: datetime, *, pack: str | None = None, turned_off: bool = False,
               t: Lang = EN) -> list[tuple[str, str]]:
        """Return (offer id, button label) pairs that fit the date for a person in ``pack`` (the default pack).

        Someone who has said the setting is off gets check-backs, never deadline reminders (those
        are written for people who have not switched it off yet); so does everyone in a pack with no
        deadline ahead.
        """
        if turned_off:
            return self._check_backs(t)
        guide = self._guide(pack)
        upcoming = [(d, offs) for d in ahead(guide, now) if (offs := future_offsets(d, now))]
        if len(upcoming) == 1:
            deadline, offsets = upcoming[0]
            local = self.deadlines_in(t, guide.pack)[deadline.id]
            return [("dl", texts.deadline_offer(offsets, local, t=t))]
        if upcoming:
            every = sorted({o for _, offs in upcoming for o in offs}, reverse=True)
            return [("dl", texts.deadline_offer(every, None, t=t))]
        return self._check_backs(t)

    @staticmethod
    def _check_backs(t: Lang) -> list[tuple[str, str]]:
        return [(f"cb:{code}", t._(label)) for code, label in texts.CHECK_BACK_OFFERS]

    # The engine's calls ----------------------------------------------------------------------
    def calendar(self, offer: str, now: datetime, *, pack: str | None = None, t: Lang = EN) -> list[tuple[datetime, str]]:
        """The (when, what) of each reminder ``offer`` stands for in a pack, for a calendar file in place of a
        subscription (the web chat keeps nothing to remind anyone); [] when the offer does not fit now."""
        guide = self._guide(pack)
        if offer == "dl":
            local = self.deadlines_in(t, guide.pack)
            return [(d.at - o, texts.deadline_line(local[d.id], o, t=t))
                    for d in ahead(guide, now) for o in future_offsets(d, now)]
        code = offer.removeprefix("cb:")
        if offer.startswith("cb:") and code in CHECK_BACK_MONTHS:
            due = checkback_due(code, now)
            return [(due, texts.checkback_line(due, t=t))]
        return []

    async def subscribe(self, key: UserKey, offer: str, now: datetime, *, pack: str | None = None,
                        turned_off: bool = False, t: Lang = EN) -> str | None:
        """Schedule an offer in a pack; return the confirmation text, or None if the offer is not valid now."""
        guide = self._guide(pack)
        if offer not in {o for o, _ in self.offers(key, now, pack=guide.pack, turned_off=turned_off)}:
            return None
        to = Subscriber(Recipient.user(key), guide.pack)
        if offer == "dl":
            upcoming = ahead(guide, now)
            rows = [r for d in upcoming for r in DeadlineKind.plan(to, guide, d, now, catch_up=False)]
            await self.queue.subscribe(to, [d.id for d in upcoming], rows, deadlines=True)
            local = self.deadlines_in(t, guide.pack)
            lines = [texts.deadline_line(local[d.id], o, t=t) for d in upcoming for o in future_offsets(d, now)]
            text = texts.subscribed(lines, self._stop_command(key), t=t)
        else:
            row = CheckBackKind.plan(to.recipient, guide.pack, offer.removeprefix("cb:"), now)
            await self.queue.subscribe(to, [], [], deadlines=True)
            await self.queue.replace_pending(row)
            text = texts.checkback_subscribed(row.due_at, self._stop_command(key), t=t)
        await self._maybe_verify(key, guide, now)
        self.wake.set()
        log.debug("reminders: %s subscribed to %s in %s", key, offer, guide.pack)
        return text

    def _stop_command(self, key: UserKey) -> str:
        return self.hints.get(key.platform, PlatformHints()).stop_reminders

    async def _maybe_verify(self, key: UserKey, guide: Guide, now: datetime) -> None:
        state = await self.users.get_user(key, guide.pack)
        if state is None or state.answers.get(guide.confirm_key) == "yes":
            return
        seen = [state.node, *(node for node, _ in state.history)]
        if not any(guide.has_node(n) and isinstance(guide.node(n), ResultNode) for n in seen):
            return
        await self.queue.schedule([VerifyKind.plan(Recipient.user(key), guide, now, self.verify_after)])

    async def describe(self, key: UserKey, now: datetime, *, pack: str | None = None, t: Lang = EN) -> str | None:
        """Return a sentence about what is scheduled for the user in a pack, or None when nothing is."""
        lines = self.renderer.describe(await self.queue.pending(Recipient.user(key), self._guide(pack).pack), t)
        return texts.scheduled(lines, t=t) if lines else None

    async def cancel(self, key: UserKey) -> int:
        """Cancel every pending reminder and subscription of the user, change alerts included, in every
        pack; return how many reminders, plus one if it had subscriptions (0: there was nothing to stop)."""
        cancelled, followed = await self.queue.cancel(Recipient.user(key))
        log.debug("reminders: %s cancelled %d", key, cancelled)
        return cancelled + int(followed)

    # Change alerts ----------------------------------------------------------------------------
    async def follow_changes(self, key: UserKey, pack: str, now: datetime, *, t: Lang = EN) -> str:
        """Subscribe the user to a pack's change alerts; return the confirmation."""
        guide = self.packs[pack]
        await self.queue.subscribe(Subscriber(Recipient.user(key), pack), [], [], changes_seen=guide.version)
        log.debug("reminders: %s follows the changes of %s", key, pack)
        return texts.alerts_subscribed(guide.name, self._stop_command(key), t=t)

    async def sync_alerts(self, now: datetime) -> int:
        """Schedule each pack's current ``changes`` note for its subscribers who have not had it; return new rows."""
        added = 0
        for guide in self.packs.values():
            note = guide.changes
            if note is None or note.version != guide.version:
                continue  # a note left over from an earlier version announces nothing
            # Someone who began following at this version has seen its steps: the note is no news to them.
            rows = [AlertKind.plan(sub, guide, now)
                    for sub, following in (await self.queue.subscriptions(guide.pack)).items()
                    if following.changes_seen not in (None, guide.version)]
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

    async def confirmed(self, key: UserKey, now: datetime, *, pack: str | None = None) -> None:
        """The user confirmed the setting is off in a pack: drop that pack's "did it work?" check-in."""
        await self.queue.skip_pending(Recipient.user(key), self._guide(pack).pack, VERIFY)

    async def unreachable(self, recipient: Recipient) -> None:
        await turn_off(self.queue, recipient)

    # Start-up --------------------------------------------------------------------------------
    async def sync(self, now: datetime) -> int:
        """Bring the schedule in line with the guides: new deadlines for subscribers, moved dates, change
        alerts; return new rows."""
        return await self._sync_deadlines(now) + await self.sync_alerts(now)

    async def _sync_deadlines(self, now: datetime) -> int:
        added = 0
        for guide in self.packs.values():
            if not guide.deadlines:
                continue
            for deadline in guide.deadlines:
                for offset in deadline.offsets:
                    await self.queue.move_due(guide.pack, DEADLINE, deadline.id, seconds(offset), deadline.at - offset)
            upcoming = ahead(guide, now)
            for subscriber, following in (await self.queue.subscriptions(guide.pack)).items():
                new = [d for d in upcoming if d.id not in following.scheduled]
                if not new or not following.deadlines:
                    continue
                rows = [r for d in new for r in DeadlineKind.plan(subscriber, guide, d, now, catch_up=True)]
                added += await self.queue.subscribe(subscriber, [d.id for d in new], rows)
        if added:
            log.info("reminders: scheduled %d reminders for deadlines new to their subscribers", added)
            self.wake.set()
        return added

    # Announcement channels ------------------------------------------------------------------
    # A platform's admins turn announcements on and off for a ``scope`` the adapter chooses (Discord: the
    # server); the core only keeps which channel of the scope receives them.
    async def subscribe_channel(self, channel: Recipient, scope: str, now: datetime, pack: str | None = None) -> str:
        """Post the scope's announcements of a pack in ``channel``: its deadlines, if it declares any, and
        its changes; return what will be posted."""
        guide = self.packs.get(pack or self.pack)
        if guide is None:
            return texts.CHANNEL_UNKNOWN_PACK
        to = Subscriber(channel, guide.pack, scope)
        if not guide.deadlines:
            await self.queue.subscribe(to, [], [], changes_seen=guide.version)
            log.info("reminders: a %s server turned change alerts of %s on", channel.platform, guide.pack)
            return texts.channel_alerts_on(guide.name)
        upcoming = ahead(guide, now)
        rows = [r for d in upcoming for r in DeadlineKind.plan(to, guide, d, now, catch_up=False)]
        await self.queue.subscribe(to, [d.id for d in upcoming], rows, deadlines=True, changes_seen=guide.version)
        self.wake.set()
        log.info("reminders: a %s server turned deadline announcements of %s on", channel.platform, guide.pack)
        return texts.channel_on(self.renderer.describe(await self.queue.pending(channel, guide.pack)))

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
                else texts.channel_on(self.renderer.describe(await self.queue.pending(channel, self.pack))))
        others = [g.name for g in self.packs.values()
                  if g.pack != self.pack and await self.queue.channel(platform, scope, g.pack) is not None]
        return f"{text}\n\n{texts.channel_alerts_status(others)}" if others else text
