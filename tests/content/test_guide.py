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
from datetime import UTC, datetime, timedelta
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
COMMERCIAL_PLANS = {"org", "api"}


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
            if option.next is not None and option.when.allows(answers):
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
    """States where people act: every result node but "More details" (one Back from the steps)."""
    return [s for s in all_states() if isinstance(guide().node(s.node), ResultNode) and s.node != "details"]


def details() -> list[State]:
    return [s for s in all_states() if s.node == "details"]


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


def test_what_changed_offers_to_decide_or_go_straight_to_the_steps():
    g = guide()
    changed = g.node(g.entries["changed"])
    assert isinstance(changed, QuestionNode)
    targets = {o.label: o.next for o in changed.options}
    assert targets == {"🧭 Help me decide": g.entries["decide"], "📋 Just show me the steps": g.entries["steps"]}


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
    assert recorded == {"personal", "org", "api", "unsure"}
    keys = {k for n in g.nodes for o in getattr(n, "options", ()) for k in o.record}
    assert {"plan", "code", "popup", "resumed", "sensitive", "personal"} <= keys
    # Every route to the personal result answered the questions, or asked for the steps straight away.
    for state in from_start(lambda s: s.node == "result"):
        if "Just show me the steps" in state.trail[-1]:
            assert not state.answers, str(state)
            continue
        if "Show me the steps anyway" in state.trail[-1]:
            assert state.answers == {"plan": "unsure"}, str(state)
            continue
        assert {"plan", "code", "popup", "sensitive"} <= set(state.answers), str(state)
        assert state.answers["plan"] == "personal" or state.answers.get("personal") == "yes", str(state)


def test_the_plan_question_is_short_and_personal_plans_are_one_answer():
    g = guide()
    plan = g.node(g.entries["decide"])
    labels = [o.label for o in plan.options]
    assert len(labels) == 4, labels
    assert "🙋 Personal: Free, Pro or Max" in labels


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
        if state.node in ("result", "work_result"):
            assert "mobile app there's no drop-down" in t, where
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
        limit = "can't be taken back" in t and ("trained model" in t or "already in one" in t)
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


def popup(state: State) -> str | None:
    return state.answers.get("popup")


def test_after_the_deadline_the_opening_leads_with_what_the_bot_does():
    g = guide()
    start = node_text(g, g.node(g.start), {}, AFTER)
    assert start.startswith("Hi! I help you check one setting in Claude")
    assert "2025" not in start and "deadline" not in start, "no old date in the opening"
    assert "at any time" in start


def test_after_the_deadline_the_result_states_it_once_where_it_matters():
    for state in results():
        if state.node != "result":
            continue
        t = text(state, AFTER)
        resumed = state.answers.get("resumed") == "yes"
        if popup(state) == "accepted" or (popup(state) == "unsure" and resumed):
            # They chose (or must act on continued chats now): a passed date is no use to them (issue 20, 13).
            assert "8 October" not in t and "passed" not in t, str(state)
            assert "How to switch it off" in t, str(state)
        elif popup(state) in ("unsure", None):
            assert "The 8 October 2025 deadline has passed; you can still change this setting at any time." in t
            assert t.count("8 October 2025") == 1, str(state)
        elif popup(state) == "notyet":
            assert "Since 8 October 2025 you need to make this choice to keep using Claude" in t, str(state)  # F4
            assert t.count("8 October 2025") == 1, str(state)
        else:  # switched off, or chose at signup: the old date is of no use to them
            assert "8 October" not in t and "passed" not in t, str(state)


def test_the_countdown_goes_only_to_people_who_have_not_chosen():
    for now in (BEFORE, BETWEEN):
        for state in all_states():
            t = text(state, now)
            counts_down = state.node == "result" and popup(state) == "notyet"
            assert bool(TIME_LEFT.search(t)) == counts_down, f"{state} at {now}"
    notyet = next(s for s in results() if s.node == "result" and popup(s) == "notyet")
    # 20 September 12:00 UTC -> 8 October as first read anywhere (UTC+14): 17 whole days.
    assert "(17 days left)" in text(notyet, BEFORE)


