"""Telegram HTML for the guide's Markdown subset, inline keyboards, and splitting at 4,096 characters."""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, SwitchInlineQueryChosenChat

from bot.events import Button, Edit, Message, Notice, Reply
from bot.markup import Block, ListBlock, Paragraph, PlainRenderer, Renderer, parse, split_message

MESSAGE_LIMIT = 4096  # Telegram's limit for a message text, counted after entity parsing
TOAST_LIMIT = 200  # answerCallbackQuery text


class TelegramRenderer(Renderer):
    """Render to the HTML subset Telegram parses (parse_mode=HTML)."""

    def escape(self, text: str) -> str:
        # Telegram accepts only &lt; &gt; &amp; &quot; as named entities; quotes need no escaping
        # outside attributes, and escaping them would only lengthen the text.
        return html.escape(text, quote=False)

    def bold(self, inner: str) -> str:
        return f"<b>{inner}</b>"

    def italic(self, inner: str) -> str:
        return f"<i>{inner}</i>"

    def link(self, inner: str, url: str) -> str:
        return f'<a href="{html.escape(url, quote=True)}">{inner}</a>'


@dataclass(frozen=True, slots=True)
class Rendered:
    """One Telegram message ready to send: HTML text and its keyboard (None for none)."""

    text: str
    markup: InlineKeyboardMarkup | None = None


_RENDERER = TelegramRenderer()
_PLAIN = PlainRenderer()


@lru_cache(maxsize=1024)
def keyboard(rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    """Build the inline keyboard: callback buttons carry the engine's opaque data, link buttons a URL,
    share buttons open Telegram's chat picker with the pack as the inline query (adapters/telegram/inline.py)."""
    if not rows:
        return None
    return InlineKeyboardMarkup([[_button(b) for b in row] for row in rows if row])


def _button(b: Button) -> InlineKeyboardButton:
    if b.url:
        return InlineKeyboardButton(b.label, url=b.url)
    if b.share:
        # Any chat but one with another bot: a card is for a person.
        chats = SwitchInlineQueryChosenChat(b.share, allow_user_chats=True, allow_group_chats=True, allow_channel_chats=True)
        return InlineKeyboardButton(b.label, switch_inline_query_chosen_chat=chats)
    return InlineKeyboardButton(b.label, callback_data=b.data)


# Cached: the same steps are shown to every user (the shipped guide has under a hundred distinct
# screens), and PTB's objects are immutable, so sharing them is safe.
@lru_cache(maxsize=1024)
def render_reply(reply: Message | Notice) -> tuple[Rendered, ...]:
    """Render a reply as one or more messages; the keyboard goes on the last one, below all the text."""
    chunks = render_chunks(reply.text, MESSAGE_LIMIT)
    markup = keyboard(reply.buttons)
    return (*(Rendered(c) for c in chunks[:-1]), Rendered(chunks[-1], markup))


def render_chunks(text: str, limit: int) -> list[str]:
    """Render to HTML parts of at most ``limit`` characters, cut at paragraph boundaries.

    Splitting rendered HTML blindly could cut through a tag or an ``&amp;``, which Telegram
    refuses; so each paragraph is first made to fit on its own, then whole paragraphs are packed.
    """
    paragraphs: list[str] = []
    for block in parse(text):
        html = _RENDERER.block(block)
        paragraphs.extend([html] if len(html) <= limit else _split_block(block, limit))
    return split_message("\n\n".join(paragraphs), limit)


def _split_block(block: Block, limit: int) -> list[str]:
    """Cut an oversized paragraph or list between its lines, packing lines into parts that fit."""
    if isinstance(block, Paragraph):
        lines: list[Block] = [Paragraph((line,)) for line in block.lines]
    else:
        lines = [ListBlock((item,), block.numbered, block.start + i) for i, item in enumerate(block.items)]
    parts: list[str] = []
    current = ""
    for line in lines:
        html = _RENDERER.block(line)
        pieces = [html] if len(html) <= limit else _split_line(_PLAIN.block(line), limit)
        for piece in pieces:
            if current and len(current) + 1 + len(piece) <= limit:
                current = f"{current}\n{piece}"
            else:
                if current:
                    parts.append(current)
                current = piece
    if current:
        parts.append(current)
    return parts


def _split_line(plain: str, limit: int) -> list[str]:
    # A single line longer than a message: a last resort that keeps the words but not the formatting.
    size = limit
    while True:
        pieces = [_RENDERER.escape(p) for p in split_message(plain, size)]
        if all(len(p) <= limit for p in pieces):
            return pieces
        size = max(1, size * 4 // 5)


def chosen_line(label: str | None) -> str:
    """The line that shows which answer was chosen."""
    return f"✅ <b>{_RENDERER.escape(label)}</b>" if label else "✅"


def compose(replies: Sequence[Reply]) -> list[Rendered]:
    """Turn an outcome's replies into Telegram messages, in order.

    An ``Edit`` (the step after a pressed answer, merged by the core) gets a "✅ chosen" line at its top,
    so that one message shows both: the handlers edit the pressed message into it.
    """
    messages: list[Rendered] = []
    for reply in replies:
        if isinstance(reply, Edit):
            line = chosen_line(reply.chosen)
            if reply.text:
                messages.extend(render_after(line, Message(reply.text, reply.buttons)))
            else:
                messages.append(Rendered(line, keyboard(reply.buttons)))
        else:
            messages.extend(render_reply(reply))
    return messages


@lru_cache(maxsize=1024)
def render_after(line: str, reply: Message) -> tuple[Rendered, ...]:
    """Render a reply with ``line`` (already HTML) above its first part."""
    chunks = render_chunks(reply.text, MESSAGE_LIMIT - len(line) - 2)
    chunks[0] = f"{line}\n\n{chunks[0]}" if chunks[0] else line
    markup = keyboard(reply.buttons)
    return (*(Rendered(c) for c in chunks[:-1]), Rendered(chunks[-1], markup))


def toast(reply: Notice) -> str:
    """Return a notice as plain text short enough for an answerCallbackQuery toast."""
    text = _PLAIN.render(reply.text).replace("\n", " ")
    return text if len(text) <= TOAST_LIMIT else text[: TOAST_LIMIT - 1].rstrip() + "…"
