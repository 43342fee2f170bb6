"""Members walk the guide through Discord, many at once against one bot process.

By default the walks cover every option of every node (each choice pressed at least once, each
ending reached). DISCORD_E2E_ALL_PATHS=1 walks every distinct path instead: thousands for the
shipped guide, several minutes, so it is left to a nightly run.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field

import pytest

from adapters.discord.render import chosen_line
from bot import texts
from bot.content_check import pack_files
from bot.engine import node_text
from bot.guide import Guide, InfoNode, ResultNode, load_guide
from tests.content.test_pack_sources import expected_in_steps
from tests.discord.conftest import GUIDE_PATH, BotProcess
from tests.discord.expect import NOW, first_paragraph
from tests.fakes.discord_api import FakeDiscord, FakeMember

pytestmark = pytest.mark.asyncio(loop_scope="module")

PARALLEL = 40  # members walking at the same time
FULL = os.environ.get("DISCORD_E2E_ALL_PATHS") == "1"


@dataclass
class Walk:
    """One path: the labels to press, and what each press must show next."""

    labels: list[str] = field(default_factory=list)
    expect: list[str] = field(default_factory=list)  # text the step after each press starts with
    at: list[str] = field(default_factory=list)  # the node each label is pressed on


def all_walks(guide: Guide) -> list[Walk]:
    """Every path from the start to an ending: a result's action, or a loop back to a node already seen."""
    nodes = {n.id: n for n in guide.nodes}
    walks: list[Walk] = []
    action_text = {
        "confirm_off": first_paragraph(texts.THANKS_OFF),
        "sources": first_paragraph(texts.SOURCES_INTRO),
        "packs": first_paragraph(texts.OTHER_ASSISTANTS),
        "restart": first_paragraph(node_text(guide, nodes[guide.start], {}, NOW)),
        # The remind menu depends on whether the bot runs a reminder service; both are fine here.
        "remind": "",
    }

    def go(node_id: str, answers: dict[str, str], seen: frozenset[str], walk: Walk) -> None:
        node = nodes[node_id]
        if isinstance(node, InfoNode):
            options = [(node.continue_label, node.next, None, {})]
        else:
            options = [(o.label, o.next, o.action, o.record) for o in node.options if o.when.allows(answers)]
        if isinstance(node, ResultNode) and not options:
            walks.append(walk)
        for label, target, action, record in options:
            step = Walk([*walk.labels, label], list(walk.expect), [*walk.at, node_id])
            if action is not None:
                step.expect.append(action_text[action])
                walks.append(step)
                continue
            after = {**answers, **record}
            step.expect.append(first_paragraph(node_text(guide, nodes[target], after, NOW)))
            if target in seen:
                walks.append(step)
            else:
                go(target, after, seen | {target}, step)

    go(guide.start, {}, frozenset({guide.start}), Walk())
    return walks


def covering(walks: list[Walk]) -> list[Walk]:
    """Keep the walks that take some choice (an option of a node) that no walk kept before takes."""
    taken: set[tuple[str, str]] = set()
    kept = []
    for walk in sorted(walks, key=lambda w: -len(w.labels)):
        choices = set(zip(walk.at, walk.labels, strict=True))
        if not choices <= taken:
            kept.append(walk)
            taken |= choices
    return kept


async def walk_guide(member: FakeMember, walk: Walk, pack: str | None = None) -> list[str]:
    """Walk; return what each press showed (the step it led to, all its messages)."""
    shown: list[str] = []
    await member.slash("optout start", **({"assistant": pack} if pack else {}))
    message = await member.pop_message()
    assert message.ephemeral, "a member's guide is private in a server"
    for label, expected in zip(walk.labels, walk.expect, strict=True):
        pressed = member.latest_with(label)
        interaction = await member.press(label, pressed)
        edited = await member.pop_message()
        assert interaction.ack_type in (6, 7), f"a press updates its message, got response type {interaction.ack_type}"
        assert edited.id == pressed.id, "the pressed message is updated in place"
        assert edited.content.startswith(chosen_line(label)), edited.content[:200]
        assert expected in edited.content, f"after {label!r}: expected {expected[:80]!r} in {edited.content[:300]!r}"
        last = edited
        parts = [edited.content]
        while not last.labels():
            last = await member.pop_message()  # the rest of a long step, buttons on its last part
            assert not last.ephemeral or last.visible_to == member.id
            parts.append(last.content)
        shown.append("\n\n".join(parts))
    return shown


