""""Check all my assistants": tick the assistants you use, walk them one by one, then a summary.

Its record (``CheckAll``, on the person) says which phase it is in, what was ticked and which pack is
being walked; the packs' own rows hold only their answers.
"""

from __future__ import annotations

from dataclasses import replace

from bot import button_data as data
from bot import texts
from bot.actions import START, Action
from bot.conversation.check_all_record import DONE, SELECT, WALK, CheckAll
from bot.conversation.packs import PackView, visible
from bot.conversation.registry import ROWS, Open, Result, Turn, handles, notice
from bot.conversation.walk import continue_row
from bot.events import Button, Message
from bot.guide import ResultNode
from bot.storage.base import Person, UserState

ROUTE = f"press:{data.CHECK_ALL}"


def select_reply(record: CheckAll, turn: Turn) -> Message:
    """The picker: a toggle per pack; Continue once something is ticked (so it never leads nowhere); Back to
    where the person was."""
    chosen = set(record.chosen)
    rows = [(Button(texts.check_all_option(p.guide.name, pack in chosen), data.check_all(f"+{pack}")),)
            for pack, p in turn.packs.items()]
    nav = [Button(turn.t._(texts.BACK), data.current(turn.q()))]
    if chosen:
        nav.append(Button(turn.t._(texts.CHECK_ALL_GO), data.check_all(data.CHECK_ALL_GO)))
    rows.append(tuple(nav))
    return Message(turn.t._(texts.CHECK_ALL_ASK), tuple(rows))


def _with(turn: Turn, record: CheckAll) -> Person:
    return replace(turn.person, check_all=record.dump(), updated_at=turn.now)


def _open(record: CheckAll, turn: Turn) -> Open:
    pack = record.chosen[record.index]
    heading = texts.check_all_heading(record.index + 1, len(record.chosen), turn.packs[pack].guide.name, t=turn.t)
    return Open(pack, Action(START, pack, "start"), heading)


@handles(ROUTE)
def check_all(state: UserState, action: Action, turn: Turn) -> Result:
    t = turn.t
    record = CheckAll.load(turn.person.check_all)
    arg = action.arg
    if arg == data.CHECK_ALL_OPEN or record is None:
        # A new check replaces one under way (its packs lose their "Next assistant" with the record).
        record = CheckAll()
        return Result([select_reply(record, turn)], person=_with(turn, record))
    chosen = [p for p in record.chosen if p in turn.packs]
    if arg.startswith("+") and record.phase == SELECT and arg[1:] in turn.packs:
        pack = arg[1:]
        record.chosen = [p for p in turn.packs if (p in chosen) != (p == pack)]
        label = texts.check_all_toggled(turn.packs[pack].guide.name, pack in record.chosen, t=t)
        return Result([select_reply(record, turn)], person=_with(turn, record), chosen=label)
    if arg == data.CHECK_ALL_GO and record.phase == SELECT:
        if not chosen:
            return Result([notice(turn, texts.CHECK_ALL_NONE), select_reply(record, turn)])
        record.phase, record.index, record.chosen = WALK, 0, chosen
        names = ", ".join(turn.packs[p].guide.name for p in chosen)  # a plain list reads the same in every language
        return Result(person=_with(turn, record), open=_open(record, turn), chosen=names)
    if arg == data.CHECK_ALL_NEXT and record.phase == WALK:
        if record.index + 1 < len(chosen):
            record.index += 1
            return Result(person=_with(turn, record), open=_open(record, turn))
        record.phase = DONE
        return Result([summary(record, turn)], person=_with(turn, record))
    if record.phase == DONE:
        return Result([summary(record, turn)])
    # A toggle after Continue, or Continue twice: say where the check is.
    if record.phase == SELECT:
        return Result([notice(turn, texts.STALE_BUTTON), select_reply(record, turn)])
    record.index = min(record.index, len(chosen) - 1)
    return Result([notice(turn, texts.STALE_BUTTON)], open=_open(record, turn))


def summary(record: CheckAll, turn: Turn) -> Message:
    """What the check found: turned off, nothing to do for these answers, still to do. Each assistant still
    to do opens where the person left it, answers and all (its steps when they never got that far)."""
    rows: dict[str, UserState] = turn.require(ROWS)  # type: ignore[assignment]
    done, nothing, left = [], [], []
    for pack in record.chosen:
        view = turn.packs.get(pack)
        if view is None:
            continue
        state = rows.get(pack)
        if state is not None and state.answers.get(view.guide.confirm_key) == "yes":
            done.append(pack)
        elif state is not None and _nothing_to_do(state, view, turn):
            nothing.append(pack)
        else:
            left.append(pack)
    buttons = [(Button(turn.packs[p].guide.name, _resume(p, rows.get(p), turn)),) for p in left]
    buttons.append((Button(turn.t._(texts.CHECK_ALL), data.check_all(data.CHECK_ALL_OPEN)),))
    buttons.append(continue_row(turn))
    names = [[turn.packs[p].guide.name for p in group] for group in (done, left, nothing)]
    return Message(texts.check_all_summary(*names, t=turn.t), tuple(buttons))


def _nothing_to_do(state: UserState, view: PackView, turn: Turn) -> bool:
    """At a result whose answers need nothing: it offers no "I've turned it off" (a work account, a region
    without the setting: the pack's own result says so)."""
    node = view.nodes.get(state.node)
    if not isinstance(node, ResultNode):
        return False
    offered = [o for o in node.options if visible(o.when, state.answers, view.guide, turn.now)]
    return not any(o.action == "confirm_off" for o in offered)


def _resume(pack: str, state: UserState | None, turn: Turn) -> str:
    view = turn.packs[pack]
    if state is not None and state.node in view.nodes and isinstance(view.nodes[state.node], ResultNode):
        return data.current(view.qualifier)  # their own result, with the answers they gave
    return data.entry(view.guide.steps_entry, view.qualifier)
