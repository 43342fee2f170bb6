"""What the core expects of a platform adapter (Telegram, Discord); the console needs only the engine."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from bot.events import Message, Recipient


class Delivery(enum.Enum):
    SENT = "sent"
    # The recipient cannot be reached (blocked the bot, closed DMs, deleted channel): never retry.
    UNREACHABLE = "unreachable"
    # A passing failure (network, 5xx) that survived the adapter's own retries: try again later.
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message the bot sends unprompted (a reminder or an announcement)."""

    recipient: Recipient
    replies: tuple[Message, ...]


class Platform(Protocol):
    name: str  # the UserKey.platform of its users

    async def start(self) -> None:
        """Connect and begin handling updates; return once running (raise PlatformError if it cannot)."""
        ...

    async def stop(self) -> None:
        """Stop taking updates, finish the ones in flight, disconnect."""
        ...

    def ready(self) -> bool:
        """Tell whether the platform connection is up (for /readyz)."""
        ...

    async def send(self, message: Outgoing) -> Delivery:
        """Send an unprompted message, honouring the platform's rate limits."""
        ...

    async def failed(self) -> str:
        """Wait until the platform gives up for good while running (e.g. another instance long-polls
        Telegram with the same token); return the one line saying why. Most platforms never return."""
        ...


class PlatformError(Exception):
    """A platform could not start (bad token, unreachable API); str() says what to fix."""
