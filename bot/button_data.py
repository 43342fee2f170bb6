"""The one grammar for button data: every button the bot shows is built here and read back here.

Adapters treat the data as opaque: they send it out (Telegram callback data, inside a Discord custom
id) and hand it back unchanged in a ``Press``. At most ``BUTTON_DATA_MAX`` bytes.

    o:STEP:OPTION   choose OPTION of the node shown at STEP      n:STEP   Continue (info node)
    b:STEP          Back from the node shown at STEP              s        Start over
    e:ENTRY         open a guide entry point (never stale)        c        show the current step again
    r:OFFER         schedule the reminder OFFER                   x:ACTION a global action (stop, remind, done, alerts, sources, share)
    f:yes / f:no    answer the erase-my-data confirmation         l:LANG   speak LANG from now on (/language)
    a:open / a:+PACK / a:go / a:next   "Check all my assistants": open the list, toggle a pack, Continue, Next

Every pack's buttons are qualified by their pack, ``PACK/`` in front (``chatgpt/o:3:yes``); data without
one was sent before that was so, and belongs to the default pack (it keeps working). STEP is a per-user counter that grows with every transition,
so a button from an older message is recognised as stale (even across restarts: the counter is
stored) instead of moving the user twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BUTTON_DATA_MAX = 60  # bytes, leaves room below Telegram's 64

OPTION, CONTINUE, BACK, START_OVER, CURRENT = "o", "n", "b", "s", "c"
ENTRY, OFFER, ACTION, FORGET, LANGUAGE, CHECK_ALL = "e", "r", "x", "f", "l", "a"
# Kinds that name no step: they act the same whatever the user's place, so they are never stale.
UNSTEPPED = frozenset({ENTRY, OFFER, ACTION, FORGET, LANGUAGE, CHECK_ALL})
# "Check all my assistants" (never pack-qualified: it spans the packs). "+PACK" toggles a pack.
CHECK_ALL_OPEN, CHECK_ALL_GO, CHECK_ALL_NEXT = "open", "go", "next"

# alerts: follow the pack's change alerts; sources: list the pack's sources; share: a share button pressed
# where the platform cannot share.
STOP, REMIND, DONE, ALERTS, SOURCES, SHARE = "stop", "remind", "done", "alerts", "sources", "share"

_PACK = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


@dataclass(frozen=True, slots=True)
class ButtonData:
    """What a press means: its kind, the step it was shown at (for stepped kinds), its argument."""

    kind: str
    step: int | None = None
    arg: str = ""
    pack: str | None = None

    def __str__(self) -> str:
        body = self.kind
        if self.step is not None:
            body += f":{self.step}"
        if self.arg:
            body += f":{self.arg}"
        return f"{self.pack}/{body}" if self.pack else body


def option(step: int, option_id: str, pack: str | None = None) -> str:
    return str(ButtonData(OPTION, step, option_id, pack))


def next_step(step: int, pack: str | None = None) -> str:
    return str(ButtonData(CONTINUE, step, pack=pack))


def back(step: int, pack: str | None = None) -> str:
    return str(ButtonData(BACK, step, pack=pack))


def start_over(pack: str | None = None) -> str:
    return str(ButtonData(START_OVER, pack=pack))


def current(pack: str | None = None) -> str:
    return str(ButtonData(CURRENT, pack=pack))


def entry(name: str, pack: str | None = None) -> str:
    return str(ButtonData(ENTRY, arg=name, pack=pack))


def offer(offer_id: str, pack: str | None = None) -> str:
    return str(ButtonData(OFFER, arg=offer_id, pack=pack))


def action(name: str, pack: str | None = None) -> str:
    return str(ButtonData(ACTION, arg=name, pack=pack))


def forget(yes: bool, pack: str | None = None) -> str:
    return str(ButtonData(FORGET, arg="yes" if yes else "no", pack=pack))


def language(code: str, pack: str | None = None) -> str:
    return str(ButtonData(LANGUAGE, arg=code, pack=pack))


def check_all(arg: str) -> str:
    return str(ButtonData(CHECK_ALL, arg=arg))


def parse(data: str) -> ButtonData | None:
    """Read button data back; None for anything this grammar never builds (forged or garbled)."""
    pack, slash, body = data.rpartition("/")
    if slash and not _PACK.match(pack):
        return None
    kind, _, rest = body.partition(":")
    if kind in (START_OVER, CURRENT):
        return ButtonData(kind, pack=pack or None) if not rest else None
    if kind in UNSTEPPED:
        return ButtonData(kind, arg=rest, pack=pack or None) if rest else None
    if kind in (OPTION, CONTINUE, BACK):
        step_text, _, arg = rest.partition(":")
        if not step_text.isdigit() or (kind == OPTION) != bool(arg):
            return None
        return ButtonData(kind, int(step_text), arg, pack or None)
    return None

