"""The web page's own words (around the guide's): gettext msgids, translated in bot/locale like the rest."""

from __future__ import annotations

from bot.i18n import N_

SITE = N_("Opt-Out Assistant")
DESCRIPTION = N_("Switch off the setting that lets an AI assistant train on your chats, step by step. No account; nothing you type is kept.")
SKIP = N_("Skip to the guide")
LANGUAGE = N_("Language")
CHANGE_LANGUAGE = N_("Change language")
FORGET_ME = N_("Forget me")
PRIVACY = N_("What is kept")
SHARE = N_("Share this guide")
LINK_COPIED = N_("Link copied.")
SHARE_LINK = N_("Link to this guide:")
CONTINUE_TELEGRAM = N_("Continue in Telegram")
NOTHING_STORED = N_("Nothing is stored about this browser: there is nothing to forget.")
START_AGAIN = N_("Open the guide")
TOO_MANY = N_("That was a lot of requests in a short time, so I'm pausing for a moment. Please wait a minute, then try again.")
TOO_BIG = N_("That request was too large. Please go back and use the buttons.")
EXPIRED = N_("This page had expired, so nothing was changed. Please open the guide again and use its buttons.")
NOT_FOUND = N_("There is no guide at this address.")
CALENDAR_READY = N_(
    "Nothing is stored here to remind you later: add the reminder to your own calendar instead. "
    "The file holds one event per reminder."
)
CALENDAR_LINK = N_("📅 Download the calendar file (.ics)")
