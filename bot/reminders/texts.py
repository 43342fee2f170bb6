"""What reminders say: the messages the scheduler sends and the sentences the "Remind me" menu shows."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot import button_data as data
from bot.events import Button, Reply
from bot.guide import Deadline, format_date, format_left
from bot.texts import STOP_REMINDERS

SHOW_STEPS = "📋 Show me the steps"
ITS_OFF = "✅ I've turned it off"
STILL_OFF = "✅ It's still off"
COULD_NOT = "🤔 I couldn't find it"
# The setting's name, with the other label some copies of Anthropic's article give it (F9, uncertain).
SETTING = "“Help improve Claude” (it may read “Help improve our AI models”)"

DEADLINE_OFFER_ONE = "{offsets} before {date}"
DEADLINE_OFFER_MANY = "Before each deadline ({offsets})"
CHECK_BACK_OFFERS = (("P7D", "In 1 week"), ("P1M", "In 1 month"), ("P3M", "In 3 months"))


def format_offset(offset: timedelta) -> str:
    """Say an offset the way a person would ("7 days", "1 hour", "90 minutes", "30 seconds")."""
    seconds = int(offset.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds >= size and seconds % size == 0:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return "less than a second"


def join_words(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def format_when(at: datetime, offset_s: int | None = None) -> str:
    """A due time: the date, with the time of day when the offset is not whole days."""
    if offset_s is not None and offset_s % 86400:
        return f"{format_date(at)}, {at:%H:%M} {_zone(at)}"
    return format_date(at)


def _zone(at: datetime) -> str:
    offset = at.utcoffset() or timedelta(0)
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{mins:02d}" if mins else "")


# The menu ------------------------------------------------------------------------------------
def subscribed(lines: list[str], stop_command: str) -> str:
    return "**Done!** I'll remind you:\n" + "\n".join(f"- {line}" for line in lines) + (
        f"\n\nYou can stop reminders any time with the button below or {stop_command}."
    )


def checkback_subscribed(when: str, stop_command: str) -> str:
    return (
        f"**Done!** I'll check back with you on {when}, so you can look at the setting again "
        f"(policies change).\n\nYou can stop reminders any time with the button below or {stop_command}."
    )


def mid_sentence(label: str) -> str:
    """A deadline label as it reads inside a sentence: "Deadline to choose" -> "the deadline to choose"."""
    words = label.split(" ", 1)
    first = words[0]
    if len(first) > 1 and first[1:].islower():  # leave acronyms and names such as "EU" alone
        first = first.lower()
    rest = f" {words[1]}" if len(words) > 1 else ""
    return f"{first}{rest}" if first.lower() == "the" else f"the {first}{rest}"


def deadline_line(deadline: Deadline, offset: timedelta) -> str:
    due = deadline.at - offset
    return (f"{format_when(due, int(offset.total_seconds()))}: {format_offset(offset)} before "
            f"{mid_sentence(deadline.label)} ({format_date(deadline.at)})")


def checkback_line(due: datetime) -> str:
    return f"{format_date(due)}: a check-back to look at the setting again"


def verify_line(due: datetime) -> str:
    return f"{format_date(due)}: a quick check that turning it off worked"


def scheduled(lines: list[str]) -> str:
    return "**Your reminders:**\n" + "\n".join(f"- {line}" for line in lines)


# The messages --------------------------------------------------------------------------------
def deadline_reminder(deadline: Deadline, now: datetime, steps: str) -> Reply:
    text = (
        f"⏰ **Reminder: {deadline.label}**\n\n"
        f"{format_date(deadline.at)}: **{format_left(deadline.at, now)}** left.\n\n"
        f"If you haven't turned off {SETTING} yet, the steps take a minute."
    )
    return Reply(text, buttons=((Button(SHOW_STEPS, data.entry(steps)),), (Button(ITS_OFF, data.action(data.DONE)),),
                                (Button(STOP_REMINDERS, data.action(data.STOP)),)))


def checkback_reminder(steps: str) -> Reply:
    text = (
        "👋 **Checking back, as you asked.**\n\n"
        f"Policies and settings change, so it's worth a quick look: is {SETTING} still off?"
    )
    return Reply(text, buttons=((Button(SHOW_STEPS, data.entry(steps)),), (Button(STILL_OFF, data.action(data.DONE)),),
                                (Button(STOP_REMINDERS, data.action(data.STOP)),)))


def verify_reminder(steps: str, troubleshoot: str | None) -> Reply:
    text = (
        "👋 **Did it work?**\n\n"
        f"You looked at the steps to turn off {SETTING} but haven't told me it's off yet. "
        "If something didn't match what you saw, I can help."
    )
    rows: list[tuple[Button, ...]] = [(Button(ITS_OFF, data.action(data.DONE)),)]
    rows.append((Button(COULD_NOT, data.entry(troubleshoot)),) if troubleshoot else (Button(SHOW_STEPS, data.entry(steps)),))
    rows.append((Button(STOP_REMINDERS, data.action(data.STOP)),))
    return Reply(text, buttons=tuple(rows))


def announcement(deadline: Deadline, now: datetime, steps: str) -> Reply:
    text = (
        f"📢 **{deadline.label}**\n\n"
        f"{format_date(deadline.at)}: **{format_left(deadline.at, now)}** left to make your choice. "
        f"If you don't want your chats used for training, you can switch off {SETTING} now or at any "
        "time later."
    )
    return Reply(text, buttons=((Button(SHOW_STEPS, data.entry(steps)),),))


# Change alerts -------------------------------------------------------------------------------
SHOW_UPDATED_STEPS = "📋 Show me the updated steps"


def alerts_subscribed(name: str, stop_command: str) -> str:
    return (f"**Done!** When the facts behind the {name} steps change, I'll send you one short message "
            f"with what changed.\n\nYou can stop that any time with {stop_command}.")


def change_alert(name: str, note: str, steps: str, pack: str | None, *, channel: bool = False) -> Reply:
    """The one message a pack's subscribers get for its ``changes`` note; ``pack`` qualifies the button."""
    text = f"🔔 **{name}: the steps have changed**\n\n{note.strip()}"
    rows: list[tuple[Button, ...]] = [(Button(SHOW_UPDATED_STEPS, data.entry(steps, pack)),)]
    if not channel:
        rows.append((Button(STOP_REMINDERS, data.action(data.STOP, pack)),))
    return Reply(text, buttons=tuple(rows))


# Discord admins ------------------------------------------------------------------------------
def channel_on(lines: list[str]) -> str:
    if not lines:
        return ("Deadline announcements are on for this server. No deadline is ahead right now; "
                "I'll post here when the guide gets a new one.")
    return "Deadline announcements are on for this server. I'll post:\n" + "\n".join(f"- {line}" for line in lines)


CHANNEL_OFF = "Announcements are off for this server."


def channel_off(name: str) -> str:
    return f"Announcements for {name} are off for this server."

CHANNEL_UNKNOWN_PACK = "I don't have a guide for that assistant. Pick one from the list."


def channel_alerts_on(name: str) -> str:
    return f"Change alerts for {name} are on for this server: I'll post here when its steps change."


def channel_alerts_status(names: list[str]) -> str:
    return f"Change alerts are on for: {', '.join(names)}."
CHANNEL_NONE = "Deadline announcements are not set up for this server."
