"""The platform renderers, for core tests that check every reply fits every platform."""

from __future__ import annotations

from bot.markup import Renderer


def platform_renderers() -> list[tuple[Renderer, int]]:
    """Return (renderer, message limit) for each platform adapter that is installed."""
    found: list[tuple[Renderer, int]] = []
    try:
        from adapters.telegram.render import TelegramRenderer

        found.append((TelegramRenderer(), 4096))
    except ImportError:
        pass
    try:
        from adapters.discord.render import DiscordRenderer

        found.append((DiscordRenderer(), 2000))
    except ImportError:
        pass
    return found