async def test_every_path_of_the_guide(fake: FakeDiscord, bot: BotProcess, guide: Guide) -> None:
    walks = all_walks(guide) if FULL else covering(all_walks(guide))
    every_choice = {(n.id, o.label) for n in guide.nodes for o in getattr(n, "options", ())}
    every_choice |= {(n.id, n.continue_label) for n in guide.nodes if isinstance(n, InfoNode)}
    reachable = {c for w in all_walks(guide) for c in zip(w.at, w.labels, strict=True)}
    assert reachable == every_choice, "every option of every node is on some path"
    assert {c for w in walks for c in zip(w.at, w.labels, strict=True)} == every_choice
    gate = asyncio.Semaphore(PARALLEL)

    async def one(number: int, walk: Walk) -> None:
        async with gate:
            await walk_guide(fake.member(5000 + number), walk)

    await asyncio.gather(*(one(i, w) for i, w in enumerate(walks)))
    assert fake.violations == []
    assert max(fake.ack_times()) < 3.0


PACKS = [load_guide(p) for p in pack_files(GUIDE_PATH.parent) if p != GUIDE_PATH]


async def test_every_path_of_every_other_pack(fake: FakeDiscord, bot: BotProcess) -> None:
    """`/optout start assistant:<pack>` opens each pack; its walks press every option and reach its steps."""
    gate = asyncio.Semaphore(PARALLEL)
    assert len(PACKS) == 9

    async def one(number: int, pack: Guide, walk: Walk) -> None:
        async with gate:
            member = fake.member(7000 + number)
            shown = await walk_guide(member, walk, pack.pack)
            if "result" in walk.at:
                steps = shown[walk.at.index("result") - 1]  # what the press that led to the steps showed
                first = next(o for o in pack.node(pack.start).options if o.label == walk.labels[0])
                for label in expected_in_steps(pack.pack, dict(first.record)):
                    assert label in steps, f"{pack.pack}: {label!r} not in the steps: {steps[:300]}"

    jobs = []
    for pack in PACKS:
        walks = covering(all_walks(pack))
        every_choice = {(n.id, o.label) for n in pack.nodes for o in getattr(n, "options", ())}
        assert {c for w in walks for c in zip(w.at, w.labels, strict=True)} == every_choice, pack.pack
        jobs += [(pack, w) for w in walks]
    await asyncio.gather(*(one(i, p, w) for i, (p, w) in enumerate(jobs)))
    assert fake.violations == []


async def test_other_assistants_lists_the_packs_and_opens_one(fake: FakeDiscord, bot: BotProcess) -> None:
    member = fake.member(7999)
    await member.slash("optout start")
    await member.pop_message()
    await member.press("🧩 Other assistants", member.latest_with("🧩 Other assistants"))
    listing = await member.pop_message()
    while not listing.labels():
        listing = await member.pop_message()
    assert listing.labels()[:-1] == [texts.CHECK_ALL, *(p.name for p in PACKS_IN_ORDER)]
    await member.press("ChatGPT", listing)
    opened = await member.pop_message()
    assert first_paragraph(node_text(CHATGPT, CHATGPT.node("start"), {}, NOW)) in opened.content


PACKS_IN_ORDER = PACKS  # the engine lists the packs in file order after the default
CHATGPT = next(p for p in PACKS if p.pack == "chatgpt")
