"""Every guide pack's facts and sources: each statement traceable to a fact sheet and a cited source.

tests/content/test_guide_sources.py holds the Claude guide's own table; this file does the same for
every pack under content/, against content/facts-assistants.md (a copy of the team's shared sheet,
../shared/facts-assistants.md beside the checkout; a test fails when they differ). The comment
parsing is the one `optout-bot content check` uses (bot/content_facts.py).
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from pathlib import Path

import pytest

from bot.content_check import check_pack, pack_files
from bot.content_facts import read_fact_comments, read_sheet
from bot.guide import DEFAULT_CONTENT_PATH, Guide, load_guide

CONTENT = DEFAULT_CONTENT_PATH.parent
SHEET = CONTENT / "facts-assistants.md"
SHARED_SHEET = CONTENT.parent.parent / "shared" / "facts-assistants.md"
TODAY = date(2026, 11, 30)

# Pack -> the sheet's id prefix it draws on, and which of its sources back which fact. A block stating
# a fact must cite at least one of these. Add a row when a pack starts using a fact.
PACKS: dict[str, tuple[str, dict[str, set[str]]]] = {
    "chatgpt": ("CG", {
        "CG1": {"data-controls"}, "CG2": {"data-controls"}, "CG3": {"temporary-chat"},
        "CG5": {"opt-out-older"}, "CG6": {"chat-retention"}, "CG7": {"enterprise-privacy"},
    }),
    "gemini": ("GE", {
        "GE1": {"gemini-activity"}, "GE2": {"gemini-activity"}, "GE3": {"groups-notice"},
        "GE4": {"editorialge"}, "GE5": {"groups-notice"}, "GE6": {"bgr"},
        "GE7": {"gemini-activity", "workspace-privacy", "workspace-training"},
    }),
    "github-copilot": ("GH", {
        "GH1": {"gh-individual-policies"}, "GH2": {"gh-training-policy"}, "GH3": {"thesquid"},
    }),
    "le-chat": ("MI", {"MI1": {"mistral-help"}, "MI2": {"mistral-docs"}}),
    "perplexity": ("PX", {"PX1": {"px-help"}, "PX2": {"px-faq"}}),
    "linkedin": ("LI", {"LI1": {"li-help"}, "LI2": {"inquirer"}, "LI3": {"edgentiq", "particle"}}),
    "microsoft-copilot": ("MC", {"MC1": {"ms-privacy-faq"}, "MC2": {"tipsmake"}, "MC3": {"deleteme"}}),
    "grok": ("XG", {"XG1": {"productionai"}, "XG2": {"makeuseof", "thurrott"}}),
    "meta-ai": ("MA", {"MA1": {"grapheneos"}, "MA2": {"techradar"}, "MA3": {"norton"}}),
}
# What a hedged fact's text must show: second-hand facts say so; mirrored vendor text names the vendor.
HEDGES = re.compile(r"\breportedly\b|\breported\b|\baccording to\b|\bmay (now )?read\b|\bwe could not confirm\b", re.I)
# The labels each pack's steps must show, as the sheet quotes them.
LABELS = {
    "chatgpt": ["Settings", "Data Controls", "Improve the model for everyone"],
    "gemini": ["Keep Activity", "Gemini Apps Activity", "Settings & help", "Activity"],
    "github-copilot": ["Your Copilot", "Allow GitHub to use my data for AI model training", "Disabled"],
    "le-chat": ["Allow your interactions to be used to train our models", "Data & Account Controls",
                "Enable data sharing"],
    "perplexity": ["Preferences", "AI data retention"],
    "linkedin": ["Data for Generative AI Improvement", "Use my data for training content creation AI models"],
    "microsoft-copilot": ["Model training on text", "Model training on voice", "Privacy"],
    "grok": ["Privacy and safety", "Grok", "to be used for training and fine-tuning"],
    "meta-ai": ["the right to object"],
}

# Meta AI has no switch outside the EU and the UK: there the steps say so plainly instead.
NO_SWITCH = {"us": "We found no switch or form to object in the US", "elsewhere": "We found no confirmed way to object"}


def expected_in_steps(pack: str, answers: dict[str, str]) -> list[str]:
    """What a pack's steps must show for these answers: the vendor's labels, or that no switch exists."""
    if pack == "meta-ai" and answers.get("region") in NO_SWITCH:
        return [NO_SWITCH[answers["region"]]]
    if pack == "chatgpt" and answers.get("plan") == "signedout":
        return ["Settings", "Improve the model for everyone"]  # signed out, there is no Data Controls
    return LABELS[pack]


@cache
def sheet() -> dict[str, str]:
    return read_sheet([SHEET])


@cache
def pack(name: str) -> Guide:
    return load_guide(CONTENT / f"{name}.yaml")


@cache
def comments(name: str) -> dict[str, tuple[str, ...] | None]:
    found = read_fact_comments((CONTENT / f"{name}.yaml").read_text(encoding="utf-8"))
    assert not found.problems, found.problems
    return found.by_block


def blocks(name: str):
    for node in pack(name).nodes:
        for block in node.blocks:
            yield node, block


def test_the_repo_copy_of_the_assistants_sheet_is_current() -> None:
    if not SHARED_SHEET.exists():
        pytest.skip(f"no shared fact sheet beside the checkout ({SHARED_SHEET}) to compare with")
    assert SHEET.read_text(encoding="utf-8") == SHARED_SHEET.read_text(encoding="utf-8"), (
        f"the fact sheet changed: copy {SHARED_SHEET} to {SHEET} and review the packs against it"
    )


def test_every_pack_file_is_listed_here_and_passes_the_content_check() -> None:
    shipped = {p.stem for p in pack_files(CONTENT)}
    assert shipped == {"claude", *PACKS}, "a new pack needs a row in PACKS (its facts and labels)"
    for path in pack_files(CONTENT):
        report = check_pack(path, TODAY)
        assert report.problems == [], report.problems
        assert report.warnings == [], report.warnings
        assert report.guide.pack == path.stem


@pytest.mark.parametrize("name", list(PACKS))
def test_blocks_cite_facts_of_their_own_assistant_and_sources_that_back_them(name: str) -> None:
    prefix, table = PACKS[name]
    source_ids = {s.id for s in pack(name).sources}
    for node, block in blocks(name):
        where = f"{name}: {node.id}/{block.id}"
        facts = comments(name)[block.id]
        if facts is None:
            assert not block.sources, f"{where}: says '# facts: none' but cites sources"
            assert not re.search(r"\d|years?|days?|months?|hours?|default", block.text), (
                f"{where} looks factual: give it fact ids and sources"
            )
            continue
        assert set(block.sources) <= source_ids
        for fact in facts:
            assert fact.startswith(prefix), f"{where}: {fact} is not a fact about this assistant"
            assert fact in sheet(), f"{where}: {fact} is not in the sheet"
            assert fact in table, f"{where}: add {fact} to PACKS[{name!r}]"
            assert table[fact] & set(block.sources), (
                f"{where}: {fact} needs one of {sorted(table[fact])}, cites {list(block.sources)}"
            )


@pytest.mark.parametrize("name", list(PACKS))
def test_sources_are_all_used_and_dated(name: str) -> None:
    g = pack(name)
    used = {s for _, b in blocks(name) for s in b.sources}
    assert {s.id for s in g.sources} == used, "a source listed but never cited"
    for source in g.sources:
        assert source.url.startswith("https://") and source.title.strip(), source.id
        # The sheet's pages were read as stored copies in November 2026.
        assert date(2026, 11, 1) <= source.seen <= TODAY, source.id
    assert g.checked == max(s.seen for s in g.sources)


@pytest.mark.parametrize("name", list(PACKS))
def test_hedged_facts_are_hedged(name: str) -> None:
    """Every block stating a (secondary), (uncertain) or [mirror] fact says so in its own words."""
    for node, block in blocks(name):
        facts = comments(name)[block.id] or ()
        marked = [f for f in facts if re.search(r"\(secondary|\(uncertain\)|\[mirror", sheet()[f])]
        # A fact line marks only part of itself: a block needs the hedge when every fact it states
        # rests on a marked source, i.e. when all the sources it cites are second-hand or mirrors.
        vendor_only = any(s in _vendor_sources(name) for s in block.sources)
        if marked and not vendor_only:
            assert HEDGES.search(block.text), f"{name}: {node.id}/{block.id} states {marked} without a hedge"


def _vendor_sources(name: str) -> set[str]:
    """Sources read directly on the vendor's own pages (the sheet's unmarked ones)."""
    return {
        "chatgpt": {"data-controls", "temporary-chat", "opt-out-older", "chat-retention", "enterprise-privacy"},
        "gemini": {"gemini-activity", "workspace-privacy", "workspace-training"},
        "github-copilot": {"gh-individual-policies", "gh-training-policy"},
        "le-chat": {"mistral-help", "mistral-docs"},
        "perplexity": {"px-faq"},
    }.get(name, set())


@pytest.mark.parametrize("name", ["grok", "meta-ai", "microsoft-copilot"])
def test_second_hand_packs_say_so_at_the_start(name: str) -> None:
    start = pack(name).node(pack(name).start)
    text = " ".join(b.text for b in start.blocks)
    assert HEDGES.search(text)


def test_what_the_sheet_leaves_unconfirmed_is_left_out() -> None:
    everything = {name: " ".join(b.text for _, b in blocks(name)) for name in PACKS}
    assert "36 hours" not in everything["gemini"]  # conductatlas.com, against every other source
    assert "Canada" not in everything["linkedin"] and "Hong Kong" not in everything["linkedin"]
    assert "Privacy Portal" not in everything["chatgpt"]  # CG4: second-hand, portal not read
    # Meta: whether an objection covers Meta AI chats is unconfirmed.
    assert not re.search(r"object\w*[^.]*Meta AI chats|Meta AI chats[^.]*object", everything["meta-ai"])
    # Gemini's default is not seen on a Google page.
    assert "by default" not in everything["gemini"].replace("18 months by default", "")


@pytest.mark.parametrize("name", list(PACKS))
def test_the_steps_show_the_vendors_labels(name: str) -> None:
    result = pack(name).node("result")
    text = " ".join(b.text for b in result.blocks)
    for label in LABELS[name]:
        assert label in text, f"{name}: the result lacks the vendor's label {label!r}"
    for label in LABELS[name]:
        assert any(label in line for line in sheet().values()), f"{label!r} is not quoted in the sheet"


@pytest.mark.parametrize("name", ["claude", *PACKS])
def test_every_result_shows_when_its_facts_were_last_checked(name: str) -> None:
    g = load_guide(CONTENT / f"{name}.yaml")
    for node in g.nodes:
        if node.kind == "result" and node.id != "details" and node.id != "troubleshoot":
            assert any("{checked}" in b.text and not b.when.answers and not b.when.not_answers
                       for b in node.blocks), f"{name}: {node.id} does not say when its facts were checked"


def test_paths_of_the_packs_exist() -> None:
    assert all(Path(CONTENT / f"{name}.yaml").exists() for name in PACKS)
