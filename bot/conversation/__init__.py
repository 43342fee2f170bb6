"""The conversation's handlers: functions without I/O, registered by command name and button kind.

Importing this package registers them all (bot/conversation/registry.py: ``HANDLERS``).
"""

from bot.conversation import about, check_all, remind_menu, walk  # noqa: F401 (they register their handlers)
from bot.conversation.check_all import ROUTE as _CHECK_ALL
from bot.conversation.registry import HANDLERS

# Routes whose handler works on the person, not on a pack's row: no pack row is created or reset for them.
PERSON_ROUTES = frozenset({_CHECK_ALL})

__all__ = ["HANDLERS", "PERSON_ROUTES"]
