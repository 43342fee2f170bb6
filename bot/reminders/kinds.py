"""Reminders by kind: for each, how it is scheduled (``plan``), described in "Your reminders"
(``describe``) and rendered when due (``render``). The one place that branches on a reminder's kind.

Kinds (the ``kind`` column; an announcement is a deadline reminder whose recipient is a channel):
- ``deadline``: at one of a pack's deadline offsets before it, to a person who asked;
- ``announcement``: the same, posted in a server's channel;
- ``checkback``: "is it still off?" on a day the person chose (``about`` = that day);
- ``verify``: one "did it work?" to a person who saw the steps and asked for reminders but never said
  the setting is off;
- ``alert``: a pack's ``changes`` note, once per subscriber and pack version (``about`` = the version).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar, Protocol

from bot.events import Message, Recipient
from bot.guide import Deadline, Guide
from bot.i18n import EN, Lang, lang, person_language
from bot.reminders import texts
from bot.storage.base import NewReminder, Reminder, Subscriber, UserState

DEADLINE, CHECKBACK, VERIFY, ALERT, ANNOUNCEMENT = "deadline", "checkback", "verify", "alert", "announcement"
CHECK_BACK_MONTHS = {"P7D": 0, "P1M": 1, "P3M": 3}


def seconds(offset: timedelta) -> int:
    return int(offset.total_seconds())


def add_months(at: datetime, months: int) -> datetime:
    """Same day ``months`` later, clamped to the month's last day (31 January + 1 month = 28/29 February)."""
    month0 = at.month - 1 + months
    year, month = at.year + month0 // 12, month0 % 12 + 1
    return at.replace(year=year, month=month, day=min(at.day, calendar.monthrange(year, month)[1]))


def checkback_due(code: str, now: datetime) -> datetime:
    months = CHECK_BACK_MONTHS[code]
    return add_months(now, months) if months else now + timedelta(days=7)


def ahead(guide: Guide, now: datetime) -> list[Deadline]:
    """The pack's deadlines still to come, soonest first."""
    return sorted((d for d in guide.deadlines if d.at > now), key=lambda d: d.at)


def future_offsets(deadline: Deadline, now: datetime) -> list[timedelta]:
    return sorted((o for o in deadline.offsets if deadline.at - o > now), reverse=True)


@dataclass(frozen=True, slots=True)
class Due:
    """What rendering a due reminder may read: the pack in the recipient's language, the person's row in
    that pack (None for a channel, or a person with none), the time, the language."""

    guide: Guide
    state: UserState | None
    now: datetime
    t: Lang
    channel: bool


class Kind(Protocol):
    name: ClassVar[str]

    def describe(self, row: Reminder, guide: Guide, t: Lang) -> str | None:
        """The line in "Your reminders" (``guide`` in ``t``'s language); None: not listed."""
        ...

    def render(self, row: Reminder, due: Due) -> Message | None:
        """The message to send now; None when it is no longer worth sending (recorded as skipped)."""
        ...


class DeadlineKind:
    name = DEADLINE

    @staticmethod
    def plan(to: Subscriber, guide: Guide, deadline: Deadline, now: datetime, *, catch_up: bool) -> list[NewReminder]:
        offsets = future_offsets(deadline, now)
        if not offsets and catch_up and deadline.offsets and deadline.at > now:
            # A deadline new to this recipient with every offset already past: one reminder now beats
            # none, since it is still ahead.
            return [NewReminder(to.recipient, guide.pack, DEADLINE, deadline.id, seconds(min(deadline.offsets)), now,
                                to.scope)]
        return [NewReminder(to.recipient, guide.pack, DEADLINE, deadline.id, seconds(o), deadline.at - o, to.scope)
                for o in offsets]

    def describe(self, row: Reminder, guide: Guide, t: Lang) -> str | None:
        deadline = next((d for d in guide.deadlines if d.id == row.about), None)
        return texts.deadline_line(deadline, timedelta(seconds=row.offset_s), t=t) if deadline else None

    @staticmethod
    def current(row: Reminder, due: Due) -> Deadline | None:
        deadline = next((d for d in due.guide.deadlines if d.id == row.about), None)
        # Passed while the bot was down, or taken out of the guide, or its offset dropped: not sent.
        if deadline is None or deadline.at <= due.now or row.offset_s not in {seconds(o) for o in deadline.offsets}:
            return None
        return deadline

    def render(self, row: Reminder, due: Due) -> Message | None:
        deadline = self.current(row, due)
        return texts.deadline_reminder(deadline, due.now, due.guide, t=due.t) if deadline else None


class AnnouncementKind(DeadlineKind):
    name = ANNOUNCEMENT

    def render(self, row: Reminder, due: Due) -> Message | None:
        deadline = self.current(row, due)
        return texts.announcement(deadline, due.now, due.guide, t=due.t) if deadline else None


