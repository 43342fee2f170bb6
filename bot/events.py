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
    """A command of the table in ``bot.commands`` (``help``, ``steps``...), or any other name (answered as unknown)."""

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


Rows = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True, slots=True)
class Message:
    """A new message. ``text`` is in the guide's Markdown subset (see bot.markup); the buttons go under it."""

    text: str
    buttons: Rows = ()


@dataclass(frozen=True, slots=True)
class Edit:
    """The answer to a press, already merged: show ``chosen`` (the pressed answer's label, plain text) as a
    "✅ chosen" line above ``text``, with ``buttons``, in place of the message whose button was pressed.

    A platform that cannot edit sends it as a new message, chosen line included.
    """

    chosen: str
    text: str
    buttons: Rows = ()


@dataclass(frozen=True, slots=True)
class Notice:
    """A short explanation (stale button, unknown command...): a platform may show it as a toast or an
    ephemeral line, and must also show it in the chat. An outcome with a notice leaves the pressed message
    as it was; its other replies come as new messages."""

    text: str

    @property
    def buttons(self) -> Rows:
        return ()


# What the engine answers with: each adapter's one renderer turns each kind into its platform's messages.
Reply = Message | Edit | Notice


@dataclass(frozen=True, slots=True)
class Outcome:
    replies: list[Reply] = field(default_factory=list)
    # True when the user's data was erased (adapters may drop any per-user cache they hold).
    forgotten: bool = False
    # The guide pack the replies end on ("Check all my assistants" moves a person from one to the next).
    pack: str | None = None

    @property
    def notice(self) -> Notice | None:
        """The outcome's first notice, if any: then nothing is edited in place."""
        return next((r for r in self.replies if isinstance(r, Notice)), None)