def test_before_the_deadline_people_whose_setting_may_be_on_are_told_to_act_now():
    for state in results():
        if state.node != "result":
            continue
        t = text(state, BEFORE)
        assert "passed" not in t, str(state)
        resumed = state.answers.get("resumed") == "yes"
        if popup(state) == "accepted":
            # They pressed Accept: the deadline no longer applies to them, only the advice does.
            assert "8 October" not in t, str(state)
            assert ("covers chats from then on, so do it now" in t) != resumed, str(state)
        if popup(state) == "unsure" and not resumed:
            assert "Don't wait for 8 October 2025" in t and "only covers chats from then on" in t, str(state)
        if resumed:
            assert "Old chats you continued count as new ones: switching off keeps them out" in t, str(state)
        if popup(state) is None:
            assert "If you haven't chosen yet, you have until **8 October 2025**" in t, str(state)
        if popup(state) in ("off", "new"):
            assert "8 October" not in t, f"{state}: no deadline text for people who have chosen"


def test_before_the_deadline_the_opening_names_the_date_without_a_countdown():
    g = guide()
    for now in (BEFORE, BETWEEN):
        start = node_text(g, g.node(g.start), {}, now)
        assert "you have until **8 October 2025** (the first date given, 28 September 2025, was extended)" in start
        assert not TIME_LEFT.search(start)


def test_between_the_deadlines_nothing_points_to_the_first_date():
    for state in all_states():
        t = text(state, BETWEEN)
        assert not re.search(r"(until|by) \**28 September", t), str(state)
        assert "passed" not in t, str(state)


@pytest.mark.parametrize(
    ("now", "ahead"),
    [
        (datetime.fromisoformat("2025-10-08T23:00:00-07:00"), True),
        (datetime.fromisoformat("2025-10-09T00:00:00-07:00"), False),
        (datetime.fromisoformat("2025-09-28T23:58:00-07:00"), True),
    ],
)
def test_deadline_boundary(now, ahead):
    notyet = next(s for s in results() if s.node == "result" and popup(s) == "notyet")
    t = text(notyet, now)
    assert ("left)" in t) == ahead
    assert ("Since 8 October 2025" in t) == (not ahead)


def test_a_countdown_never_shows_hours_when_it_is_already_the_next_day_somewhere():
    """'Until 8 October' must not read "1 hour left" when it is 9 October in Europe."""
    notyet = next(s for s in results() if s.node == "result" and popup(s) == "notyet")
    europe = datetime.fromisoformat("2025-10-09T07:59:00+02:00")  # one hour before 23:59 in California
    assert europe < guide().deadline("final").at
    t = text(notyet, europe)
    assert "(less than a day left)" in t
    assert "hour" not in t
    for hours in range(0, 24 * 20):
        now = BEFORE + timedelta(hours=hours)
        if now < guide().deadline("final").at:
            left = re.search(r"\(([^()]*) left\)", text(notyet, now)).group(1)
            assert re.fullmatch(r"\d+ days?|less than a day", left), f"{now}: {left}"


def test_notyet_route_adapts_to_the_date_and_names_the_deadline_once():
    state = next(s for s in results() if s.node == "result" and popup(s) == "notyet")
    for now in (BEFORE, BETWEEN):
        t = text(state, now)
        assert "You can press “Not now” until **8 October 2025**" in t
        assert t.count("8 October") == 1 and "28 September" not in t, t
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
        # A personal account next to a work one (F6)
        assert ("your **personal** account" in t) == (a.get("personal") == "yes"), where
        # A consumer result never tells people there is nothing to do.
        assert "nothing you need to do" not in t, where
        # The rest waits behind "More details".
        assert "About Claude Code" not in t and "Our advice" not in t and "Incognito" not in t, where


