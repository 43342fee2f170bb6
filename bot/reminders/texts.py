"""What reminders say: the messages the scheduler sends and the sentences the "Remind me" menu shows.

Every function takes the recipient's ``bot.i18n.Lang``; constants are English msgids (see bot/texts.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot import button_data as data
from bot.events import Button, Message
from bot.guide import Deadline, Guide, format_left
from bot.i18n import EN, N_, Lang
from bot.texts import STOP_REMINDERS

SHOW_STEPS = N_("📋 Show me the steps")
ITS_OFF = N_("✅ I've turned it off")
STILL_OFF = N_("✅ It's still off")
COULD_NOT = N_("🤔 I couldn't find it")

NAMED_SETTING = N_("the {name} setting")
DEADLINE_OFFER_ONE = N_("{offsets} before {date}")
DEADLINE_OFFER_MANY = N_("Before each deadline ({offsets})")
CHECK_BACK_OFFERS = (("P7D", N_("In 1 week")), ("P1M", N_("In 1 month")), ("P3M", N_("In 3 months")))


def setting(guide: Guide, *, t: Lang = EN) -> str:
    """The setting's name as the pack's YAML gives it (``guide`` already in the recipient's language, where
    the pack has it); "the ChatGPT setting" for a pack that names none."""
    return guide.setting or t._(NAMED_SETTING).format(name=guide.name)


def format_offset(offset: timedelta, *, t: Lang = EN) -> str:
    """Say an offset the way a person would ("7 days", "1 hour", "90 minutes", "30 seconds")."""
    seconds = int(offset.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds >= size and seconds % size == 0:
            return t.duration(seconds // size, unit)
    return t._("less than a second")


def format_when(at: datetime, offset_s: int | None = None, *, t: Lang = EN) -> str:
    """A due time: the date, with the time of day when the offset is not whole days."""
    if offset_s is not None and offset_s % 86400:
        return f"{t.date(at)}, {t.time(at)} {_zone(at)}"
    return t.date(at)


def _zone(at: datetime) -> str:
    offset = at.utcoffset() or timedelta(0)
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{mins:02d}" if mins else "")


# The menu ------------------------------------------------------------------------------------
def deadline_offer(offsets: list[timedelta], deadline: Deadline | None, *, t: Lang = EN) -> str:
    """The "Remind me" button for deadline reminders: one deadline ahead, or several (``deadline`` None)."""
    words = t.join([format_offset(o, t=t) for o in offsets])
    if deadline is None:
        return t._(DEADLINE_OFFER_MANY).format(offsets=words)
    return t._(DEADLINE_OFFER_ONE).format(offsets=words, date=t.date(deadline.at))


def subscribed(lines: list[str], stop_command: str, *, t: Lang = EN) -> str:
    return t._("**Done!** I'll remind you:") + "\n" + "\n".join(f"- {line}" for line in lines) + "\n\n" + t._(
        "You can stop reminders any time with the button below or {command}."
    ).format(command=stop_command)


def checkback_subscribed(due: datetime, stop_command: str, *, t: Lang = EN) -> str:
    return t._(
        "**Done!** I'll check back with you on {date}, so you can look at the setting again (policies change)."
    ).format(date=t.date(due)) + "\n\n" + t._(
        "You can stop reminders any time with the button below or {command}."
    ).format(command=stop_command)


def mid_sentence(label: str) -> str:
    """A deadline label as it reads inside an English sentence: "Deadline to choose" -> "the deadline to choose"."""
    words = label.split(" ", 1)
    first = words[0]
    if len(first) > 1 and first[1:].islower():  # leave acronyms and names such as "EU" alone
        first = first.lower()
    rest = f" {words[1]}" if len(words) > 1 else ""
    return f"{first}{rest}" if first.lower() == "the" else f"the {first}{rest}"


def deadline_line(deadline: Deadline, offset: timedelta, *, t: Lang = EN) -> str:
    """``deadline`` is in the recipient's language already (bot.guide's ``Guide.in_language``)."""
    due = deadline.at - offset
    # Other languages quote the label; turning a title into a phrase is only worked out for English.
    name = mid_sentence(deadline.label) if t.code == EN.code else deadline.label
    return t._("{when}: {offset} before {deadline} ({date})").format(
        when=format_when(due, int(offset.total_seconds()), t=t), offset=format_offset(offset, t=t), deadline=name,
        date=t.date(deadline.at),
    )


def checkback_line(due: datetime, *, t: Lang = EN) -> str:
    return t._("{date}: a check-back to look at the setting again").format(date=t.date(due))


def verify_line(due: datetime, *, t: Lang = EN) -> str:
    return t._("{date}: a quick check that turning it off worked").format(date=t.date(due))


def scheduled(lines: list[str], *, t: Lang = EN) -> str:
    return t._("**Your reminders:**") + "\n" + "\n".join(f"- {line}" for line in lines)


# The messages --------------------------------------------------------------------------------
def deadline_reminder(deadline: Deadline, now: datetime, guide: Guide, *, t: Lang = EN) -> Message:
    """``guide`` (in the recipient's language) names the setting and qualifies the buttons."""
    steps, pack = guide.steps_entry, guide.pack
    text = t._(
        "⏰ **Reminder: {deadline}**\n\n"
        "{date}: **{left}** left.\n\n"
        "If you haven't turned off {setting} yet, the steps take a minute."
    ).format(deadline=deadline.label, date=t.date(deadline.at), left=format_left(deadline.at, now, t=t),
             setting=setting(guide, t=t))
    return Message(text, buttons=((Button(t._(SHOW_STEPS), data.entry(steps, pack)),),
                                  (Button(t._(ITS_OFF), data.action(data.DONE, pack)),),
                                  (Button(t._(STOP_REMINDERS), data.action(data.STOP, pack)),)))


def checkback_reminder(guide: Guide, *, t: Lang = EN) -> Message:
    text = t._(
        "👋 **Checking back, as you asked.**\n\n"
        "Policies and settings change, so it's worth a quick look: is {setting} still off?"
    ).format(setting=setting(guide, t=t))
    pack = guide.pack
    return Message(text, buttons=((Button(t._(SHOW_STEPS), data.entry(guide.steps_entry, pack)),),
                                  (Button(t._(STILL_OFF), data.action(data.DONE, pack)),),
                                  (Button(t._(STOP_REMINDERS), data.action(data.STOP, pack)),)))


def verify_reminder(guide: Guide, *, t: Lang = EN) -> Message:
    text = t._(
        "👋 **Did it work?**\n\n"
        "You looked at the steps to turn off {setting} but haven't told me it's off yet. "
        "If something didn't match what you saw, I can help."
    ).format(setting=setting(guide, t=t))
    pack, troubleshoot = guide.pack, guide.troubleshoot_entry
    rows: list[tuple[Button, ...]] = [(Button(t._(ITS_OFF), data.action(data.DONE, pack)),)]
    rows.append((Button(t._(COULD_NOT), data.entry(troubleshoot, pack)),) if troubleshoot
                else (Button(t._(SHOW_STEPS), data.entry(guide.steps_entry, pack)),))
    rows.append((Button(t._(STOP_REMINDERS), data.action(data.STOP, pack)),))
    return Message(text, buttons=tuple(rows))


def announcement(deadline: Deadline, now: datetime, guide: Guide, *, t: Lang = EN) -> Message:
    text = t._(
        "📢 **{deadline}**\n\n"
        "{date}: **{left}** left to make your choice. "
        "If you don't want your chats used for training, you can switch off {setting} now or at any time later."
    ).format(deadline=deadline.label, date=t.date(deadline.at), left=format_left(deadline.at, now, t=t),
             setting=setting(guide, t=t))
    return Message(text, buttons=((Button(t._(SHOW_STEPS), data.entry(guide.steps_entry, guide.pack)),),))


# Change alerts -------------------------------------------------------------------------------
SHOW_UPDATED_STEPS = N_("📋 Show me the updated steps")


def alerts_subscribed(name: str, stop_command: str, *, t: Lang = EN) -> str:
    return t._("**Done!** When the facts behind the {name} steps change, I'll send you one short message "
               "with what changed.\n\nYou can stop that any time with {stop}.").format(name=name, stop=stop_command)


def change_alert(name: str, note: str, steps: str, pack: str | None, *, channel: bool = False,
                 t: Lang = EN) -> Message:
    """The one message a pack's subscribers get for its ``changes`` note (``note`` already in the
    recipient's language); ``pack`` qualifies the button."""
    text = t._("🔔 **{name}: the steps have changed**").format(name=name) + f"\n\n{note.strip()}"
    rows: list[tuple[Button, ...]] = [(Button(t._(SHOW_UPDATED_STEPS), data.entry(steps, pack)),)]
    if not channel:
        rows.append((Button(t._(STOP_REMINDERS), data.action(data.STOP, pack)),))
    return Message(text, buttons=tuple(rows))


# Discord admins ------------------------------------------------------------------------------
def channel_on(lines: list[str], *, t: Lang = EN) -> str:
    if not lines:
        return t._("Deadline announcements are on for this server. No deadline is ahead right now; "
                   "I'll post here when the guide gets a new one.")
    return t._("Deadline announcements are on for this server. I'll post:") + "\n" + "\n".join(
        f"- {line}" for line in lines)


CHANNEL_OFF = N_("Announcements are off for this server.")
CHANNEL_NONE = N_("Deadline announcements are not set up for this server.")
CHANNEL_UNKNOWN_PACK = N_("I don't have a guide for that assistant. Pick one from the list.")


def channel_off(name: str, *, t: Lang = EN) -> str:
    return t._("Announcements for {name} are off for this server.").format(name=name)


def channel_alerts_on(name: str, *, t: Lang = EN) -> str:
    return t._("Change alerts for {name} are on for this server: I'll post here when its steps change.").format(
        name=name)


def channel_alerts_status(names: list[str], *, t: Lang = EN) -> str:
    return t._("Change alerts are on for: {names}.").format(names=", ".join(names))
