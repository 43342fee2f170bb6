"""The record of "Check all my assistants", kept on the person (``Person.check_all``), never in a pack's answers."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Literal

from bot import button_data as data
from bot import texts
from bot.events import Button

if TYPE_CHECKING:
    from bot.conversation.registry import Turn

SELECT, WALK, DONE = "select", "walk", "done"


@dataclass
class CheckAll:
    """``phase``: ticking the assistants (select), walking them one by one (walk), summary shown (done).
    ``chosen``: the packs ticked, in the list's order; ``index``: the one being walked."""

    phase: Literal["select", "walk", "done"] = SELECT
    chosen: list[str] = field(default_factory=list)
    index: int = 0

    def dump(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def load(cls, raw: str | None) -> CheckAll | None:
        if not raw:
            return None
        try:
            found = json.loads(raw)
            record = cls(found["phase"], [str(p) for p in found["chosen"]], int(found["index"]))
        except (ValueError, KeyError, TypeError):
            return None  # a record from an older form: the check starts afresh
        return record if record.phase in (SELECT, WALK, DONE) else None

    @property
    def walking(self) -> str | None:
        """The pack being walked, if the check is under way."""
        if self.phase == WALK and 0 <= self.index < len(self.chosen):
            return self.chosen[self.index]
        return None


def tour_row(turn: Turn) -> tuple[Button, ...] | None:
    """On a pack the check is walking: the button to the next assistant, or to the summary after the last."""
    record = CheckAll.load(turn.person.check_all)
    if record is None or record.walking != turn.pack.pack:
        return None
    label = texts.CHECK_ALL_SUMMARY if record.index == len(record.chosen) - 1 else texts.CHECK_ALL_NEXT
    return (Button(turn.t._(label), data.check_all(data.CHECK_ALL_NEXT)),)