@pytest.mark.parametrize("when", list(INSTANTS))
def test_details_show_each_part_where_it_applies(when):
    now = INSTANTS[when]
    assert details()
    for state in details():
        t = text(state, now)
        a = state.answers
        where = f"{state} ({when})"
        # Claude Code (F17-F19); telemetry switches do not change training (F18).
        assert ("About Claude Code" in t) == (a.get("code") == "yes"), where
        if a.get("code") == "yes":
            assert "do **not** change model training" in t and "no separate switch" in t, where
            assert "/feedback are kept for 5 years" in t and "per-project" in t, where
        # F4's Claude Code part, hedged as user reports, once the deadline has passed.
        reported = "Users have reported that after 8 October 2025, Claude Code refused requests" in t
        assert reported == (a.get("code") == "yes" and when == "after"), where
        # Resumed chats (F10)
        assert ("old chats you continued" in t) == (a.get("resumed") == "yes"), where
        assert ("Not sure about old chats?" in t) == (a.get("resumed") == "unsure"), where
        assert ("Good news about older chats" in t) == (a.get("resumed") == "no"), where
        # What switching off does and doesn't do (F12), for people whose setting may have been on.
        assert ("What switching off does" in t) == (a.get("popup") not in ("off", "notyet")), where
        # Retention (F11): where the data is kept with the setting off.
        assert "up to 5 years with the setting on; with it off, up to 30 days in Anthropic's back-end storage" in t
        # What is used even when off (F14).
        assert "Even with the setting off" in t and "safety" in t and "feedback" in t, where
        sensitive = a.get("sensitive") == "yes"
        # Advice for sensitive work (F20, F14, F13, F15), labelled as advice.
        assert ("**Our advice** (an opinion, not a rule)" in t) == sensitive, where
        if sensitive:
            off = a.get("popup") == "off"
            assert ("keep the setting off" in t) == off, where
            assert ("turn the setting off and keep it off" in t) == (not off), where
            assert "don't rate sensitive chats (thumbs up or down) or send them with /feedback" in t, where
            assert "delete sensitive chats you don't need, above all old ones you continued" in t, where
            assert "use Incognito chats for the most private things" in t, where
        else:
            assert "Incognito chats are not used" in t, where
            # Deleting chats (F13): only useful if the setting may have been on.
            assert ("Want a chat gone?" in t) == (a.get("popup") not in ("off", "notyet")), where


