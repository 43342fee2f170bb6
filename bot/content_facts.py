"""A pack's traceability: the ``# facts:`` comments above its blocks, checked against the fact sheets.

The guide model forbids extra keys, so the fact ids a block states live in a YAML comment right above
its ``- id:`` line (``# facts: CG1, CG2``, or ``# facts: none`` for plain conversation); the pack's
``changes:`` note carries one right above ``changes:``. The fact sheets are the ``facts*.md`` files
beside the pack (content/facts.md for Claude, content/facts-assistants.md for the others), where each
fact is a line ``- ID. text``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from bot.guide import Guide

STALE_AFTER = timedelta(days=180)
CHANGES = "changes"  # the key under which the changes note's comment is recorded

_COMMENT = re.compile(r"^\s*#\s*facts:\s*(.*?)\s*$")
_BLOCK_ID = re.compile(r"^\s*-\s+id:\s*\"?([a-z0-9_-]+)\"?\s*$")
_CHANGES = re.compile(r"^changes:\s*$")
_FACT_LINE = re.compile(r"^- ([A-Z]{1,3}\d+)\.\s*(.*)$")
FACT_ID = re.compile(r"^[A-Z]{1,3}\d+$")


@dataclass(frozen=True)
class FactComments:
    """Block id (or ``CHANGES``) -> the fact ids its comment names (None for ``none``), and problems found."""

    by_block: dict[str, tuple[str, ...] | None]
    problems: list[str]


def read_fact_comments(text: str) -> FactComments:
    found: dict[str, tuple[str, ...] | None] = {}
    problems: list[str] = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        m = _COMMENT.match(line)
        if not m:
            continue
        following = lines[i + 1] if i + 1 < len(lines) else ""
        block = _BLOCK_ID.match(following)
        key = block.group(1) if block else CHANGES if _CHANGES.match(following) else None
        if key is None:
            problems.append(f"line {i + 1}: a '# facts:' comment must sit right above a block's '- id:' line")
            continue
        if key in found:
            problems.append(f"line {i + 2}: block id {key!r} has a second '# facts:' comment")
        value = m.group(1)
        if value == "none":
            found[key] = None
            continue
        ids = tuple(x.strip() for x in value.split(","))
        bad = [x for x in ids if not FACT_ID.match(x)]
        if bad:
            problems.append(f"line {i + 1}: not fact ids: {', '.join(bad)}")
        found[key] = ids
    return FactComments(found, problems)


def fact_sheets(pack_path: Path) -> list[Path]:
    return sorted(pack_path.parent.glob("facts*.md"))


def read_sheet(paths: Iterable[Path]) -> dict[str, str]:
    """Fact id -> its line, from every sheet given."""
    facts: dict[str, str] = {}
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            m = _FACT_LINE.match(line)
            if m:
                facts[m.group(1)] = m.group(2)
    return facts


def check_facts(guide: Guide, text: str, facts: dict[str, str]) -> list[str]:
    """Problems (``where: what``) with the fact comments of a pack whose YAML source is ``text``."""
    comments = read_fact_comments(text)
    problems = list(comments.problems)
    cited: list[tuple[str, tuple[str, ...]]] = [(f"{n.id}: block {b.id!r}", b.sources) for n in guide.nodes for b in n.blocks]
    keys = [b.id for n in guide.nodes for b in n.blocks]
    if guide.changes is not None:
        cited.append(("changes", guide.changes.sources))
        keys.append(CHANGES)
    for (where, sources), key in zip(cited, keys, strict=True):
        if key not in comments.by_block:
            problems.append(f"{where}: no '# facts:' comment above it")
            continue
        ids = comments.by_block[key]
        if ids is None:
            if sources:
                problems.append(f"{where}: says '# facts: none' but cites sources")
            continue
        for fact in ids:
            if fact not in facts:
                problems.append(f"{where}: unknown fact id {fact!r} (not in the fact sheet)")
        if not sources:
            problems.append(f"{where}: states {', '.join(ids)} but cites no source")
    for stray in sorted(set(comments.by_block) - set(keys)):
        problems.append(f"'# facts:' comment above {stray!r}, which is not a block of this pack")
    return problems


def pack_warnings(guide: Guide, today: date) -> list[str]:
    """Things a maintainer should look at that do not make the pack wrong."""
    warnings = []
    checked = guide.checked
    if checked is None:
        warnings.append("no sources: the result cannot say when its facts were last checked")
    elif today - checked > STALE_AFTER:
        warnings.append(
            f"facts last checked {checked.isoformat()}, over {STALE_AFTER.days} days ago: read the sources again"
        )
    if guide.changes is not None and guide.changes.version != guide.version:
        warnings.append(
            f"the changes note is for version {guide.changes.version}, not {guide.version}: no alert will be sent"
        )
    return warnings
