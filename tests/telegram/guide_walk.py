"""The guide as a graph of button presses: the paths to every result, and what each step should show."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from adapters.telegram.render import TelegramRenderer
from bot import share, texts
from bot.content_check import guide_paths
from bot.engine import node_text
from bot.guide import Guide, InfoNode, QuestionNode, ResultNode, load_guide
from tests.fakes.telegram_api import parse_html

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "content" / "claude.yaml"


def guide_under_test() -> tuple[Path, Guide]:
    """The shipped guide (its own tests check that it passes the content check)."""
    return SHIPPED, load_guide(SHIPPED)


@dataclass(frozen=True)
class Step:
    node: str
    label: str  # the button pressed at this node


@dataclass
class Path_:
    steps: tuple[Step, ...]
    result: str
    answers: dict[str, str] = field(default_factory=dict)


def all_paths(guide: Guide) -> list[Path_]:
    """Every simple path (no node twice) from the start to a result node, as button labels."""

    def label(node_id: str, option_id: str) -> str:
        node = guide.node(node_id)
        if isinstance(node, InfoNode):
            return node.continue_label
        return next(o.label for o in node.options if o.id == option_id)

    return [
        Path_(tuple(Step(n, label(n, o)) for n, o in p.presses), p.result, p.answers) for p in guide_paths(guide)
    ]


def covering_paths(guide: Guide, now: datetime) -> list[Path_]:
    """A few paths that together press every button of the graph and reach every distinct result text.

    Results differ only by the answers that their text depends on; walking all simple paths of a
    large guide would repeat the same screens thousands of times.
    """
    paths = all_paths(guide)
    goals: dict[int, set[object]] = {}
    for i, path in enumerate(paths):
        goals[i] = {("edge", s.node, s.label) for s in path.steps} | {
            ("result", path.result, visible_text(guide, path.result, path.answers, now))
        }
    wanted = set().union(*goals.values()) if goals else set()
    chosen: list[Path_] = []
    while wanted:
        best = max(goals, key=lambda i: (len(goals[i] & wanted), -len(paths[i].steps)))
        chosen.append(paths[best])
        wanted -= goals.pop(best)
    return chosen


def visible_text(guide: Guide, node_id: str, answers: dict[str, str], now: datetime) -> str:
    """The node's text as a Telegram user sees it (rendered to HTML, then parsed as Telegram does)."""
    return parse_html(TelegramRenderer().render(node_text(guide, guide.node(node_id), answers, now)))[0]


def expected_labels(guide: Guide, node_id: str, has_history: bool, answers: dict[str, str] | None = None) -> list[str]:
    """The buttons the node shows: its options that the answers allow (e.g. "✅ It's still off"), then navigation."""
    node = guide.node(node_id)
    if isinstance(node, InfoNode):
        labels = [node.continue_label]
    else:
        labels = [o.label for o in node.options if o.when.allows(answers or {})]
    if isinstance(node, ResultNode):
        actions = {o.action for o in node.options}
        # The shipped deadlines have passed: no "Remind me" beyond the guide's own.
        if "sources" not in actions:
            labels.append(texts.SOURCES)  # every result and details screen lists its sources
        labels.append(texts.FOLLOW_CHANGES)  # `optout-bot run` has reminders, so every result offers alerts
        labels.append(share.SHARE)  # and a way to pass the guide on
    if has_history:
        labels.append(texts.BACK)
    if node_id != guide.start:
        labels.append(texts.START_OVER)
    return labels


def next_node(guide: Guide, step: Step) -> str:
    node = guide.node(step.node)
    if isinstance(node, InfoNode):
        return node.next
    assert isinstance(node, QuestionNode | ResultNode)
    option = next(o for o in node.options if o.label == step.label)
    assert option.next is not None
    return option.next


def record_of(guide: Guide, step: Step) -> dict[str, str]:
    node = guide.node(step.node)
    return next((dict(o.record) for o in getattr(node, "options", ()) if o.label == step.label), {})