def test_exactly_one_opening_per_popup_answer():
    openings = {
        "accepted": "Your setting is **probably on**",
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
        assert openings[state.answers.get("popup")] in t.split("\n\n")[0], f"{state}: the verdict comes first"
        if state.answers.get("popup") in ("accepted", "unsure"):
            assert "reportedly" in t, str(state)
        # Already off: check it is still off, and confirm with a button that says so.
        assert ("**Check it's still off**" in t) == (state.answers.get("popup") == "off"), str(state)
        assert ("**How to switch it off**" in t) == (state.answers.get("popup") != "off"), str(state)


def confirm_labels(state: State) -> list[str]:
    node = guide().node(state.node)
    return [o.label for o in node.options if o.action == "confirm_off" and o.when.allows(state.answers)]


def test_the_confirm_button_follows_the_answer():
    for state in [*_personal_results(), *details()]:
        expected = "✅ It's still off" if state.answers.get("popup") == "off" else "✅ I've turned it off"
        assert confirm_labels(state) == [expected], str(state)


def test_troubleshooting():
    g = guide()
    for state in [s for s in all_states() if s.node == g.entries["troubleshoot"]]:
        t = text(state, AFTER)
        assert "mobile app" in t and "browser" in t, str(state)
        # Computer and app are alternatives, not steps 1 and 2.
        assert not re.search(r"^\d+\. ", t, re.M), f"{state}: numbered alternatives"
        assert ("**Claude Code** has no switch of its own" in t) == (state.answers.get("code") == "yes"), str(state)
    node = g.node(g.entries["troubleshoot"])
    assert any(o.action == "confirm_off" for o in node.options)


# ----------------------------------------------------------------------------------------------
# Commercial plans (F6)
# ----------------------------------------------------------------------------------------------


def test_commercial_plans_are_told_they_are_not_covered():
    asked = [s for s in all_states() if s.node == "biz"]
    assert {s.answers.get("plan") for s in asked} == COMMERCIAL_PLANS
    expected = {
        "org": ("Claude for Work", "Team and Enterprise", "Claude for Education", "Claude for Government"),
        "api": ("API use", "Vertex AI"),
    }
    for state in asked:
        t = text(state, AFTER)
        assert "not covered" in t, str(state)
        assert all(name in t for name in expected[state.answers["plan"]]), str(state)
        assert "personal" in t, str(state)


def test_commercial_only_route_ends_with_nothing_to_do_and_the_steps():
    ends = from_start(lambda s: s.node == "work_result")
    assert {s.answers["plan"] for s in ends} == COMMERCIAL_PLANS
    for state in ends:
        assert state.answers["personal"] in ("no", "unsure")
        t = text(state, AFTER)
        assert "nothing you need to do" in t and "not covered" in t, str(state)
        assert "If you ever use a personal" in t, str(state)
    # ... and with a personal account too, the route continues to the personal result.
    both = from_start(lambda s: s.node == "result" and s.answers.get("personal") == "yes")
    assert both and {s.answers["plan"] for s in both} == COMMERCIAL_PLANS


def test_not_sure_about_the_plan_explains_and_offers_the_steps_anyway():
    g = guide()
    plan = g.node(g.entries["decide"])
    unsure = next(o for o in plan.options if o.record.get("plan") == "unsure")
    tell = g.node(unsure.next)
    assert isinstance(tell, QuestionNode)
    t = node_text(g, tell, {"plan": "unsure"}, AFTER)
    assert "Personal" in t and "organisation" in t
    targets = {o.label: o.next for o in tell.options}
    assert targets["📋 Show me the steps anyway"] == g.entries["steps"]
    # The kinds are offered right there: no "Ask me again" loop back to the plan question.
    assert plan.id not in targets.values() and "🙋 Personal: Free, Pro or Max" in targets


def test_not_sure_about_a_personal_account_asks_that_question_again():
    g = guide()
    biz = g.node("biz")
    unsure = next(o for o in biz.options if o.record.get("personal") == "unsure")
    again = g.node(unsure.next)
    assert isinstance(again, QuestionNode) and again.id != "plan"
    t = node_text(g, again, {"plan": "org", "personal": "unsure"}, AFTER)
    assert "**A personal account** is one you signed up for yourself" in t
    assert "**Do you have one like that?**" in t
    assert {o.next for o in again.options} == {"code", "work_result"}


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
    node = g.node("details")
    answers = {"plan": "personal", "code": "yes", "popup": "accepted", "resumed": "yes", "sensitive": "no"}
    t = node_text(g, node, answers, AFTER)
    code_block = next(b for b in node.blocks if b.id == "d_code")
    assert visible(code_block.when, answers, g, AFTER)
    assert code_block.text.strip().splitlines()[0] in t


def test_retention_with_the_setting_off_says_where_the_data_is_kept():
    """F11: "up to 30 days in back-end storage", not as if the chat history disappeared."""
    g = guide()
    changed = node_text(g, g.node(g.entries["changed"]), {}, AFTER)
    assert "with it off, up to 30 days in Anthropic's back-end storage." in changed
    # The before-state (F11) and the choice required since the deadline (F4) are part of what changed.
    assert "Before the change, consumer chats were deleted within 30 days in most cases." in changed
    assert "Since 8 October 2025 you need to make your selection on this setting to keep using Claude." in changed
    before = node_text(g, g.node(g.entries["changed"]), {}, BEFORE)
    assert "After 8 October 2025 you'll need to make your selection on this setting to keep using Claude." in before
    for state in all_states():
        t = text(state, AFTER)
        for sentence in re.findall(r"[^.;]*up to 30 days[^.;]*", t):
            assert "back-end storage" in sentence, f"{state}: {sentence!r}"
