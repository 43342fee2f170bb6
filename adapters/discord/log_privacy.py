"""Keep interaction tokens, webhook URLs and member names out of discord.py's log lines, at every level.

At DEBUG discord.py writes every gateway payload (an interaction's ``token`` answers as the bot for 15
minutes; ``member.user`` carries names) and every webhook call's URL (``/interactions/ID/TOKEN/callback``,
``/webhooks/ID/TOKEN``). The bot token itself is redacted by bot.logs; these are per-interaction secrets
and personal data bot.logs cannot know, so they are cut here, from the formatted line, whatever the
record's template.
"""

from __future__ import annotations

import logging
import re

REDACTED = "[REDACTED]"
# A webhook or interaction URL's token path segment.
_URL_TOKEN = re.compile(r"(/(?:webhooks|interactions)/\d+/)[^/\s'\"?]+")
# "token": "...", 'username': '...' and the other names, as JSON or as a Python dict's repr.
_FIELDS = re.compile(
    r"""(['"](?:token|username|global_name|nick|display_name|first_name|last_name)['"]\s*:\s*)(['"])(?:\\.|(?!\2).)*\2"""
)
# name='...' in the repr of a User or Member.
_REPR = re.compile(r"""\b((?:name|global_name|nick|display_name)=)(['"])(?:\\.|(?!\2).)*\2""")
_LOGGERS = (
    "discord", "discord.client", "discord.gateway", "discord.http", "discord.state", "discord.shard",
    "discord.webhook.async_", "discord.webhook.sync", "discord.app_commands.tree", "discord.ui.view",
    "discord.ui.modal",
)


def scrub(text: str) -> str:
    text = _URL_TOKEN.sub(rf"\1{REDACTED}", text)
    text = _FIELDS.sub(rf"\1\2{REDACTED}\2", text)
    return _REPR.sub(rf"\1'{REDACTED}'", text)


class WithholdInteractionSecrets(logging.Filter):
    """Rewrite a discord.py record's final message (and traceback) without tokens and names."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = None
        if record.exc_info:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


_FILTER = WithholdInteractionSecrets()


def install() -> None:
    """Attach the filter to discord.py's loggers (idempotent: a logger holds a filter object once).

    A filter on a logger sees only the records logged on that very logger, so each module's is named.
    """
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
