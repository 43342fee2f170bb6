"""Walking a guide pack: open, answer, continue, go back, start over, and the steps rendered as messages."""

from __future__ import annotations

from bot import button_data as data
from bot import share, texts
from bot.actions import Action
from bot.conversation.check_all_record import tour_row
from bot.conversation.packs import visible
from bot.conversation.registry import HANDLERS, Confirmed, Result, Turn, button, handles, notice
from bot.events import Button, Message, Reply
from bot.guide import InfoNode, Option, QuestionNode, ResultNode
from bot.storage.base import UserState

HISTORY_MAX = 50  # Back goes this far; the guide is far shallower, this only bounds forged loops.


# Rendering ------------------------------------------------------------------------------------
def continue_row(turn: Turn) -> tuple[Button, ...]:
    return (button(turn, texts.CONTINUE_WHERE, data.current(turn.q())),)


def render(state: UserState, turn: Turn) -> list[Reply]:
    """The current node as messages: most nodes are one; the buttons go on the last."""
    local = turn.local
    node = local.nodes[state.node]
    q = turn.q()
    rows: list[tuple[Button, ...]] = []
    if isinstance(node, InfoNode):
        rows.append((Button(node.continue_label, data.next_step(state.step, q)),))
    else:
        rows += [
            (Button(o.label, data.option(state.step, o.id, q)),)
            for o in node.options
            if visible(o.when, state.answers, turn.pack.guide, turn.now)
        ]
    if isinstance(node, ResultNode):
        rows += result_rows(state, turn)
    nav: list[Button] = []
    if state.history:
        nav.append(button(turn, texts.BACK, data.back(state.step, q)))
    if state.node != turn.pack.guide.start:
        nav.append(button(turn, texts.START_OVER, data.start_over(q)))
    if nav:
        rows.append(tuple(nav))
    *before, last = local.texts.parts(node, state.answers, turn.now)
    return [*(Message(part) for part in before), Message(last, tuple(rows))]


def result_rows(state: UserState, turn: Turn) -> list[tuple[Button, ...]]:
    """What every result and details screen offers besides its own answers: "Remind me" in a pack with a
    deadline ahead, its sources, and its change alerts."""
    node = turn.pack.nodes[state.node]
    actions = {o.action for o in getattr(node, "options", ())}
    rows: list[tuple[Button, ...]] = []
    if "remind" not in actions and any(d.at > turn.now for d in turn.pack.guide.deadlines):
        rows.append((button(turn, texts.REMIND_ME, data.action(data.REMIND, turn.q())),))
    if "sources" not in actions:
        rows.append((button(turn, texts.SOURCES, data.action(data.SOURCES, turn.q())),))
    follow = (button(turn, texts.FOLLOW_CHANGES, data.action(data.ALERTS, turn.q())),) if turn.planner else ()
    rows.append((*follow, share_button(turn)))
    if (touring := tour_row(turn)) is not None:
        rows.append(touring)
    return rows


def share_button(turn: Turn) -> Button:
    """Passing the pack on: each platform renders it its own way (bot.events.Button.share)."""
    return Button(turn.t._(share.SHARE), data.action(data.SHARE, turn.q()), share=turn.pack.pack)


def again(state: UserState, turn: Turn, why: str) -> Result:
    """Explain briefly (``why``: a msgid of bot.texts, or a text already translated) and show the current step again."""
    return Result([notice(turn, why), *render(state, turn)])


# Moving -------------------------------------------------------------------------------------
def move(state: UserState, turn: Turn, node_id: str, *, remember: bool = True) -> tuple[str, ...]:
    """Move the user to ``node_id``; return the funnel counters that move earns."""
    if remember:
        state.history.append((state.node, dict(state.answers)))
        del state.history[:-HISTORY_MAX]
    state.node = node_id
    state.step += 1
    state.pending = None
    nodes = turn.pack.nodes
    node = nodes[node_id]
    if isinstance(node, ResultNode):
        # Once per arrival from the questions: "More details" or "I couldn't find it" on a result
        # lead to other results, and must not count the same person twice.
        came_from = state.history[-1][0] if remember and state.history else None
        return () if isinstance(nodes.get(came_from or ""), ResultNode) else ("got_steps", share.OFFERED)
    if isinstance(node, QuestionNode) and node_id != turn.pack.guide.start:
        return (f"reached:{node_id}",)
    return ()


def restart(state: UserState, turn: Turn, node_id: str | None = None) -> tuple[str, ...]:
    state.history.clear()
    state.answers.clear()
    return move(state, turn, node_id or turn.pack.guide.start, remember=False)


def open_entry(state: UserState, turn: Turn, entry: str, *, from_start: bool = False) -> Result:
    guide = turn.pack.guide
    if entry == share.SHARED_ENTRY:
        counters = restart(state, turn)
        return Result(render(state, turn), state, (*counters, share.SHARED_START))
    # "start" opens a pack at its beginning (the buttons of the "Other assistants" list).
    target = guide.start if entry == "start" else guide.entries.get(entry) if entry else None
    notices: list[Reply] = []
    if entry and target is None:
        notices = [notice(turn, texts.UNKNOWN_ENTRY)]
    if target is None and not from_start:
        return again(state, turn, texts.UNKNOWN_ENTRY)
    counters = restart(state, turn)
    if target and target != guide.start:
        counters += move(state, turn, target)
    return Result([*notices, *render(state, turn)], state, counters)


