"""The Discord adapter (discord.py 2.7): slash commands and buttons over the gateway."""

from adapters.discord.platform import DiscordPlatform

__all__ = ["DiscordPlatform"]
