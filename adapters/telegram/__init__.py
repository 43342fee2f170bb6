"""The Telegram adapter (python-telegram-bot 22): private-chat guide, inline buttons, HTML messages."""

from adapters.telegram.platform import TelegramPlatform

__all__ = ["TelegramPlatform"]
