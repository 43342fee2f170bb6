"""The neutral vocabulary between the engine and the platform adapters.

Adapters turn platform updates into these events and render these replies; they never decide
what to say. Button data is opaque to adapters: they send ``Button.data`` out and hand it back
unchanged in a ``Press``; its grammar and size limit are in ``bot.button_data``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True, slots=True)
class UserKey:
    platform: str  # "telegram", "discord", "console"
    user_id: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.user_id}"

    @classmethod
    def parse(cls, text: str) -> UserKey:
        platform, _, user_id = text.partition(":")
        return cls(platform, user_id)


@dataclass(frozen=True, slots=True)
class Recipient:
    """Whom an unprompted message (a reminder, an announcement) goes to: a user, or a channel."""

    platform: str
    kind: Literal["user", "channel"]
    id: str  # the platform's user or channel id

    @classmethod
    def user(cls, key: UserKey) -> Recipient:
        return cls(key.platform, "user", key.user_id)


@dataclass(frozen=True, slots=True)
class PlatformHints:
    """How a platform spells the bot's commands, for the texts that tell people what to type.

    Each adapter supplies its own (the core knows no platform's syntax); the terminal uses the defaults.
    """

    command_prefix: str = "/"  # what goes before a command's name: "/help", or "/optout help" on Discord
    stop_reminders: str = "/stop"  # the command that stops reminders


@dataclass(frozen=True, slots=True)
class Start:
    """The user opened the bot (``/start``); ``entry`` names a guide entry point, if any."""

    entry: str | None = None


@dataclass(frozen=True, slots=True)
class Press:
    """The user pressed a button whose data was ``data``."""

    data: str


@dataclass(frozen=True, slots=True)
class Text:
    """The user typed something that is not a command. The text itself is never passed in or kept."""


@dataclass(frozen=True, slots=True)
class Command:
    """A command such as ``steps``, ``remind``, ``stop``, ``forget``, ``sources``, ``privacy``, ``help``."""

    name: str
    arg: str | None = None


Event = Start | Press | Text | Command


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    data: str
    url: str | None = None  # a link button; ``data`` is then ignored
    # A share button passes this pack's guide on, each platform its own way (Telegram: its chat picker
    # and a card; Discord: a message to copy). Where a platform has no such way, a press sends ``data``.
    share: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """One message to show. ``text`` is in the guide's Markdown subset (see bot.markup).

    ``edit`` hints that this reply replaces the message whose button was pressed (it then shows the
    question with ``chosen``, the label of the answer, and no live buttons). Adapters that cannot
    edit send it as a new message.
    """

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    edit: bool = False
    chosen: str | None = None
    # A short notice (stale button, unknown command...) that a platform may show as a toast or an
    # ephemeral line; it is always also present as the first line of ``text``.
    notice: bool = False


@dataclass(frozen=True, slots=True)
class Outcome:
    replies: list[Reply] = field(default_factory=list)
    # True when the user's data was erased (adapters may drop any per-user cache they hold).
    forgotten: bool = False