# Handlers -----------------------------------------------------------------------------------
@handles("start")
def start(state: UserState, action: Action, turn: Turn) -> Result:
    return open_entry(state, turn, action.arg, from_start=True)


@handles("text")
def typed(state: UserState, action: Action, turn: Turn) -> Result:
    return again(state, turn, texts.USE_BUTTONS)


@handles("command:steps")
def steps(state: UserState, action: Action, turn: Turn) -> Result:
    return open_entry(state, turn, turn.pack.guide.steps_entry)


@handles(f"press:{data.ENTRY}")
def entry(state: UserState, action: Action, turn: Turn) -> Result:
    return open_entry(state, turn, action.arg)


@handles(f"press:{data.START_OVER}")
def start_over(state: UserState, action: Action, turn: Turn) -> Result:
    counters = restart(state, turn)
    return Result(render(state, turn), state, counters)


@handles(f"press:{data.CURRENT}")
def current(state: UserState, action: Action, turn: Turn) -> Result:
    return Result(render(state, turn))


@handles(f"press:{data.ACTION}:{data.SHARE}")
def share_text(state: UserState, action: Action, turn: Turn) -> Result:
    """Only where a platform cannot share by itself (the terminal): the card's sentence to pass on."""
    guide = turn.local.texts.guide
    return Result([Message(f"{turn.t._(share.COPY_INTRO)}\n\n{share.sentence(guide, turn.t)}", (continue_row(turn),))])


@handles("press:?")
def unknown_button(state: UserState, action: Action, turn: Turn) -> Result:
    return again(state, turn, texts.BAD_BUTTON)


def _stale(state: UserState, action: Action, turn: Turn) -> Result | None:
    return again(state, turn, texts.STALE_BUTTON) if action.step != state.step else None


@handles(f"press:{data.BACK}")
def back(state: UserState, action: Action, turn: Turn) -> Result:
    if (stale := _stale(state, action, turn)) is not None:
        return stale
    if not state.history:
        return again(state, turn, texts.NOTHING_BACK)
    node_id, answers = state.history.pop()
    if node_id not in turn.pack.nodes:
        counters = restart(state, turn)
        return Result(render(state, turn), state, counters)
    state.answers = answers
    move(state, turn, node_id, remember=False)
    return Result(render(state, turn), state)


@handles(f"press:{data.CONTINUE}")
def proceed(state: UserState, action: Action, turn: Turn) -> Result:
    if (stale := _stale(state, action, turn)) is not None:
        return stale
    node = turn.local.nodes[state.node]
    if not isinstance(node, InfoNode):
        return again(state, turn, texts.STALE_BUTTON)
    counters = move(state, turn, node.next)
    return Result(render(state, turn), state, counters, chosen=node.continue_label)


@handles(f"press:{data.OPTION}")
def choose(state: UserState, action: Action, turn: Turn) -> Result:
    if (stale := _stale(state, action, turn)) is not None:
        return stale
    node = turn.local.nodes[state.node]
    option = _option(node, action.arg)
    if option is None or not visible(option.when, state.answers, turn.pack.guide, turn.now):
        return again(state, turn, texts.BAD_BUTTON)
    if option.action is not None:
        # An answer that does something (remind, sources, other packs, "it's off"): its handler says what.
        result = HANDLERS[f"option:{option.action}"](state, action, turn)
        result.chosen = option.label
        return result
    assert option.next is not None
    before = dict(state.answers)
    counters = move(state, turn, option.next)
    state.history[-1] = (state.history[-1][0], before)
    state.answers.update(option.record)
    return Result(render(state, turn), state, counters, chosen=option.label)


def _option(node: object, option_id: str) -> Option | None:
    for option in getattr(node, "options", ()):
        if option.id == option_id:
            return option
    return None


@handles("option:restart")
def restart_option(state: UserState, action: Action, turn: Turn) -> Result:
    counters = restart(state, turn)
    return Result(render(state, turn), state, counters)


# "I've turned it off" -------------------------------------------------------------------------
def turned_off(state: UserState, turn: Turn) -> bool:
    return state.answers.get(turn.pack.guide.confirm_key) == "yes"


@handles("option:confirm_off", f"press:{data.ACTION}:{data.DONE}")
def confirm_off(state: UserState, action: Action, turn: Turn) -> Result:
    already = turned_off(state, turn)
    state.answers[turn.pack.guide.confirm_key] = "yes"
    state.pending = None
    t = turn.t
    offers = turn.planner.offers(None, turn.now, pack=turn.pack.pack, turned_off=True, t=t) if turn.planner else []
    # The check-backs go straight on the thanks: one tap, and never a deadline reminder
    # written for people who have not switched it off.
    rows = [(Button(label, data.offer(offer, turn.q())),) for offer, label in offers]
    rows.append((share_button(turn), button(turn, texts.START_OVER, data.start_over(turn.q()))))
    if (touring := tour_row(turn)) is not None:
        rows.insert(0, touring)
    text = f"{t._(texts.THANKS_OFF)}\n\n{t._(texts.CHECK_BACK_ASK)}" if offers else t._(texts.THANKS_OFF)
    effects = (Confirmed(),) if turn.planner is not None else ()
    counters = (share.OFFERED, *(() if already else ("confirmed_off",)))
    return Result([Message(text, tuple(rows))], state, counters, effects=effects)
