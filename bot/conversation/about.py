"""What the bot says about itself and the person's data: help, privacy, sources, language, the other
assistants, and erasing everything (/forget, with its confirmation)."""

from __future__ import annotations

from bot import button_data as data
from bot import commands, texts
from bot.actions import Action
from bot.conversation.registry import Erase, Result, Turn, button, handles
from bot.conversation.walk import again, continue_row, render
from bot.events import Button, Message, Notice, Reply
from bot.i18n import LANGUAGES, NAMES, lang
from bot.storage.base import UserState

FORGET = "forget"  # UserState.pending while the erase confirmation is shown


@handles("command:help")
def help_(state: UserState, action: Action, turn: Turn) -> Result:
    text = commands.help_text(state.key.platform, t=turn.t)
    return Result([Message(text, (continue_row(turn),))])


@handles("command:privacy")
def privacy(state: UserState, action: Action, turn: Turn) -> Result:
    text = texts.privacy(turn.hints, turn.retention_days, t=turn.t)
    return Result([Message(text, (continue_row(turn),))])


@handles("command:?")
def unknown_command(state: UserState, action: Action, turn: Turn) -> Result:
    return again(state, turn, texts.unknown_command(turn.hints, t=turn.t))


def sources_reply(turn: Turn) -> Message:
    # The sources are English pages, so their titles stay as published; the address itself is shown
    # (as a link), so a person can see which page it is before opening it.
    t = turn.t
    lines = [t._(texts.SOURCES_INTRO), ""]
    lines += [f"- {s.title}: [{s.url}]({s.url}) ({t._(texts.SOURCE_SEEN).format(date=t.short_date(s.seen))})"
              for s in turn.pack.guide.sources]
    return Message("\n".join(lines), (continue_row(turn),))


@handles("command:sources", "option:sources", f"press:{data.ACTION}:{data.SOURCES}")
def sources(state: UserState, action: Action, turn: Turn) -> Result:
    return Result([sources_reply(turn)])


@handles("option:packs")
def other_packs(state: UserState, action: Action, turn: Turn) -> Result:
    rows = [(button(turn, texts.CHECK_ALL, data.check_all(data.CHECK_ALL_OPEN)),)] if len(turn.packs) > 1 else []
    rows += [(Button(p.guide.name, data.entry("start", p.qualifier)),) for p in turn.packs.values() if p.pack != state.pack]
    return Result([Message(turn.t._(texts.OTHER_ASSISTANTS), (*rows, continue_row(turn)))])


# Language -------------------------------------------------------------------------------------
@handles("command:language")
def language(state: UserState, action: Action, turn: Turn) -> Result:
    if action.arg in LANGUAGES:
        return set_language(state, action.arg, turn)
    rows = [(Button(NAMES[code], data.language(code, turn.q())),) for code in LANGUAGES]
    return Result([Message(turn.t._(texts.LANGUAGE_ASK), (*rows, continue_row(turn)))])


@handles(f"press:{data.LANGUAGE}")
def language_pressed(state: UserState, action: Action, turn: Turn) -> Result:
    if action.arg not in LANGUAGES:
        return again(state, turn, texts.BAD_BUTTON)
    return set_language(state, action.arg, turn)


def set_language(state: UserState, code: str, turn: Turn) -> Result:
    """Remember the person's language and show where they are again, in it: nothing else moves."""
    state.language = code
    turn.t = lang(code)  # this turn speaks it already
    replies: list[Reply] = [Message(turn.t._(texts.LANGUAGE_SET))]
    if not turn.pack.speaks(code):
        replies.append(Notice(turn.t._(texts.ONLY_IN_ENGLISH)))
    # A step re-shown with its step number unchanged: its buttons stay valid, older ones stay stale.
    return Result([*replies, *render(state, turn)], state)


# Erase my data --------------------------------------------------------------------------------
@handles("command:forget")
def forget(state: UserState, action: Action, turn: Turn) -> Result:
    state.pending = FORGET
    q = turn.q()
    buttons = ((button(turn, texts.FORGET_YES, data.forget(True, q)), button(turn, texts.FORGET_NO, data.forget(False, q))),)
    return Result([Message(turn.t._(texts.FORGET_ASK), buttons)], state)


@handles(f"press:{data.FORGET}")
def forget_answer(state: UserState, action: Action, turn: Turn) -> Result:
    if state.pending != FORGET:
        return again(state, turn, texts.STALE_BUTTON)
    if action.arg != "yes":
        state.pending = None
        return Result([Message(turn.t._(texts.FORGET_KEPT), (continue_row(turn),))], state)
    return Result([Message(turn.t._(texts.FORGOTTEN))], effects=(Erase(),), forgotten=True)
