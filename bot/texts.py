"""What the bot says about itself (not about the policy: that lives in the guide under content/)."""

from __future__ import annotations

from bot.events import PlatformHints

BACK = "⬅ Back"
START_OVER = "↺ Start over"
CONTINUE_WHERE = "Continue where I was"
REMIND_ME = "⏰ Remind me"
STOP_REMINDERS = "🔕 Stop reminders"
FOLLOW_CHANGES = "🔔 Tell me if this changes"
FORGET_YES = "Yes, erase everything"
FORGET_NO = "No, keep it"

STALE_BUTTON = "That button belongs to an earlier step, so I've left things as they were. Here is where we are:"
BAD_BUTTON = "I didn't recognise that button. Here is where we are:"
USE_BUTTONS = "I can only follow the buttons, not typed messages (and I don't keep what you type). Here is where we are:"
NOTHING_BACK = "There's no earlier step to go back to. Here is where we are:"
UNKNOWN_ENTRY = "I don't know that shortcut, so I've started from the beginning."
GUIDE_UPDATED = "The guide has been updated since we last talked, so we're starting fresh with the new version."
OFFER_GONE = "That reminder option isn't available any more. Here is what I can offer now:"

FORGET_ASK = (
    "Erase everything I have about you? That is your place in the guide, your answers and any reminders. "
    "This can't be undone."
)
FORGET_KEPT = "Okay, nothing was erased."
FORGOTTEN = (
    "Done. I've erased everything I had about you: your answers, your place in the guide and your reminders. "
    "If you write to me again, we start from scratch."
)
THANKS_OFF = (
    "**Thank you!** I've noted that the setting is off (just that fact, nothing else).\n\n"
    "Policies change, so it's worth checking the setting again now and then."
)
CHECK_BACK_ASK = "Shall I check back with you, so you can look at it again?"
REMIND_ASK = "When would you like a reminder?"
REMIND_NONE = "There's nothing I can remind you about right now."
NO_REMINDERS_HERE = "Reminders work on Telegram and Discord; in this chat I can't reach you later."
REMINDERS_STOPPED = "Reminders stopped, change alerts too. I won't send you any more."
NO_REMINDERS_TO_STOP = "You have no reminders scheduled and follow no changes."
OTHER_ASSISTANTS = "**Which assistant would you like to check?** Each has its own switch; I'll walk you through it."
CHECK_ALL = "✅ Check all my assistants"
CHECK_ALL_ASK = "**Which of these do you use?** Tap each one, then Continue; I'll walk you through them one by one."
CHECK_ALL_GO = "Continue ➡"
CHECK_ALL_NONE = "Tap at least one assistant first."
CHECK_ALL_NEXT = "➡ Next assistant"
CHECK_ALL_SUMMARY = "🏁 Finish: my summary"
SOURCES_INTRO = "**Where this guide's facts come from:**"


def help_text(hints: PlatformHints) -> str:
    p = hints.command_prefix
    return (
        "**What I can do**\n\n"
        f"- {p}start: walk through the guide from the beginning\n"
        f"- {p}steps: just show me the steps to turn the setting off\n"
        f"- {p}remind: set up a reminder\n"
        f"- {hints.stop_reminders}: stop all reminders\n"
        f"- {p}sources: where the facts come from\n"
        f"- {p}privacy: what I store about you\n"
        f"- {p}forget: erase everything I have about you"
    )


def unknown_command(hints: PlatformHints) -> str:
    return f"I don't know that command. Try {hints.command_prefix}help to see what I can do. Here is where we are:"


def privacy(hints: PlatformHints, days: int = 180) -> str:
    p = hints.command_prefix
    return (
        "**What I keep about you**\n\n"
        "- your account number on this platform (not your name or messages)\n"
        "- your answers to my questions and where you are in the guide\n"
        "- the reminders you asked for\n\n"
        "I never store what you type. I also count anonymously how many people start, get the steps and "
        "turn the setting off; those daily totals hold nothing about who you are.\n\n"
        f"**How long:** everything about you is deleted automatically after {days} days without activity.\n\n"
        f"**Erase it now:** send {p}forget and confirm; your answers, your place in the guide and your "
        "reminders are deleted at once."
    )


def check_all_option(name: str, chosen: bool) -> str:
    return f"{'☑️' if chosen else '⬜'} {name}"


def check_all_toggled(name: str, chosen: bool) -> str:
    return f"{name}: {'yes' if chosen else 'no'}"


def check_all_chosen(names: list[str]) -> str:
    return ", ".join(names)


def check_all_heading(n: int, of: int, name: str) -> str:
    return f"**{n} of {of}: {name}**"


def check_all_summary(done: list[str], left: list[str]) -> str:
    lines = ["**Your check is done.**"]
    if done:
        lines += ["", "Turned off (as you told me):", *(f"- {name}" for name in done)]
    if left:
        lines += ["", "Still to do (tap one for its steps):", *(f"- {name}" for name in left)]
    return "\n".join(lines)
