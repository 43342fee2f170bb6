"""An event read once into what the handlers act on: a typed action naming its handler and its pack.

The session (bot/engine.py) parses each event here, routes the action to its pack and calls the
handler registered for ``action.route`` (bot/conversation/registry.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot import button_data as data
from bot import share
from bot.events import Command, Event, Press, Start, Text


@dataclass(frozen=True, slots=True)
class Action:
    """``route``: "start", "text", "command:NAME" or "press:KIND". ``pack``: the pack the event names
    (qualified button data, a deep link), None for the pack the person was in last."""

    route: str
    pack: str | None = None
    arg: str = ""
    step: int | None = None
    kind: str = ""  # a press's button kind (bot.button_data)

    @property
    def is_press(self) -> bool:
        return self.route.startswith("press:")


START, TEXT, UNKNOWN_BUTTON = "start", "text", "press:?"


def command_route(name: str) -> str:
    return f"command:{name}"


def press_route(kind: str) -> str:
    return f"press:{kind}"


def parse(event: Event, packs: dict[str, object], default: str, entries: dict[str, str]) -> Action:
    """Read an event once. ``packs``: the packs served; ``default``: the pack of unqualified button data
    (sent before every pack's data was qualified) and of the /start screen; ``entries``: the default pack's
    entry points (a deep link names either one of them or a pack)."""
    if isinstance(event, Press):
        pressed = data.parse(event.data)
        if pressed is None:
            return Action(UNKNOWN_BUTTON)
        if pressed.kind == data.CHECK_ALL:
            return Action(press_route(pressed.kind), None, pressed.arg, kind=pressed.kind)
        # Data without a pack was sent before every pack's data was qualified: it is the default pack's.
        pack = pressed.pack or default
        if pack not in packs:
            return Action(UNKNOWN_BUTTON, default)  # a forged pack, or one no longer served
        # A global action is routed by its name: "press:x:stop".
        route = press_route(f"{pressed.kind}:{pressed.arg}" if pressed.kind == data.ACTION else pressed.kind)
        return Action(route, pack, pressed.arg, pressed.step, pressed.kind)
    if isinstance(event, Text):
        return Action(TEXT)
    entry = event.entry if isinstance(event, Start) else event.arg if event.name.lower() == "start" else None
    if isinstance(event, Start) or (isinstance(event, Command) and event.name.lower() == "start"):
        if entry in packs and entry not in entries:
            return Action(START, entry)  # a deep link to another pack: /start chatgpt
        if shared := share.shared_pack(entry, list(packs)):
            return Action(START, shared, share.SHARED_ENTRY)  # a link someone shared: /start s-chatgpt
        return Action(START, default, entry or "")
    assert isinstance(event, Command), f"not an engine event: {event!r}"  # a programming error in an adapter
    return Action(command_route(event.name.lower()), None, (event.arg or "").strip())
