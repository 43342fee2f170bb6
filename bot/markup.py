"""The guide's Markdown subset, parsed once and rendered by each platform's ``Renderer``.

Supported: paragraphs (blank line between), line breaks, ``- `` bullet lists, ``1. `` numbered
lists, ``**bold**``, ``_italic_``, ``[text](https://url)``. Anything else is plain text, so a
maintainer's stray ``*`` or ``<`` is shown as typed (each renderer escapes it for its platform).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class Plain:
    text: str


@dataclass(frozen=True, slots=True)
class Bold:
    children: tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class Italic:
    children: tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class Link:
    children: tuple[Inline, ...]
    url: str


Inline = Plain | Bold | Italic | Link


@dataclass(frozen=True, slots=True)
class Paragraph:
    lines: tuple[tuple[Inline, ...], ...]


@dataclass(frozen=True, slots=True)
class ListBlock:
    items: tuple[tuple[Inline, ...], ...]
    numbered: bool
    start: int = 1


Block = Paragraph | ListBlock

_BULLET = re.compile(r"^\s*[-•]\s+(.*)$")
_NUMBER = re.compile(r"^\s*(\d{1,3})[.)]\s+(.*)$")
_INLINE = re.compile(r"\*\*(?P<bold>.+?)\*\*|(?<![\w])_(?P<ital>[^_\n]+?)_(?![\w])|\[(?P<ltext>[^\]\n]+)\]\((?P<url>https?://[^)\s]+)\)")


def parse_inline(text: str) -> tuple[Inline, ...]:
    out: list[Inline] = []
    pos = 0
    for m in _INLINE.finditer(text):
        if m.start() > pos:
            out.append(Plain(text[pos : m.start()]))
        if m.group("bold") is not None:
            out.append(Bold(parse_inline(m.group("bold"))))
        elif m.group("ital") is not None:
            out.append(Italic(parse_inline(m.group("ital"))))
        else:
            out.append(Link(parse_inline(m.group("ltext")), m.group("url")))
        pos = m.end()
    if pos < len(text):
        out.append(Plain(text[pos:]))
    return tuple(out)


def _line_kind(line: str) -> tuple[str, str, int]:
    """Classify one line as ("bullet"|"num"|"para"|"cont", content, list start)."""
    if m := _BULLET.match(line):
        return "bullet", m.group(1), 1
    if m := _NUMBER.match(line):
        return "num", m.group(2), int(m.group(1))
    if line.startswith(("  ", "\t")):
        return "cont", line.strip(), 1
    return "para", line.strip(), 1


@lru_cache(maxsize=4096)
def parse(text: str) -> tuple[Block, ...]:
    """Parse the Markdown subset into blocks (cached: guide texts repeat on every step)."""
    runs: list[tuple[str, int, list[str]]] = []  # (kind, list start, lines) of consecutive like lines
    for chunk in re.split(r"\n\s*\n", text.strip()):
        first_in_chunk = True
        for line in (ln.rstrip() for ln in chunk.split("\n") if ln.strip()):
            kind, content, start = _line_kind(line)
            if kind == "cont" and not first_in_chunk and runs[-1][0] in ("bullet", "num"):
                runs[-1][2][-1] += " " + content  # a wrapped list item
            elif kind == "cont":
                kind = "para"
            if kind != "cont":
                if first_in_chunk or runs[-1][0] != kind:
                    runs.append((kind, start, [content]))
                else:
                    runs[-1][2].append(content)
            first_in_chunk = False
    blocks: list[Block] = []
    for kind, start, lines in runs:
        items = tuple(parse_inline(x) for x in lines)
        if kind == "para":
            blocks.append(Paragraph(items))
        else:
            blocks.append(ListBlock(items, numbered=kind == "num", start=start))
    return tuple(blocks)


class Renderer:
    """Walks parsed blocks; each platform overrides the few methods that differ."""

    bullet_mark = "•"

    def escape(self, text: str) -> str:
        return text

    def bold(self, inner: str) -> str:
        return inner

    def italic(self, inner: str) -> str:
        return inner

    def link(self, inner: str, url: str) -> str:
        # A link written as its own address (the source lists) shows the address once.
        return url if inner == url else f"{inner} ({url})"

    def inline(self, nodes: tuple[Inline, ...]) -> str:
        parts = []
        for node in nodes:
            if isinstance(node, Plain):
                parts.append(self.escape(node.text))
            elif isinstance(node, Bold):
                parts.append(self.bold(self.inline(node.children)))
            elif isinstance(node, Italic):
                parts.append(self.italic(self.inline(node.children)))
            else:
                parts.append(self.link(self.inline(node.children), node.url))
        return "".join(parts)

    def block(self, block: Block) -> str:
        if isinstance(block, Paragraph):
            return "\n".join(self.inline(line) for line in block.lines)
        if block.numbered:
            return "\n".join(f"{block.start + i}. {self.inline(item)}" for i, item in enumerate(block.items))
        return "\n".join(f"{self.bullet_mark} {self.inline(item)}" for item in block.items)

    def render(self, text: str) -> str:
        return "\n\n".join(self.block(b) for b in parse(text))


class PlainRenderer(Renderer):
    """For the terminal: no markup, links spelled out."""


_SENTENCE_END = re.compile(r"(?<=[.!?:])\s+")


def split_message(text: str, limit: int) -> list[str]:
    """Split rendered text into messages of at most ``limit`` characters.

    Cuts at paragraph boundaries first, then at line breaks, then after sentences, and only as a
    last resort between words, so a message never ends mid-sentence when it can be avoided.
    """
    if len(text) <= limit:
        return [text]
    out: list[str] = []
    current = ""
    for piece in text.split("\n\n"):
        candidate = f"{current}\n\n{piece}" if current else piece
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            out.append(current)
        if len(piece) <= limit:
            current = piece
        else:
            *whole, current = _split_long(piece, limit)
            out.extend(whole)
    if current:
        out.append(current)
    return out


def _split_long(piece: str, limit: int) -> list[str]:
    for pattern in ("\n", _SENTENCE_END, " "):
        parts = piece.split(pattern) if isinstance(pattern, str) else pattern.split(piece)
        joiner = pattern if isinstance(pattern, str) else " "
        if all(len(p) <= limit for p in parts):
            chunks, current = [], ""
            for part in parts:
                candidate = f"{current}{joiner}{part}" if current else part
                if len(candidate) <= limit:
                    current = candidate
                else:
                    chunks.append(current)
                    current = part
            chunks.append(current)
            return chunks
    return [piece[i : i + limit] for i in range(0, len(piece), limit)]
