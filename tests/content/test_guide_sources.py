"""The guide's facts and sources: every statement traceable to the fact sheet and a cited source.

Convention in content/claude.yaml: the line right above each block's ``- id:`` is a comment
``# facts: F9, F12`` (ids from the fact sheet) or ``# facts: none`` (plain conversation). The model
forbids extra keys, so the fact ids live in these comments; this file parses them.

The fact sheet is kept in the repo as content/facts.md, a copy of the team's shared sheet
(../shared/facts.md beside the checkout); a test fails when the copy and the shared sheet differ.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from functools import cache
from pathlib import Path

import pytest

from bot.guide import DEFAULT_CONTENT_PATH, Guide, load_guide

FACTS_PATH = DEFAULT_CONTENT_PATH.parent / "facts.md"
SHARED_FACTS = DEFAULT_CONTENT_PATH.parent.parent.parent / "shared" / "facts.md"
TODAY = date(2026, 11, 22)

# Which of the guide's sources back which fact of the sheet. A block stating a fact must cite at
# least one of these. Add a row here when the sheet gains a fact the guide uses.
FACT_SOURCES: dict[str, set[str]] = {
    "F1": {"anthropic-news"},
    "F2": {"anthropic-news", "verge", "techcrunch"},
    "F3": {"anthropic-news", "claude-code-data", "wired"},
    "F4": {"anthropic-news", "claude-code-57569"},
    "F5": {"anthropic-news", "verge", "techcrunch", "claude-code-data"},
    "F6": {"anthropic-news", "verge", "techcrunch", "claude-code-data"},
    "F7": {"anthropic-news", "verge"},
    "F8": {"verge", "techcrunch"},
    "F9": {"privacy-settings"},
    "F10": {"anthropic-news", "privacy-retention", "verge"},
    "F11": {"privacy-retention", "anthropic-news", "techcrunch"},
    "F12": {"privacy-settings", "privacy-retention"},
    "F13": {"privacy-retention"},
    "F14": {"privacy-training", "privacy-retention", "privacy-settings"},
    "F15": {"privacy-training"},
    "F16": {"verge"},
    "F17": {"claude-code-data"},
    "F18": {"claude-code-data"},
    "F19": {"claude-code-data", "claude-code-9242"},
    "F20": {"wired"},
}


@cache
def guide() -> Guide:
    return load_guide()


@cache
def fact_comments() -> dict[str, tuple[str, ...] | None]:
    """Map block id -> fact ids from the ``# facts:`` comment right above it (None for ``none``)."""
    lines = Path(DEFAULT_CONTENT_PATH).read_text(encoding="utf-8").splitlines()
    found: dict[str, tuple[str, ...] | None] = {}
    for i, line in enumerate(lines):
        m = re.match(r"^\s*#\s*facts:\s*(.*?)\s*$", line)
        if not m:
            continue
        nxt = re.match(r"^\s*-\s+id:\s*\"?([a-z0-9_-]+)\"?\s*$", lines[i + 1]) if i + 1 < len(lines) else None
        assert nxt, f"line {i + 1}: a '# facts:' comment must sit right above a block's '- id:' line"
        assert nxt.group(1) not in found, f"line {i + 2}: block id {nxt.group(1)!r} used twice"
        value = m.group(1)
        if value == "none":
            found[nxt.group(1)] = None
        else:
            ids = tuple(x.strip() for x in value.split(","))
            assert all(re.fullmatch(r"F\d+", x) for x in ids), f"line {i + 1}: bad fact ids {value!r}"
            found[nxt.group(1)] = ids
    return found


@cache
def sheet() -> dict[str, str]:
    facts = {}
    for line in FACTS_PATH.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^- (F\d+)\.\s*(.*)$", line)
        if m:
            facts[m.group(1)] = m.group(2)
    return facts


def test_the_repo_copy_of_the_fact_sheet_is_current() -> None:
    if not SHARED_FACTS.exists():
        pytest.skip(f"no shared fact sheet beside the checkout ({SHARED_FACTS}) to compare with")
    assert FACTS_PATH.read_text(encoding="utf-8") == SHARED_FACTS.read_text(encoding="utf-8"), (
        f"the fact sheet changed: copy {SHARED_FACTS} to {FACTS_PATH} and review the guide against it"
    )


def blocks():
    for node in guide().nodes:
        for block in node.blocks:
            yield node, block


def test_block_ids_are_unique_across_the_guide():
    dups = [i for i, n in Counter(b.id for _, b in blocks()).items() if n > 1]
    assert not dups


