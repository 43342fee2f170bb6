"""The Claude guide (content/claude.yaml) as a conversation: every route, at three points in time.

The walker below follows every button from the start and from every deep-link entry, recording the
answers the options store, and yields each (node, answers) state a user can reach. Cycles (for
example "Not sure" -> explainer -> the same question again) are cut by remembering visited states.
Every text assertion then runs for every reachable state at three clock instants:

- 2025-09-20: before both deadlines
- 2025-10-01: after the first (28 September 2025), before the extended one (8 October 2025)
- 2026-11-22: after both (the present day for this guide)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import pytest

from bot.content_check import check_guide
from bot.engine import node_text, visible
from bot.guide import Guide, InfoNode, QuestionNode, ResultNode, load_guide

BEFORE = datetime(2025, 9, 20, 12, 0, tzinfo=UTC)
BETWEEN = datetime(2025, 10, 1, 12, 0, tzinfo=UTC)
AFTER = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
INSTANTS = {"before": BEFORE, "between": BETWEEN, "after": AFTER}

SETTINGS_URL = "https://claude.ai/settings/data-privacy-controls"
COMMERCIAL_PLANS = {"work", "edu", "gov", "api"}
CONSUMER_PLANS = {"free", "pro", "max", "personal"}


@dataclass(frozen=True)
class State:
    node: str
    answers: dict[str, str]
    trail: tuple[str, ...]  # the button labels pressed to get here, for failure messages

    def __str__(self) -> str:
        return f"{self.node} via {' > '.join(self.trail) or '(entry)'} answers={self.answers}"


@cache
def guide() -> Guide:
    return load_guide()


def walk(g: Guide, root: str) -> list[State]:
    """Every state reachable from ``root``: follow option.next and info.next, accumulating ``record``.

    Result nodes are not a dead end here: their options with ``next`` (e.g. "I couldn't find it")
    are followed too. A state seen before is not expanded again, which also guards every cycle.
    """
    seen: dict[tuple[str, frozenset[tuple[str, str]]], State] = {}
    stack: list[tuple[str, dict[str, str], tuple[str, ...]]] = [(root, {}, ())]
    while stack:
        node_id, answers, trail = stack.pop()
        key = (node_id, frozenset(answers.items()))
        if key in seen:
            continue
        seen[key] = State(node_id, dict(answers), trail)
        node = g.node(node_id)
        if isinstance(node, InfoNode):
            stack.append((node.next, answers, (*trail, node.continue_label)))
            continue
        for option in node.options:
            if option.next is not None:
                stack.append((option.next, {**answers, **option.record}, (*trail, option.label)))
    return list(seen.values())


@cache
def all_states() -> tuple[State, ...]:
    g = guide()
    found: dict[tuple[str, frozenset[tuple[str, str]]], State] = {}
    for root in (g.start, *g.entries.values()):
        for state in walk(g, root):
            found.setdefault((state.node, frozenset(state.answers.items())), state)
    return tuple(found.values())


def results() -> list[State]:
    return [s for s in all_states() if isinstance(guide().node(s.node), ResultNode)]


def text(state: State, now: datetime) -> str:
    g = guide()
    return node_text(g, g.node(state.node), state.answers, now)


def from_start(pred) -> list[State]:
    """States reached from the start node (not via a deep link) that satisfy ``pred``."""
    return [s for s in walk(guide(), guide().start) if pred(s)]


# ----------------------------------------------------------------------------------------------
# Structure
# ----------------------------------------------------------------------------------------------


def test_guide_loads_and_passes_content_check():
    g = guide()
    assert re.fullmatch(r"\d{4}\.\d{1,2}\.\d+", g.version), "version looks like 2026.11.1"
    assert check_guide(g) == []


def test_walker_reaches_every_node_and_a_fair_number_of_routes():
    g = guide()
    reached = {s.node for s in all_states()}
    assert reached == {n.id for n in g.nodes}
    # The consumer route alone is 3 plans x 3 Claude Code answers x ... ; a collapse means a broken link.
    assert len(results()) > 100


def test_entry_points():
    g = guide()
    assert {"decide", "steps", "changed", "troubleshoot"} <= set(g.entries)
    assert isinstance(g.node(g.entries["decide"]), QuestionNode)
    assert isinstance(g.node(g.entries["steps"]), ResultNode)
    assert isinstance(g.node(g.entries["changed"]), InfoNode)
    assert isinstance(g.node(g.entries["troubleshoot"]), ResultNode)

    start = g.node(g.start)
    assert isinstance(start, QuestionNode)
    assert "What would you like to do?" in node_text(g, start, {}, AFTER)
    by_label = {o.label: o for o in start.options}
    assert any("Help me decide" in label and o.next == g.entries["decide"] for label, o in by_label.items())
    assert any(
        "Just show me the steps" in label and o.next == g.entries["steps"] for label, o in by_label.items()
    )
    assert any("What changed?" in label and o.next == g.entries["changed"] for label, o in by_label.items())
    assert any("Sources" in label and o.action == "sources" for label, o in by_label.items())
    changed = g.node(g.entries["changed"])
    assert isinstance(changed, InfoNode) and changed.next == g.entries["decide"], (
        "the explainer leads into the flow"
    )


def test_buttons_fit():
    g = guide()
    for node in g.nodes:
        labels = [node.continue_label] if isinstance(node, InfoNode) else [o.label for o in node.options]
        for label in labels:
            assert 0 < len(label) <= 64, (node.id, label)
            # The engine adds these itself on every node but the start.
            assert "Back" not in label and "Start over" not in label, (node.id, label)
        for option in getattr(node, "options", ()):
            assert len(f"o:999:{option.id}".encode()) <= 64, (node.id, option.id)


def test_questions_record_the_expected_answers():
    g = guide()
    plan = g.node(g.entries["decide"])
    assert isinstance(plan, QuestionNode)
    recorded = {o.record.get("plan") for o in plan.options}
    assert {"free", "pro", "max", "work", "edu", "gov", "api", "unsure"} <= recorded
    keys = {k for n in g.nodes for o in getattr(n, "options", ()) for k in o.record}
    assert {"plan", "code", "popup", "resumed", "sensitive", "personal"} <= keys
    # Every route to the personal result either answered the questions or took "Just show me the steps".
    for state in from_start(lambda s: s.node == "result"):
        if not state.answers:
            assert "Just show me the steps" in state.trail[-1], str(state)
            continue
        assert {"plan", "code", "popup", "sensitive"} <= set(state.answers), str(state)
        assert state.answers["plan"] in CONSUMER_PLANS, str(state)


def test_result_options():
    g = guide()
    result = g.node(g.entries["steps"])
    assert isinstance(result, ResultNode)
    actions = {o.action for o in result.options}
    assert {"confirm_off", "remind"} <= actions
    assert any(o.next == g.entries["troubleshoot"] and "couldn't find" in o.label for o in result.options)
    # Texts that name a button ("tap **✅ ...**") name one that exists on that node.
    for node in g.nodes:
        labels = {o.label for o in getattr(node, "options", ())}
        for block in node.blocks:
            for named in re.findall(r"[Tt]ap \*\*(.+?)\*\*", block.text):
                assert named in labels, f"{node.id}/{block.id} names a button {named!r} that is not there"


def test_resumed_question_only_for_people_whose_setting_may_be_on():
    asked = [s for s in all_states() if s.node == "resumed"]
    assert asked
    assert {s.answers.get("popup") for s in asked} == {"accepted", "unsure"}


def test_every_state_renders_at_every_instant():
    for state in all_states():
        for name, now in INSTANTS.items():
            t = text(state, now)
            assert t.strip(), f"{state} shows no text {name}"
            assert "{" not in t and "}" not in t, f"{state}: placeholder left unfilled {name}"
            # Telegram allows 4096 characters; leave room for the platform's own markup.
            assert len(t) <= 3500, f"{state}: {len(t)} characters {name}"


# ----------------------------------------------------------------------------------------------
# The steps are always there
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("when", list(INSTANTS))
def test_every_result_contains_the_settings_steps(when):
    for state in results():
        t = text(state, INSTANTS[when])
        where = f"{state} ({when})"
        assert SETTINGS_URL in t, where
        assert "Settings" in t and "Privacy" in t, where
        assert "Help improve Claude" in t, where
        # F9 (uncertain): the label may have been renamed; say so with a hedge.
        assert re.search(r"may read[^.]*Help improve our AI models", t), where
        if state.node == "result":
            assert "mobile app" in t and "without the drop-down" in t, where
            assert re.search(r"^1\. .*\n2\. .*\n3\. ", t, re.M), f"{where}: the steps are a numbered list"


# ----------------------------------------------------------------------------------------------
# Honesty: nothing the sources do not support
# ----------------------------------------------------------------------------------------------

PROMISES = [
    r"will be deleted",
    r"removed from (the )?training",
    r"guarantee",
    r"(?<!cannot )(?<!can't )(?<!not )\bundo",
    r"(?<!cannot )(?<!can't )be taken back",
    r"(un|re)-?train",
    r"erased? (it )?from (the )?models?",
    r"never (be )?used",
    r"100 ?%",
    r"completely (private|safe|secure)",
    r"(?i:urgent|act now|hurry)",
    r"!!",
]


def test_no_unsupported_promises_or_alarm():
    for state in all_states():
        for name, now in INSTANTS.items():
            t = text(state, now)
            for pattern in PROMISES:
                assert not re.search(pattern, t), f"{state} ({name}) matches {pattern!r}"


def test_honest_limit_shown_where_the_setting_may_have_been_on():
    for state in results():
        if state.node != "result":
            continue
        t = text(state, AFTER)
        may_have_been_on = state.answers.get("popup") not in ("off", "notyet")
        limit = "cannot be taken back" in t and "already trained" in t
        assert limit == may_have_been_on, str(state)


def test_hedges_for_secondary_and_uncertain_facts():
    for state in all_states():
        for sentence in re.split(r"(?<=[.!?])\s+", text(state, AFTER)):
            if "by default" in sentence:
                assert "reportedly" in sentence, f"{state}: F8 default is secondary: {sentence!r}"
            if "Help improve our AI models" in sentence:
                assert re.search(r"\bmay\b", sentence), f"{state}: F9 label is uncertain: {sentence!r}"


# ----------------------------------------------------------------------------------------------
# Dates
# ----------------------------------------------------------------------------------------------

TIME_LEFT = re.compile(r"\b\d+ (day|hour|minute)s? left\b|less than a minute|no time\b")
FUTURE_DEADLINE = re.compile(
    r"you have until|until \**\d{1,2} (September|October)|by \**\d{1,2} (September|October)|"
    r"you have \d+|Not now|days? left|will take effect",
    re.I,
)


def test_deadline_dates_come_from_placeholders():
    """Deadline dates are data: written by hand, they would not follow a change of the deadline."""
    g = guide()
    for node in g.nodes:
        for block in node.blocks:
            for d in g.deadlines:
                for spelled in (f"{d.at.day} {d.at:%B}", f"{d.at:%B} {d.at.day}"):
                    assert spelled not in block.text, f"{node.id}/{block.id}: use {{deadline.{d.id}.date}}"
            if "{deadline." in block.text and ".left}" in block.text:
                assert block.when.before, f"{node.id}/{block.id}: time left only while a deadline is ahead"


def test_after_the_deadline_nothing_reads_as_still_ahead():
    for state in all_states():
        t = text(state, AFTER)
        assert not TIME_LEFT.search(t), f"{state}: {TIME_LEFT.search(t)}"
        assert not FUTURE_DEADLINE.search(t), f"{state}: {FUTURE_DEADLINE.search(t)}"


def test_after_the_deadline_says_it_passed_and_can_still_be_changed():
    g = guide()
    start = node_text(g, g.node(g.start), {}, AFTER)
    assert "passed on 8 October 2025" in start
    assert "to keep using Claude" in start  # F4
    assert "any time" in start
    for state in results():
        if state.node == "result":
            t = text(state, AFTER)
            assert "passed on 8 October 2025" in t, str(state)
            assert "any time" in t, str(state)


def test_before_both_deadlines_says_how_long_is_left():
    g = guide()
    start = node_text(g, g.node(g.start), {}, BEFORE)
    assert "18 days left" in start  # 20 Sep 12:00 UTC -> 8 Oct 23:59 PDT
    assert "8 October 2025" in start and "28 September 2025" in start and "extended" in start
    for state in results():
        t = text(state, BEFORE)
        assert "passed" not in t, str(state)
        if state.node == "result":
            assert "18 days left" in t, str(state)


def test_between_the_deadlines_says_the_first_passed_but_was_extended():
    g = guide()
    start = node_text(g, g.node(g.start), {}, BETWEEN)
    assert "28 September 2025, has passed" in start and "extended" in start
    assert "7 days left" in start
    for state in all_states():
        t = text(state, BETWEEN)
        assert not re.search(r"(until|by) \**28 September", t), str(state)
        assert "passed on 8 October" not in t, str(state)
        if state.node == "result":
            assert "has passed, but it was extended" in t and "7 days left" in t, str(state)


@pytest.mark.parametrize(
    ("now", "ahead"),
    [
        (datetime.fromisoformat("2025-10-08T23:00:00-07:00"), True),
        (datetime.fromisoformat("2025-10-09T00:00:00-07:00"), False),
        (datetime.fromisoformat("2025-09-28T23:58:00-07:00"), True),
    ],
)
def test_deadline_boundary(now, ahead):
    g = guide()
    start = node_text(g, g.node(g.start), {}, now)
    assert ("left" in start) == ahead
    assert ("passed on 8 October 2025" in start) == (not ahead)


def test_notyet_route_adapts_to_the_date():
    state = next(s for s in results() if s.node == "result" and s.answers.get("popup") == "notyet")
    assert "Not now" in text(state, BETWEEN)
    late = text(state, AFTER)
    assert "Not now" not in late and "to keep using Claude" in late


# ----------------------------------------------------------------------------------------------
# Blocks appear exactly when they apply
# ----------------------------------------------------------------------------------------------


def _personal_results() -> list[State]:
    return [s for s in results() if s.node == "result"]


@pytest.mark.parametrize("when", list(INSTANTS))
def test_conditional_blocks(when):
    now = INSTANTS[when]
    for state in _personal_results():
        t = text(state, now)
        a = state.answers
        where = f"{state} ({when})"
        # Claude Code (F17-F19); telemetry switches do not change training (F18).
        assert ("DISABLE_TELEMETRY" in t) == (a.get("code") == "yes"), where
        assert ("About Claude Code" in t) == (a.get("code") == "yes"), where
        if a.get("code") == "yes":
            assert "do **not** change model training" in t and "no separate switch" in t, where
            assert "/feedback" in t and "5 years" in t and "per-project" in t, where
        # Resumed chats (F10)
        assert ("old chats you continued" in t) == (a.get("resumed") == "yes"), where
        assert ("Not sure about old chats?" in t) == (a.get("resumed") == "unsure"), where
        assert ("Good news about older chats" in t) == (a.get("resumed") == "no"), where
        # Advice for sensitive work (F20), labelled as advice
        assert ("Our advice" in t) == (a.get("sensitive") == "yes"), where
        if a.get("sensitive") == "yes":
            assert "an opinion, not a rule" in t, where
        # Deleting chats (F13): only useful if the setting may have been on.
        assert ("Want a chat gone?" in t) == (a.get("popup") not in ("off", "notyet")), where
        # Always: retention (F11), what is used even when off (F14), Incognito (F15).
        assert "up to 5 years" in t and "up to 30 days" in t, where
        assert "Even with the setting off" in t and "safety" in t and "feedback" in t, where
        assert "Incognito chats are not used" in t, where
        # A personal account next to a work one (F6)
        assert ("your **personal** account" in t) == (a.get("personal") == "yes"), where
        # A consumer result never tells people there is nothing to do.
        assert "nothing you need to do" not in t, where


def test_exactly_one_opening_per_popup_answer():
    openings = {
        "accepted": "probably on",
        "unsure": "may well be **on**",
        "off": "You switched it off",
        "new": "when you signed up",
        "notyet": "When the pop-up appears",
        None: "Here's how to switch off",
    }
    for state in _personal_results():
        t = text(state, AFTER)
        shown = [key for key, phrase in openings.items() if phrase in t]
        assert shown == [state.answers.get("popup")], f"{state}: {shown}"
        if state.answers.get("popup") in ("accepted", "unsure"):
            assert "reportedly" in t, str(state)


def test_troubleshooting():
    g = guide()
    for state in [s for s in all_states() if s.node == g.entries["troubleshoot"]]:
        t = text(state, AFTER)
        assert "mobile app" in t and "browser" in t, str(state)
        assert ("For Claude Code" in t) == (state.answers.get("code") == "yes"), str(state)
    node = g.node(g.entries["troubleshoot"])
    assert any(o.action == "confirm_off" for o in node.options)


# ----------------------------------------------------------------------------------------------
# Commercial plans (F6)
# ----------------------------------------------------------------------------------------------


def test_commercial_plans_are_told_they_are_not_covered():
    asked = [s for s in all_states() if s.node == "biz"]
    assert {s.answers.get("plan") for s in asked} == COMMERCIAL_PLANS
    expected = {
        "work": "Team and Enterprise",
        "edu": "Claude for Education",
        "gov": "Claude for Government",
        "api": "Vertex AI",
    }
    for state in asked:
        t = text(state, AFTER)
        assert "not covered" in t, str(state)
        assert expected[state.answers["plan"]] in t, str(state)
        assert "personal" in t, str(state)


def test_commercial_only_route_ends_with_nothing_to_do_and_the_steps():
    ends = from_start(lambda s: s.node == "work_result")
    assert {s.answers["plan"] for s in ends} == COMMERCIAL_PLANS
    for state in ends:
        assert state.answers["personal"] == "no"
        t = text(state, AFTER)
        assert "nothing you need to do" in t and "not covered" in t, str(state)
        assert "If you ever use a personal" in t, str(state)
    # ... and with a personal account too, the route continues to the personal result.
    both = from_start(lambda s: s.node == "result" and s.answers.get("personal") == "yes")
    assert both and all(s.answers["plan"] in CONSUMER_PLANS for s in both)


def test_not_sure_about_the_plan_explains_and_asks_again():
    g = guide()
    plan = g.node(g.entries["decide"])
    unsure = next(o for o in plan.options if o.record.get("plan") == "unsure")
    info = g.node(unsure.next)
    assert isinstance(info, InfoNode) and info.next == plan.id
    t = node_text(g, info, {"plan": "unsure"}, AFTER)
    assert "Personal" in t and "organisation" in t


# ----------------------------------------------------------------------------------------------
# Markdown subset and tone
# ----------------------------------------------------------------------------------------------


def test_texts_use_only_the_markdown_subset():
    g = guide()
    for node in g.nodes:
        for block in node.blocks:
            t = block.text
            where = f"{node.id}/{block.id}"
            assert "`" not in t and "<" not in t and "__" not in t, where
            assert not re.search(r"^\s*#", t, re.M), f"{where}: no headings"
            assert "*" not in re.sub(r"\*\*[^*\n]+?\*\*", "", t), f"{where}: stray or unpaired *"
            for url in re.findall(r"\]\(([^)]*)\)", t):
                assert url.startswith("https://"), f"{where}: {url}"
            # Short paragraphs and list items: no wall of text.
            for paragraph in re.split(r"\n\s*\n", t):
                lines = paragraph.splitlines()
                if any(re.match(r"\s*(- |\d+\. )", line) for line in lines):
                    for line in lines:
                        assert len(line) <= 250, f"{where}: list item of {len(line)} characters"
                else:
                    assert len(paragraph) <= 450, f"{where}: paragraph of {len(paragraph)} characters"


def test_visible_helper_agrees_with_rendering():
    """A sanity check of the helpers this file relies on: a block is in the text iff visible()."""
    g = guide()
    node = g.node("result")
    answers = {"plan": "pro", "code": "yes", "popup": "accepted", "resumed": "yes", "sensitive": "no"}
    t = node_text(g, node, answers, AFTER)
    code_block = next(b for b in node.blocks if b.id == "r_code")
    assert visible(code_block.when, answers, g, AFTER)
    assert code_block.text.strip().splitlines()[0] in t
