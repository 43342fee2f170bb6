"""Discord markdown for the guide's Markdown subset, button layout, and the messages an Outcome becomes."""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass

import discord.utils

from bot.events import Button, Edit, Notice, Outcome
from bot.markup import Renderer, split_message

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 2000  # Discord's limit for a message's content
LABEL_LIMIT = 80  # Discord's limit for a button label
ROW_LIMIT = 5  # buttons in one action row
ROWS_LIMIT = 5  # action rows in one message

Rows = tuple[tuple[Button, ...], ...]


class DiscordRenderer(Renderer):
    """Render to Discord markdown, escaping whatever Discord would otherwise read as markup."""

    bullet_mark = "-"  # Discord renders "- " lines as a list

    def escape(self, text: str) -> str:
        # escape_markdown leaves masked-link brackets alone; "]" inside link text would end it early.
        return discord.utils.escape_markdown(text).replace("[", "\\[").replace("]", "\\]")

    def bold(self, inner: str) -> str:
        return f"**{inner}**"

    def italic(self, inner: str) -> str:
        return f"*{inner}*"

    def link(self, inner: str, url: str) -> str:
        # The angle brackets stop Discord from adding a preview card under every sourced step.
        return f"[{inner}](<{url}>)"


@dataclass(frozen=True, slots=True)
class Message:
    """One Discord message to show: content within the limit, its buttons, and whether it is a notice."""

    content: str
    rows: Rows = ()
    notice: bool = False


_RENDERER = DiscordRenderer()


def render(text: str) -> str:
    return _RENDERER.render(text)


def chosen_line(label: str) -> str:
    return f"✅ **{_RENDERER.escape(label)}**"


def label(text: str) -> str:
    return text if len(text) <= LABEL_LIMIT else text[: LABEL_LIMIT - 1] + "…"


def layout(rows: Rows) -> Rows:
    """Fit the rows into Discord's 5 rows of 5 buttons, keeping their order.

    The engine puts each answer on its own row; a question with many answers would exceed five
    rows, so neighbouring short rows are merged (the shortest pair first) until the rows fit.
    """
    packed = [tuple(row[i : i + ROW_LIMIT]) for row in rows if row for i in range(0, len(row), ROW_LIMIT)]
    while len(packed) > ROWS_LIMIT:
        pairs = [(len(a) + len(b), i) for i, (a, b) in enumerate(itertools.pairwise(packed))]
        size, i = min(pairs)
        if size > ROW_LIMIT:
            break
        packed[i : i + 2] = [packed[i] + packed[i + 1]]
    if len(packed) > ROWS_LIMIT:
        dropped = sum(len(r) for r in packed[ROWS_LIMIT:])
        log.warning("a step has more buttons than a Discord message holds; %d not shown", dropped)
        packed = packed[:ROWS_LIMIT]
    return tuple(packed)


def compose(outcome: Outcome) -> list[Message]:
    """Turn the engine's replies into Discord messages.

    An ``Edit`` (the step after a pressed answer, merged by the core) gets a "✅ chosen" line at its top,
    so the pressed message can be replaced by one message showing both. Long texts are split at
    paragraph boundaries, with the buttons on the last part.
    """
    messages: list[Message] = []
    for reply in outcome.replies:
        if isinstance(reply, Notice):
            messages.extend(Message(c, notice=True) for c in split_message(render(reply.text), MESSAGE_LIMIT))
        elif isinstance(reply, Edit):
            line = chosen_line(reply.chosen)
            messages.extend(_parts(f"{line}\n\n{render(reply.text)}" if reply.text else line, reply.buttons))
        else:
            messages.extend(_parts(render(reply.text), reply.buttons))
    return messages


def _parts(body: str, rows: Rows) -> list[Message]:
    chunks = split_message(body, MESSAGE_LIMIT) or [""]
    laid_out = layout(rows)
    return [Message(chunk, laid_out if i == len(chunks) - 1 else ()) for i, chunk in enumerate(chunks)]
