"""Keep what users sent out of python-telegram-bot's DEBUG lines (the token is redacted by bot.logs)."""

from __future__ import annotations

import logging

# PTB logs whole updates and API answers at DEBUG: the text people typed, their names and usernames.
# The bot promises to keep none of that, in logs included, so these records keep their shape but
# lose the payload. Keyed by the exact format string PTB uses (python-telegram-bot 22).
_PAYLOAD_TEMPLATES = {
    "Processing update %s",
    "Dropping pending update: %s",
    "Call to Bot API endpoint `%s` finished with return value `%s`",
    "Webhook received data: %s",
}
_LOGGERS = ("telegram.Bot", "telegram.ext.ExtBot", "telegram.ext.Application", "telegram.ext.Updater")
WITHHELD = "[withheld: user content]"


class WithholdPayloads(logging.Filter):
    """Replace the user-content argument of PTB's payload-logging records, keeping the rest."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg in _PAYLOAD_TEMPLATES and record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            if record.msg == "Processing update %s":
                update_id = getattr(args[0], "update_id", "?")
                record.args = (f"{update_id} {WITHHELD}",)
            else:
                record.args = (*args[:-1], WITHHELD)
        elif isinstance(record.msg, str) and "Received data was" in record.msg:
            # PTB's webhook logs a whole unparseable update at CRITICAL.
            record.msg, record.args = "The webhook received an update it could not parse " + WITHHELD, None
        return True


_FILTER = WithholdPayloads()


def install() -> None:
    """Attach the filter to PTB's loggers (idempotent: a logger holds a filter object once)."""
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