def test_every_block_has_a_facts_comment():
    comments = fact_comments()
    block_ids = {b.id for _, b in blocks()}
    missing = sorted(block_ids - set(comments))
    assert not missing, f"blocks without a '# facts:' comment: {missing}"
    strays = sorted(set(comments) - block_ids)
    assert not strays, f"'# facts:' comments above something that is not a block: {strays}"


def test_fact_ids_exist_in_the_sheet():
    facts = sheet()
    for block_id, ids in fact_comments().items():
        for fact in ids or ():
            assert fact in facts, f"{block_id} cites {fact}, which is not in {FACTS_PATH}"


def test_fact_table_matches_the_sheet():
    facts = sheet()
    cited = {f for ids in fact_comments().values() for f in ids or ()}
    assert cited <= set(FACT_SOURCES), f"add these facts to FACT_SOURCES: {sorted(cited - set(FACT_SOURCES))}"
    assert set(FACT_SOURCES) <= set(facts)


def test_blocks_cite_sources_that_back_their_facts():
    source_ids = {s.id for s in guide().sources}
    comments = fact_comments()
    for node, block in blocks():
        where = f"{node.id}/{block.id}"
        facts = comments[block.id]
        for source in block.sources:
            assert source in source_ids, f"{where}: unknown source {source!r}"
        if facts is None:
            assert not block.sources, f"{where}: says '# facts: none' but cites sources"
            continue
        assert block.sources, f"{where}: states {facts} but cites no source"
        for fact in facts:
            assert FACT_SOURCES[fact] & set(block.sources), (
                f"{where}: {fact} needs one of {sorted(FACT_SOURCES[fact])}, cites {list(block.sources)}"
            )


def test_plain_conversation_blocks_state_no_facts():
    """A '# facts: none' block must not slip in numbers, dates or policy words without a source."""
    comments = fact_comments()
    for node, block in blocks():
        if comments[block.id] is None:
            text = block.text
            assert not re.search(r"\d|years?|days?|train|Anthropic|deadline|deleted|kept", text), (
                f"{node.id}/{block.id} looks factual: give it fact ids and sources"
            )


def test_every_fact_the_brief_requires_is_covered():
    cited = {f for ids in fact_comments().values() for f in ids or ()}
    required = {f"F{i}" for i in (2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17, 18, 19, 20)}
    assert required <= cited, f"not covered: {sorted(required - cited)}"


def test_hedged_facts_are_hedged():
    """Facts the sheet marks (secondary) or (uncertain) appear with a hedge wherever they are said."""
    facts = sheet()
    hedged = {f for f, line in facts.items() if re.search(r"\bsecondary\b|\(uncertain\)", line)}
    assert {"F8", "F9"} <= hedged
    for node, block in blocks():
        text = block.text
        if "by default" in text:
            assert "reportedly" in text, f"{node.id}/{block.id}: the default (F8) is secondary"
        if "Claude Code refused" in text:
            assert re.search(r"\breported\b", text), f"{node.id}/{block.id}: F4's Claude Code part is user reports"
        if "our AI models" in text:
            assert re.search(r"\bmay read\b", text), (
                f"{node.id}/{block.id}: the renamed label (F9) is uncertain"
            )


def test_sources_are_complete_and_all_used():
    g = guide()
    ids = [s.id for s in g.sources]
    assert len(ids) == len(set(ids))
    used = {s for _, b in blocks() for s in b.sources}
    assert set(ids) == used, f"listed but never cited: {sorted(set(ids) - used)}"
    for source in g.sources:
        assert source.url.startswith("https://"), source.id
        assert source.title.strip(), source.id
        assert source.seen <= TODAY, source.id
        # The settings page is where users act, not where facts come from.
        assert "claude.ai/settings" not in source.url, source.id
    urls = {s.url for s in g.sources}
    assert "https://www.anthropic.com/news/updates-to-our-consumer-terms" in urls
    assert "https://code.claude.com/docs/en/data-usage" in urls
    assert any("12109829" in u for u in urls), "the privacy center's 'How do I change ...' article"


def test_deadlines_match_the_sheet():
    facts = sheet()
    g = guide()
    first, final = g.deadline("first"), g.deadline("final")
    assert "2025-09-28" in facts["F2"] and "October 8, 2025" in facts["F3"]
    assert first.at.date() == date(2025, 9, 28)
    assert final.at.date() == date(2025, 10, 8)
    assert first.at < final.at
    for d in (first, final):
        assert d.at.utcoffset() is not None
        assert d.label.strip()
    # Reminders only for the date that still counted; the first one was extended.
    assert final.offsets
    assert not first.offsets
