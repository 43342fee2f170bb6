"""A guide pack as the handlers read it: its nodes and texts per language, and node texts assembled from blocks.

Pure: nothing here does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.guide import Guide, InfoNode, QuestionNode, ResultNode, When, fill_placeholders, placeholders
from bot.i18n import lang

Node = QuestionNode | InfoNode | ResultNode


@dataclass
class Local:
    """A pack's nodes and texts in one of its languages (ids, conditions and dates as in English)."""

    nodes: dict[str, Node]
    texts: TextCache


@dataclass
class PackView:
    """One guide pack as the engine serves it."""

    guide: Guide
    # What its button data carries: every pack's data is qualified (bot.button_data).
    qualifier: str
    # {language: its texts}, for each language the pack declares (English always).
    local: dict[str, Local]

    @property
    def pack(self) -> str:
        return self.guide.pack

    @property
    def nodes(self) -> dict[str, Node]:
        """The nodes in English: the structure every language shares."""
        return self.local[self.guide.language].nodes

    def in_language(self, code: str) -> Local:
        """The pack in ``code``, or in its own language (English) when it lacks that one."""
        return self.local.get(code) or self.local[self.guide.language]

    def speaks(self, code: str) -> bool:
        return code in self.local

    @classmethod
    def of(cls, guide: Guide) -> PackView:
        local = {}
        for code in dict.fromkeys((guide.language, *guide.languages)):
            g = guide.in_language(code)
            local[g.language] = Local({n.id: n for n in g.nodes}, TextCache(g))
        return cls(guide, guide.pack, local)


class TextCache:
    """Node texts by what they can depend on: the answers their conditions name and the deadlines passed.

    Assembling a result from its blocks is the engine's largest cost per step, and a few hundred
    combinations cover every user. A text counting down to a deadline still ahead is not cached.
    """

    LIMIT = 20_000

    def __init__(self, guide: Guide) -> None:
        self.guide = guide
        self._keys = {
            n.id: tuple(sorted({k for b in n.blocks for k in (*b.when.answers, *b.when.not_answers)})) for n in guide.nodes
        }
        # For nodes that show a time left: the deadlines it counts down to. Once they have all
        # passed, the text no longer changes with the clock and is cached like the others.
        self._countdowns = {
            n.id: [guide.deadline(d).at for b in n.blocks for d, field in placeholders(b.text) if field == "left"]
            for n in guide.nodes
        }
        self._cache: dict[tuple, tuple[str, ...]] = {}

    def parts(self, node: QuestionNode | InfoNode | ResultNode, answers: dict[str, str], now: datetime) -> tuple[str, ...]:
        if any(now < at for at in self._countdowns[node.id]):
            return node_parts(self.guide, node, answers, now)
        key = (
            node.id,
            tuple(answers.get(k) for k in self._keys[node.id]),
            tuple(now >= d.at for d in self.guide.deadlines),
        )
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) >= self.LIMIT:
                self._cache.clear()
            found = self._cache[key] = node_parts(self.guide, node, answers, now)
        return found


def visible(when: When, answers: dict[str, str], guide: Guide, now: datetime) -> bool:
    """Tell whether a block with these conditions is shown for these answers at this time."""
    if not when.allows(answers):
        return False
    if when.before and not now < guide.deadline(when.before).at:
        return False
    return not (when.after and now < guide.deadline(when.after).at)


def node_parts(
    guide: Guide, node: QuestionNode | InfoNode | ResultNode, answers: dict[str, str], now: datetime
) -> tuple[str, ...]:
    """Assemble a node's text from the blocks that apply, with dates filled in: one string per message.

    A block marked ``new_message`` starts a new message when something precedes it, so that a long
    node ("More details") reads as a few short messages on a phone.
    """
    parts: list[list[str]] = [[]]
    for block in node.blocks:
        if not visible(block.when, answers, guide, now):
            continue
        text = fill_placeholders(block.text.strip(), guide, now, lang(guide.language))
        if not text:
            continue
        if block.new_message and parts[-1]:
            parts.append([])
        parts[-1].append(text)
    return tuple("\n\n".join(p) for p in parts if p) or ("",)


def node_text(guide: Guide, node: QuestionNode | InfoNode | ResultNode, answers: dict[str, str], now: datetime) -> str:
    """A node's whole text, all its messages joined (for checks and tests)."""
    return "\n\n".join(node_parts(guide, node, answers, now))
