"""Reminders on the web: a calendar file the person keeps, in place of anything stored here.

``CalendarReminders`` is what the web's engine gets as its ``bot.engine.Reminders``: it offers what the
reminder service offers (the same choices and labels as on Telegram), and "subscribing" answers with a
link to an ``.ics`` file of those dates. Nothing is scheduled, so there is nothing to cancel or erase.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import icalendar

from adapters.web import texts
from bot import texts as bot_texts
from bot.events import UserKey
from bot.i18n import EN, Lang
from bot.markup import PlainRenderer

# The origin (scheme://host) of the request being answered. The engine calls ``subscribe`` without the
# request, and the guide's Markdown links must be absolute, so the handler sets it for its task.
ORIGIN: ContextVar[str] = ContextVar("web_origin", default="http://127.0.0.1")

Offers = Callable[..., list[tuple[str, str]]]  # ReminderService.offers
Dates = Callable[..., list[tuple[datetime, str]]]  # ReminderService.calendar
EVENT_LENGTH = timedelta(minutes=15)
PLAIN = PlainRenderer()


class CalendarReminders:
    """Implements bot.engine.Reminders for the web chat, storing nothing."""

    def __init__(self, offers: Offers, dates: Dates) -> None:
        self._offers = offers
        self._dates = dates

    def offers(self, key: UserKey | None, now: datetime, *, pack: str | None = None, turned_off: bool = False,
               t: Lang = EN) -> list[tuple[str, str]]:
        return self._offers(key, now, pack=pack, turned_off=turned_off, t=t)

    async def subscribe(self, key: UserKey, offer: str, now: datetime, *, pack: str | None = None,
                        turned_off: bool = False, t: Lang = EN) -> str | None:
        if offer not in {o for o, _ in self.offers(key, now, pack=pack, turned_off=turned_off, t=t)}:
            return None
        query = {"offer": offer, "lang": t.code, **({"pack": pack} if pack else {})}
        link = f"{ORIGIN.get()}/calendar.ics?{urlencode(query)}"
        return f"{t._(texts.CALENDAR_READY)}\n\n[{t._(texts.CALENDAR_LINK)}]({link})"

    async def describe(self, key: UserKey, now: datetime, *, pack: str | None = None, t: Lang = EN) -> str | None:
        return None

    async def cancel(self, key: UserKey) -> int:
        return 0

    async def follow_changes(self, key: UserKey, pack: str, now: datetime, *, t: Lang = EN) -> str:
        # Change alerts are messages sent later, which a web page cannot receive.
        return t._(bot_texts.NO_REMINDERS_HERE)

    async def confirmed(self, key: UserKey, now: datetime, *, pack: str | None = None) -> None:
        return None

    def ics(self, offer: str, now: datetime, guide_url: str, *, pack: str | None = None, t: Lang = EN) -> bytes | None:
        """The calendar file for ``offer`` in a pack: one event per reminder; None when the offer does not fit now."""
        dates = self._dates(offer, now, pack=pack, t=t)
        if not dates:
            return None
        cal = icalendar.Calendar()
        cal.add("prodid", "-//Opt-Out Assistant//web//EN")
        cal.add("version", "2.0")
        for when, line in dates:
            # In UTC: a fixed-offset zone (the guide's -07:00) has no name icalendar can write, and the
            # event would otherwise come out in "floating" time, read in whatever zone the calendar is in.
            at = when.astimezone(UTC)
            event = icalendar.Event()
            summary = PLAIN.render(line)
            # Stable per reminder, so importing the file twice updates rather than duplicates.
            uid = hashlib.sha256(f"{pack}|{offer}|{at.isoformat()}".encode()).hexdigest()[:24]
            event.add("uid", f"{uid}@optout-assistant")
            event.add("dtstamp", now.astimezone(UTC))
            event.add("dtstart", at)
            event.add("dtend", at + EVENT_LENGTH)
            event.add("summary", f"{t._(texts.SITE)}: {summary}")
            event.add("description", f"{summary}\n\n{guide_url}")
            event.add("url", guide_url)
            cal.add_component(event)
        return cal.to_ical()