class CheckBackKind:
    name = CHECKBACK

    @staticmethod
    def plan(to: Recipient, pack: str, code: str, now: datetime) -> NewReminder:
        due = checkback_due(code, now)
        return NewReminder(to, pack, CHECKBACK, due.date().isoformat(), 0, due)

    def describe(self, row: Reminder, guide: Guide, t: Lang) -> str | None:
        return texts.checkback_line(row.due_at, t=t)

    def render(self, row: Reminder, due: Due) -> Message | None:
        return texts.checkback_reminder(due.guide, t=due.t)


class VerifyKind:
    name = VERIFY
    AFTER = timedelta(days=2)

    @staticmethod
    def plan(to: Recipient, guide: Guide, now: datetime, wait: timedelta) -> NewReminder:
        upcoming = ahead(guide, now)
        if upcoming:
            # Ask in time for the answer to matter: halfway to the next deadline at the latest.
            wait = min(wait, (upcoming[0].at - now) / 2)
        return NewReminder(to, guide.pack, VERIFY, "", 0, now + wait)

    def describe(self, row: Reminder, guide: Guide, t: Lang) -> str | None:
        return texts.verify_line(row.due_at, t=t)

    def render(self, row: Reminder, due: Due) -> Message | None:
        if due.state is None or due.state.answers.get(due.guide.confirm_key) == "yes":
            return None  # said it is off since, or erased
        return texts.verify_reminder(due.guide, t=due.t)


class AlertKind:
    name = ALERT

    @staticmethod
    def plan(to: Subscriber, guide: Guide, now: datetime) -> NewReminder:
        return NewReminder(to.recipient, guide.pack, ALERT, guide.version, 0, now, to.scope)

    def describe(self, row: Reminder, guide: Guide, t: Lang) -> str | None:
        return None  # a change alert is news when it comes, not an appointment

    def render(self, row: Reminder, due: Due) -> Message | None:
        guide = due.guide
        note = guide.changes
        # The pack was bumped again since: that note is no longer the news.
        if note is None or not guide.version == note.version == row.about:
            return None
        return texts.change_alert(guide.name, note.text, guide.steps_entry, guide.pack, channel=due.channel, t=due.t)


KINDS: dict[str, Kind] = {k.name: k for k in (DeadlineKind(), AnnouncementKind(), CheckBackKind(), VerifyKind(),
                                              AlertKind())}


def kind_of(row: Reminder) -> Kind | None:
    name = ANNOUNCEMENT if row.kind == DEADLINE and row.recipient.kind == "channel" else row.kind
    return KINDS.get(name)


class ReminderRenderer:
    """Describes and renders reminders of every pack, each through its kind, in the recipient's language."""

    def __init__(self, guides: dict[str, Guide]) -> None:
        self.guides = guides
        self._local: dict[tuple[str, str], Guide] = {}

    def guide(self, pack: str, t: Lang = EN) -> Guide | None:
        """The pack in ``t``'s language (English where the pack lacks it); None for a pack no longer served."""
        if pack not in self.guides:
            return None
        found = self._local.get((pack, t.code))
        if found is None:
            found = self._local[(pack, t.code)] = self.guides[pack].in_language(t.code)
        return found

    def describe(self, rows: list[Reminder], t: Lang = EN) -> list[str]:
        lines = []
        for row in rows:
            kind, guide = kind_of(row), self.guide(row.pack, t)
            line = kind.describe(row, guide, t) if kind and guide else None
            if line:
                lines.append(line)
        return lines

    def render(self, row: Reminder, state: UserState | None, now: datetime) -> Message | None:
        """The message for a claimed reminder in its recipient's language as it is now (a channel's is not
        known: English); None when it is no longer worth sending."""
        kind = kind_of(row)
        t = lang(person_language(state.language, state.locale) if state else None)
        guide = self.guide(row.pack, t)
        if kind is None or guide is None:
            return None
        return kind.render(row, Due(guide, state, now, t, row.recipient.kind == "channel"))


def superseded(batch: list[Reminder]) -> set[int]:
    """The ids of deadline reminders a nearer offset of the same deadline, due in the same batch, makes
    pointless: after downtime "1 day left" is worth sending, "7 days left" is not."""
    nearest: dict[tuple[Recipient, str, str], int] = {}
    for row in batch:
        if row.kind == DEADLINE:
            k = (row.recipient, row.pack, row.about)
            nearest[k] = min(nearest.get(k, row.offset_s), row.offset_s)
    return {row.id for row in batch if row.kind == DEADLINE and row.offset_s != nearest[(row.recipient, row.pack, row.about)]}
