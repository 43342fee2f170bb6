"""What a handler gets and gives, and the registry that routes an action to its handler.

A handler is a function without I/O: ``handler(state, action, turn) -> Result``. ``state`` is the
person's row in the action's pack (a copy: the handler changes it and returns it as the new state),
``turn`` what else it may read. What needs I/O comes back as ``effects`` that the session runs after
the handler (subscribe, cancel, erase...), with ``then`` turning their results into the replies; facts
that cost a read (the reminders scheduled, the person's rows in every pack) are loaded only for the
handlers that ask for them (``turn.require``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from bot.actions import Action
from bot.conversation.packs import Local, PackView
from bot.events import Button, Edit, Message, Notice, PlatformHints, Reply, UserKey
from bot.i18n import Lang
from bot.storage.base import Person, UserState

SCHEDULE, ROWS = "schedule", "rows"


class Planner(Protocol):
    """The pure part of the reminder service that handlers consult (bot.reminders.service)."""

    def offers(self, key: UserKey | None, now: datetime, *, pack: str | None = None, turned_off: bool = False,
               t: Lang = ...) -> list[tuple[str, str]]:
        """(offer id, button label) pairs that fit the date, for a person in ``pack``."""
        ...


class Needs(Exception):
    """Raised by ``Turn.require``: the session loads the fact and calls the handler again."""

    def __init__(self, fact: str) -> None:
        super().__init__(fact)
        self.fact = fact


@dataclass
class Turn:
    """What a handler may read besides the state and the action. Nothing here does I/O."""

    now: datetime
    pack: PackView
    packs: Mapping[str, PackView]
    person: Person
    t: Lang
    hints: PlatformHints
    retention_days: int
    planner: Planner | None  # None: reminders cannot reach this person (the terminal)
    # Facts loaded on request (Needs): a sentence about the person's reminders in this pack, their rows.
    facts: dict[str, object] = field(default_factory=dict)

    @property
    def local(self) -> Local:
        """The pack in the language the guide is shown in."""
        return self.pack.in_language(self.t.code)

    def q(self) -> str:
        return self.pack.qualifier

    def require(self, fact: str) -> object:
        if fact not in self.facts:
            raise Needs(fact)
        return self.facts[fact]


# Effects: what the session does for a handler, in order, after it returns ------------------------
@dataclass(frozen=True, slots=True)
class Subscribe:
    offer: str
    turned_off: bool


@dataclass(frozen=True, slots=True)
class CancelReminders:
    pass


@dataclass(frozen=True, slots=True)
class FollowChanges:
    pass


@dataclass(frozen=True, slots=True)
class Confirmed:
    """The person said the setting is off: the "did it work?" check-in is dropped."""


@dataclass(frozen=True, slots=True)
class Erase:
    pass


Effect = Subscribe | CancelReminders | FollowChanges | Confirmed | Erase


@dataclass(frozen=True, slots=True)
class Open:
    """Go on in another pack: apply ``action`` there, with ``heading`` above its first message."""

    pack: str
    action: Action
    heading: str = ""


@dataclass
class Result:
    replies: list[Reply] = field(default_factory=list)
    state: UserState | None = None  # the new state; None: unchanged, nothing to save
    counters: tuple[str, ...] = ()
    person: Person | None = None  # a new person record to save
    effects: tuple[Effect, ...] = ()
    # Turns the effects' results (in order) into the replies that follow ``replies``.
    then: Callable[[list[object]], list[Reply]] | None = None
    # The label of the answer pressed: the first message of the replies becomes an Edit showing it.
    chosen: str | None = None
    open: Open | None = None
    forgotten: bool = False


Handler = Callable[[UserState, Action, Turn], Result]
HANDLERS: dict[str, Handler] = {}


def handles(*routes: str) -> Callable[[Handler], Handler]:
    """Register a handler for action routes ("command:help", "press:o", "option:remind", ...)."""

    def register(fn: Handler) -> Handler:
        for route in routes:
            assert route not in HANDLERS, f"two handlers for {route}"
            HANDLERS[route] = fn
        return fn

    return register


def answered(chosen: str, replies: list[Reply]) -> list[Reply]:
    """Merge a pressed answer into what follows it: the first message becomes an Edit with ``chosen`` on top.

    With nothing to merge into, the Edit shows just the chosen answer. A notice stays where it is.
    """
    out = list(replies)
    for i, reply in enumerate(out):
        if isinstance(reply, Message):
            out[i] = Edit(chosen, reply.text, reply.buttons)
            return out
    return [Edit(chosen, ""), *out]


def button(turn: Turn, msgid: str, data: str) -> Button:
    return Button(turn.t._(msgid), data)


def notice(turn: Turn, msgid: str) -> Notice:
    return Notice(turn.t._(msgid))
