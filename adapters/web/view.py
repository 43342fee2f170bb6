"""The one module of the web chat that reads the engine's replies: an Outcome becomes a View to show.

Kept apart so that a change in the engine's reply types (``Message``, ``Edit``, ``Notice``) is adapted
here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from adapters.web.render import HtmlRenderer
from bot.events import Edit, Notice, Outcome

RENDERER = HtmlRenderer()


@dataclass(frozen=True, slots=True)
class Choice:
    label: str
    data: str  # opaque: posted back as it came
    url: str | None = None  # a link, not a press


@dataclass(frozen=True, slots=True)
class Part:
    kind: Literal["notice", "answered", "message"]
    html: str  # rendered, escaped
    choices: tuple[tuple[Choice, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class View:
    parts: tuple[Part, ...]
    forgotten: bool = False
    pack: str | None = None  # the guide the step belongs to


def view_of(outcome: Outcome) -> View:
    parts = []
    for reply in outcome.replies:
        if isinstance(reply, Notice):
            parts.append(Part("notice", RENDERER.render(reply.text)))
            continue
        if isinstance(reply, Edit):
            # The answered question becomes the next step: the answer on a line of its own, then the step.
            parts.append(Part("answered", RENDERER.escape(reply.chosen)))
            if not reply.text and not reply.buttons:
                continue
        choices = tuple(tuple(Choice(b.label, b.data, b.url) for b in row) for row in reply.buttons)
        parts.append(Part("message", RENDERER.render(reply.text), choices))
    return View(tuple(parts), outcome.forgotten, outcome.pack)
