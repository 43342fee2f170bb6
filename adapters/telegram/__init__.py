"""The Telegram adapter (python-telegram-bot 22): private-chat guide, inline buttons, HTML messages."""

import os

# Opt in to PTB 23's RetryAfter.retry_after as a timedelta (sending.retry_after_seconds reads either):
# otherwise PTB warns on every 429 it handles, from inside its own request path.
os.environ.setdefault("PTB_TIMEDELTA", "1")

from adapters.telegram.platform import TelegramPlatform

__all__ = ["TelegramPlatform"]
