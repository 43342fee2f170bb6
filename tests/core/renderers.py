"""What each platform adapter would send for an outcome, for core tests that check platform limits."""

from __future__ import annotations

from adapters.discord.render import MESSAGE_LIMIT as DISCORD_LIMIT
from adapters.discord.render import compose
from adapters.telegram.render import MESSAGE_LIMIT as TELEGRAM_LIMIT
from adapters.telegram.render import compose as compose_telegram
from bot.events import Outcome


def platform_messages(outcome: Outcome) -> list[tuple[str, str, int]]:
    """Return (platform, message text, that platform's limit) for every message the adapters would send."""
    found: list[tuple[str, str, int]] = []
    found += [("telegram", r.text, TELEGRAM_LIMIT) for r in compose_telegram(outcome.replies)]
    found += [("discord", m.content, DISCORD_LIMIT) for m in compose(outcome)]
    return found
