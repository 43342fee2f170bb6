"""What the bot says about itself (not about the policy: that lives in the guide under content/).

Constants are English msgids marked with ``N_``: show them as ``t._(texts.BACK)`` with the person's
``bot.i18n.Lang``. Functions take that ``Lang``. Translations: ``bot/locale`` (see bot/i18n.py).
"""

from __future__ import annotations

from bot.events import PlatformHints
from bot.i18n import EN, N_, Lang

BACK = N_("⬅ Back")
START_OVER = N_("↺ Start over")
CONTINUE_WHERE = N_("Continue where I was")
REMIND_ME = N_("⏰ Remind me")
STOP_REMINDERS = N_("🔕 Stop reminders")
FOLLOW_CHANGES = N_("🔔 Tell me if this changes")
FORGET_YES = N_("Yes, erase everything")
FORGET_NO = N_("No, keep it")

STALE_BUTTON = N_("That button belongs to an earlier step, so I've left things as they were. Here is where we are:")
BAD_BUTTON = N_("I didn't recognise that button. Here is where we are:")
USE_BUTTONS = N_(
    "I can only follow the buttons, not typed messages (and I don't keep what you type). Here is where we are:"
)
NOTHING_BACK = N_("There's no earlier step to go back to. Here is where we are:")
UNKNOWN_ENTRY = N_("I don't know that shortcut, so I've started from the beginning.")
GUIDE_UPDATED = N_("The guide has been updated since we last talked, so we're starting fresh with the new version.")
OFFER_GONE = N_("That reminder option isn't available any more. Here is what I can offer now:")

FORGET_ASK = N_(
    "Erase everything I have about you? That is your place in the guide, your answers and any reminders. "
    "This can't be undone."
)
FORGET_KEPT = N_("Okay, nothing was erased.")
FORGOTTEN = N_(
    "Done. I've erased everything I had about you: your answers, your place in the guide and your reminders. "
    "If you write to me again, we start from scratch."
)
THANKS_OFF = N_(
    "**Thank you!** I've noted that the setting is off (just that fact, nothing else).\n\n"
    "Policies change, so it's worth checking the setting again now and then."
)
CHECK_BACK_ASK = N_("Shall I check back with you, so you can look at it again?")
REMIND_ASK = N_("When would you like a reminder?")
REMIND_NONE = N_("There's nothing I can remind you about right now.")
NO_REMINDERS_HERE = N_("Reminders work on Telegram and Discord; in this chat I can't reach you later.")
REMINDERS_STOPPED = N_("Reminders stopped, change alerts too. I won't send you any more.")
NO_REMINDERS_TO_STOP = N_("You have no reminders scheduled and follow no changes.")
OTHER_ASSISTANTS = N_("**Which assistant would you like to check?** I'll walk you through it.")
CHECK_ALL = N_("✅ Check all my assistants")
CHECK_ALL_ASK = N_(
    "**Which of these do you use?** Tap each one, then Continue; I'll walk you through them one by one."
)
CHECK_ALL_GO = N_("Continue ➡")
CHECK_ALL_NONE = N_("Tap at least one assistant first.")
CHECK_ALL_NEXT = N_("➡ Next assistant")
CHECK_ALL_SUMMARY = N_("🏁 Finish: my summary")
SOURCES = N_("📚 Sources")
SOURCES_INTRO = N_("**Where this guide's facts come from:**")
SOURCE_SEEN = N_("seen {date}")

LANGUAGE_ASK = N_("Which language would you like me to use?")
LANGUAGE_SET = N_("Okay, I'll speak English from now on.")
ONLY_IN_ENGLISH = N_("This guide is only available in English so far, so I'll show it in English.")


def unknown_command(hints: PlatformHints, *, t: Lang = EN) -> str:
    return t._("I don't know that command. Try {p}help to see what I can do. Here is where we are:").format(
        p=hints.command_prefix)


def privacy(hints: PlatformHints, days: int = 180, *, t: Lang = EN) -> str:
    return t._(
        "**What I keep about you**\n\n"
        "- your account number on this platform (not your name or messages)\n"
        "- your answers to my questions and where you are in the guide\n"
        "- the language you chose, and the reminders you asked for\n\n"
        "I never store what you type. I also count anonymously how many people start, get the steps and "
        "turn the setting off; those daily totals hold nothing about who you are.\n\n"
        "**How long:** everything about you is deleted automatically after {period} without activity.\n\n"
        "**Erase it now:** send {p}forget and confirm; your answers, your place in the guide and your "
        "reminders are deleted at once."
    ).format(p=hints.command_prefix, period=t.duration(days, "day"))


def check_all_option(name: str, chosen: bool) -> str:
    return f"{'☑️' if chosen else '⬜'} {name}"


def check_all_toggled(name: str, chosen: bool, *, t: Lang = EN) -> str:
    return (t._("{name}: yes") if chosen else t._("{name}: no")).format(name=name)


def check_all_heading(n: int, of: int, name: str, *, t: Lang = EN) -> str:
    return t._("**{n} of {of}: {name}**").format(n=n, of=of, name=name)


def check_all_summary(done: list[str], left: list[str], nothing: list[str] = (), *, t: Lang = EN) -> str:  # type: ignore[assignment]
    """``done``: turned off as they told; ``nothing``: their answers need nothing (a work account, a
    region without the setting...); ``left``: still to do."""
    lines = [t._("**Your check is done.**")]
    if done:
        lines += ["", t._("Turned off (as you told me):"), *(f"- {name}" for name in done)]
    if nothing:
        lines += ["", t._("Nothing to switch off, from your answers:"), *(f"- {name}" for name in nothing)]
    if left:
        lines += ["", t._("Still to do (tap one for its steps):"), *(f"- {name}" for name in left)]
    return "\n".join(lines)
