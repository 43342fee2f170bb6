"""``optout-bot content check`` and ``content diagram``: the guide as a graph, validated and drawn."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from bot import button_data, share
from bot.button_data import BUTTON_DATA_MAX
from bot.content_facts import check_facts, fact_sheets, pack_warnings, read_sheet
from bot.guide import (
    CHECKED,
    Guide,
    InfoNode,
    QuestionNode,
    ResultNode,
    When,
    load_guide,
    placeholders,
    text_hash,
    translatable_texts,
    translated_texts,
    translation_path,
)
from bot.i18n import ENGLISH, LANGUAGES

LABEL_MAX = 64
# A generous step counter: the longest button data the engine builds for an option. Each adapter
# fits BUTTON_DATA_MAX into its platform (Telegram's 64 bytes; Discord's custom id, with its prefix).
_WORST_STEP = 9_999_999


def _edges(node: QuestionNode | InfoNode | ResultNode) -> list[str]:
    if isinstance(node, InfoNode):
        return [node.next]
    return [o.next for o in node.options if o.next is not None]


def check_guide(guide: Guide, path: Path | str = "guide") -> list[str]:
    """Return one line per problem (``file: node id: problem``); an empty list means the guide is sound."""
    problems: list[str] = []

    def problem(where: str, what: str) -> None:
        problems.append(f"{path}: {where}: {what}")

    for kind, ids in (
        ("node", [n.id for n in guide.nodes]),
        ("source", [s.id for s in guide.sources]),
        ("deadline", [d.id for d in guide.deadlines]),
    ):
        for dup, n in Counter(ids).items():
            if n > 1:
                problem(dup, f"duplicate {kind} id ({n} times)")

    nodes = {n.id: n for n in guide.nodes}
    source_ids = {s.id for s in guide.sources}
    deadline_ids = {d.id for d in guide.deadlines}

    if guide.start not in nodes:
        problem("start", f"unknown target {guide.start!r}")
    for entry, target in guide.entries.items():
        if target not in nodes:
            problem(f"entries.{entry}", f"unknown target {target!r}")
        if len(button_data.entry(entry, guide.pack).encode()) > BUTTON_DATA_MAX:
            problem(f"entries.{entry}", "entry name too long for button data")

    for node in guide.nodes:
        for dup, n in Counter(b.id for b in node.blocks).items():
            if n > 1:
                problem(node.id, f"duplicate block id {dup!r}")
        for block in node.blocks:
            for source in block.sources:
                if source not in source_ids:
                    problem(node.id, f"block {block.id!r} cites unknown source id {source!r}")
            for deadline in (block.when.before, block.when.after):
                if deadline is not None and deadline not in deadline_ids:
                    problem(node.id, f"block {block.id!r} names unknown deadline {deadline!r}")
            for deadline, _ in placeholders(block.text):
                if deadline not in deadline_ids:
                    problem(node.id, f"block {block.id!r} names unknown deadline {deadline!r}")
        if isinstance(node, InfoNode):
            labels = [node.continue_label]
        else:
            labels = [o.label for o in node.options]
            for dup, n in Counter(o.id for o in node.options).items():
                if n > 1:
                    problem(node.id, f"duplicate option id {dup!r}")
            if isinstance(node, QuestionNode) and all(_conditional(o.when) for o in node.options):
                problem(node.id, "every option has a 'when': some users could be left without a button")
            for option in node.options:
                for deadline in (option.when.before, option.when.after):
                    if deadline is not None and deadline not in deadline_ids:
                        problem(node.id, f"option {option.id!r} names unknown deadline {deadline!r}")
                data = button_data.option(_WORST_STEP, option.id, guide.pack)
                if len(data.encode()) > BUTTON_DATA_MAX:
                    problem(node.id, f"option {option.id!r}: button data {data!r} exceeds {BUTTON_DATA_MAX} bytes")
        for label in labels:
            if len(label) > LABEL_MAX:
                problem(node.id, f"button label over {LABEL_MAX} characters: {label[:30]!r}...")
            if not label.strip():
                problem(node.id, "empty button label")
        for target in _edges(node):
            if target not in nodes:
                problem(node.id, f"unknown target {target!r}")

    if guide.changes is not None:
        for source in guide.changes.sources:
            if source not in source_ids:
                problem("changes", f"cites unknown source id {source!r}")

    roots = [guide.start, *guide.entries.values()]
    reachable = _reach(roots, nodes)
    for node in guide.nodes:
        if node.id not in reachable:
            problem(node.id, "unreachable node (no path from the start or an entry point)")

    # Nodes from which some result can be reached; a reachable node outside this set strands the user.
    finishing = {n.id for n in guide.nodes if isinstance(n, ResultNode)}
    changed = True
    while changed:
        changed = False
        for node in guide.nodes:
            if node.id not in finishing and any(t in finishing for t in _edges(node)):
                finishing.add(node.id)
                changed = True
    for node in guide.nodes:
        if node.id in reachable and node.id not in finishing:
            if node.id in _reach(_edges(node), nodes):
                problem(node.id, "cycle with no way out (no result can be reached from it)")
            else:
                problem(node.id, "path never reaches a result")
    for field, entry in (("steps_entry", guide.steps_entry), ("troubleshoot_entry", guide.troubleshoot_entry)):
        if entry is not None and entry not in guide.entries:
            problem(field, f"names {entry!r}, which is not one of the guide's entries")
    # What passes the pack on (bot/share.py): its deep link must be one Telegram accepts, and the share
    # texts must speak every language the pack does.
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", share.payload(guide.pack)):
        problem("pack", f"too long for a shared deep link ({share.payload(guide.pack)!r} exceeds 64 characters)")
    problems += [f"{path}: share: no translation of {line}" for line in share.untranslated(guide)]
    for source in guide.sources:
        if source.kind is None:
            problem(f"sources.{source.id}", "say 'kind: vendor' (the vendor's own page, or a mirror of it) or 'kind: press'")
        if _site_root(source.url):
            problem(f"sources.{source.id}", f"{source.url} is a site's root, not the page read: give the article's address")
    problems += [f"{path}: {p}" for p in check_freshness(guide)]
    return problems + check_translations(guide, path)


# The two honest ways to say how fresh a node's facts are (see check_freshness).
STEPS_CHECKED = "Steps checked " + CHECKED
PRESS_REVIEWED = "Last reviewed " + CHECKED + ", from press reports"


def _site_root(url: str) -> bool:
    parts = urlsplit(url)
    return parts.path.strip("/") == "" and not parts.query and not parts.fragment


def check_freshness(guide: Guide) -> list[str]:
    """How each node dates its facts must match what they rest on (``node: problem`` lines).

    "Steps checked {checked}" only where every steps block (``steps: true``) cites a vendor page that
    was read; a node whose steps, or (with no steps) whose every source, are press reports says
    "Last reviewed {checked}, from press reports".
    """
    vendor = {s.id for s in guide.sources if s.kind == "vendor"}
    problems = []
    for node in guide.nodes:
        text = "\n".join(b.text for b in node.blocks)
        if CHECKED not in text:
            continue
        steps = [b for b in node.blocks if b.steps]
        cited = {s for b in node.blocks for s in b.sources}
        if steps:
            on_vendor = all(vendor & set(b.sources) for b in steps)
        else:
            on_vendor = bool(vendor & cited) or not cited
        if STEPS_CHECKED in text and not steps:
            problems.append(f"{node.id}: says {STEPS_CHECKED!r} but shows no steps (mark them 'steps: true')")
        elif not on_vendor and PRESS_REVIEWED not in text:
            rest = "its steps rest" if steps else "its facts rest"
            problems.append(f"{node.id}: {rest} on no vendor page that was read: say {PRESS_REVIEWED!r}")
    return problems


# A markdown link's target: a translation links where the English does.
_LINK = re.compile(r"\]\((https?://[^)\s]+)\)")


def check_translations(guide: Guide, path: Path | str = "guide") -> list[str]:
    """One line per way a declared language falls short of the English guide (``file: where: problem``).

    Every block, option, continue label and deadline label English has must be translated, with the
    same ``{deadline...}`` placeholders and links, and buttons within the platforms' limits; nothing
    may be translated that English does not have.
    """
    problems: list[str] = []
    if ENGLISH not in guide.languages:
        problems.append(f"{path}: languages: must include {ENGLISH!r} (this file's own language)")
    for language in guide.languages:
        if language == ENGLISH:
            continue
        where = translation_path(Path(path), language)

        def problem(at: str, what: str, where: Path = where) -> None:
            problems.append(f"{where}: {at}: {what}")

        if language not in LANGUAGES:
            problems.append(f"{path}: languages: {language!r} is not one the bot speaks ({', '.join(LANGUAGES)})")
            continue
        tr = guide.translations.get(language)
        if tr is None:
            problems.append(f"{path}: languages: {language!r} is declared but has no translation")
            continue
        for key, reason, _ in stale_texts(guide, language):
            if reason == "changed":
                problem(key, "the English changed since this was translated: translate it again "
                             f"(optout-bot content stale {language})")
        for deadline in guide.deadlines:
            if not tr.deadlines.get(deadline.id, "").strip():
                problem(f"deadlines.{deadline.id}", "label not translated")
        for extra in set(tr.deadlines) - {d.id for d in guide.deadlines}:
            problem(f"deadlines.{extra}", "no such deadline in the English guide")
        for extra in set(tr.nodes) - {n.id for n in guide.nodes}:
            problem(extra, "no such node in the English guide")
        if guide.changes is None:
            if tr.changes:
                problem("changes", "the English guide has no changes note")
        elif not tr.changes:
            problem("changes", "the changes note is not translated (alert subscribers get it in their language)")
        elif sorted(_LINK.findall(tr.changes)) != sorted(_LINK.findall(guide.changes.text)):
            problem("changes", "links differ from English")
        for node in guide.nodes:
            nt = tr.nodes.get(node.id)
            if nt is None:
                problem(node.id, "node not translated")
                continue
            for block in node.blocks:
                text = nt.blocks.get(block.id)
                if text is None or not text.strip():
                    problem(node.id, f"block {block.id!r} not translated")
                    continue
                if (sorted(placeholders(text)), text.count(CHECKED)) != (sorted(placeholders(block.text)), block.text.count(CHECKED)):
                    problem(node.id, f"block {block.id!r}: placeholders {_names(text)} differ from English {_names(block.text)}")
                if sorted(_LINK.findall(text)) != sorted(_LINK.findall(block.text)):
                    problem(node.id, f"block {block.id!r}: links differ from English")
            for extra in set(nt.blocks) - {b.id for b in node.blocks}:
                problem(node.id, f"block {extra!r} is not in the English guide")
            if isinstance(node, InfoNode):
                labels = {"continue_label": nt.continue_label}
            else:
                labels = {f"option {o.id!r}": nt.options.get(o.id) for o in node.options}
                for extra in set(nt.options) - {o.id for o in node.options}:
                    problem(node.id, f"option {extra!r} is not in the English guide")
            for what, label in labels.items():
                if label is None or not label.strip():
                    problem(node.id, f"{what} not translated")
                elif len(label) > LABEL_MAX:
                    problem(node.id, f"{what}: button label over {LABEL_MAX} characters: {label[:30]!r}...")
    return problems


def stale_texts(guide: Guide, language: str) -> list[tuple[str, str, str]]:
    """What a language needs translated: (key, "missing" or "changed", the English text's hash).

    "changed": the translation records (``translated_from``) a different English text than the
    current one, or records none.
    """
    tr = guide.translations.get(language)
    done = translated_texts(tr) if tr else {}
    recorded = tr.translated_from if tr else {}
    stale = []
    for key, english in translatable_texts(guide).items():
        current = text_hash(english)
        if not (done.get(key) or "").strip():
            stale.append((key, "missing", current))
        elif recorded.get(key) != current:
            stale.append((key, "changed", current))
    return stale


def _names(text: str) -> str:
    return ", ".join(f"{{deadline.{d}.{f}}}" for d, f in sorted(placeholders(text))) or "none"


def _conditional(when: When) -> bool:
    return bool(when.answers or when.not_answers or when.before or when.after)


def _reach(roots: list[str], nodes: dict[str, QuestionNode | InfoNode | ResultNode]) -> set[str]:
    seen: set[str] = set()
    todo = [r for r in roots if r in nodes]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo += [t for t in _edges(nodes[current]) if t in nodes]
    return seen


def _label(text: str, limit: int = 48) -> str:
    first = re.sub(r"[*_\[\]()#`]", "", text.strip().splitlines()[0] if text.strip() else "")
    first = first if len(first) <= limit else first[: limit - 1] + "…"
    return first.replace('"', "'")


def mermaid(guide: Guide) -> str:
    """Draw the guide as a Mermaid flowchart (questions as diamonds, results as stadiums)."""
    lines = ["flowchart TD"]
    shapes = {"question": ('{"', '"}'), "info": ('["', '"]'), "result": ('(["', '"])')}
    for node in guide.nodes:
        left, right = shapes[node.kind]
        lines.append(f"    {node.id}{left}{_label(node.blocks[0].text)}{right}")
    for node in guide.nodes:
        if isinstance(node, InfoNode):
            lines.append(f'    {node.id} -->|"{_label(node.continue_label, 30)}"| {node.next}')
            continue
        for option in node.options:
            if option.next:
                lines.append(f'    {node.id} -->|"{_label(option.label, 30)}"| {option.next}')
    for entry, target in guide.entries.items():
        lines.append(f"    entry_{entry}((/start {entry})) -.-> {target}")
    return "\n".join(lines)


@dataclass(frozen=True)
class GuidePath:
    """One way through the guide: the buttons pressed, the answers recorded, the result reached."""

    presses: tuple[tuple[str, str], ...]  # (node id, option id, or "" for an info node's Continue)
    answers: dict[str, str]
    result: str


def guide_paths(guide: Guide, start: str | None = None) -> list[GuidePath]:
    """Enumerate every cycle-free path from ``start`` (default: the guide's start) to a result."""
    nodes = {n.id: n for n in guide.nodes}
    found: list[GuidePath] = []

    def walk(node_id: str, presses: tuple[tuple[str, str], ...], answers: dict[str, str], seen: frozenset[str]) -> None:
        node = nodes[node_id]
        if isinstance(node, ResultNode):
            found.append(GuidePath(presses, answers, node_id))
            return
        if isinstance(node, InfoNode):
            steps = [("", node.next, {})]
        else:
            steps = [
                (o.id, o.next, o.record) for o in node.options if o.next is not None and o.when.allows(answers)
            ]
        for option_id, target, record in steps:
            if target in nodes and target not in seen:
                walk(target, (*presses, (node_id, option_id)), {**answers, **record}, seen | {target})

    root = start or guide.start
    walk(root, (), {}, frozenset({root}))
    return found


@dataclass(frozen=True)
class PackReport:
    guide: Guide
    problems: list[str]
    warnings: list[str]


def check_pack(path: Path, today: date) -> PackReport:
    """Check one pack file: the graph, its facts against the sheets beside it, and what is getting old.

    Raises ``GuideError`` when the file cannot be read as a guide at all.
    """
    guide = load_guide(path)
    problems = check_guide(guide, path)
    warnings = [f"{path}: {w}" for w in pack_warnings(guide, today)]
    sheets = fact_sheets(path)
    if sheets:
        text = path.read_text(encoding="utf-8")
        problems += [f"{path}: {p}" for p in check_facts(guide, text, read_sheet(sheets))]
    else:
        warnings.append(f"{path}: no fact sheet (facts*.md) beside it: its '# facts:' comments were not checked")
    return PackReport(guide, problems, warnings)


def pack_files(directory: Path) -> list[Path]:
    """The guide packs in a content directory, one YAML file each."""
    return sorted(directory.glob("*.yaml"))
