"""The one command table: every command the bot has, what it is called in each front end's menu, its
arguments, and which front ends offer it.

Telegram's command menu (per language), Discord's slash commands (with their localisations), the
terminal's and every platform's /help, and the spelling the core's texts use for "stop reminders" are
all built from ``COMMANDS``; tests/core/test_command_table.py compares them.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from bot.events import PlatformHints
from bot.i18n import EN, N_, Lang

TELEGRAM, DISCORD, CONSOLE, WEB = "telegram", "discord", "console", "web"
EVERY_FRONT = frozenset({TELEGRAM, DISCORD, CONSOLE, WEB})


@dataclass(frozen=True, slots=True)
class Arg:
    """An optional argument. ``choices`` "packs" means the guide packs (offered as autocomplete);
    a tuple names the only values. ``runs`` names the command that the argument turns this one into
    (Discord has no room for both ``remind`` and a ``stop`` beside it: ``remind turn:off`` is its stop)."""

    name: str
    text: str  # msgid: the argument's description
    choices: str | tuple[str, ...] | None = None
    runs: str | None = None
    fronts: frozenset[str] = EVERY_FRONT


@dataclass(frozen=True, slots=True)
class CommandSpec:
    name: str
    text: str  # msgid: the line in menus and in /help
    args: tuple[Arg, ...] = ()
    fronts: frozenset[str] = EVERY_FRONT

    def offered_on(self, front: str) -> bool:
        return front in self.fronts

    def args_on(self, front: str) -> tuple[Arg, ...]:
        return tuple(a for a in self.args if front in a.fronts)


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec("start", N_("Walk through the guide from the beginning"), args=(
        Arg("assistant", N_("Another assistant's guide (ChatGPT, Gemini, ...); leave empty for Claude's"),
            choices="packs"),)),
    CommandSpec("steps", N_("Just show me the steps")),
    CommandSpec("remind", N_("Set up a reminder"), args=(
        Arg("turn", N_("Leave empty to set up a reminder; choose off to stop them all"), choices=("off",),
            runs="stop", fronts=frozenset({DISCORD})),)),
    CommandSpec("stop", N_("Stop all reminders"), fronts=EVERY_FRONT - {DISCORD}),
    CommandSpec("forget", N_("Erase everything the bot has about you")),
    CommandSpec("language", N_("Choose the bot's language")),
    CommandSpec("sources", N_("Where the facts come from")),
    CommandSpec("privacy", N_("What the bot stores about you")),
    CommandSpec("help", N_("What the bot can do")),
)
BY_NAME = {c.name: c for c in COMMANDS}
# How each front end writes a command ("/help"; "/optout help" on Discord, where the bot's commands are
# subcommands of one group).
PREFIX = {DISCORD: "/optout "}
HELP_TITLE = N_("**What I can do**")


def _known(front: str) -> str:
    # A front end the table does not name (a benchmark, a test's made-up platform) reads like the terminal.
    return front if front in EVERY_FRONT else CONSOLE


def offered(front: str) -> tuple[CommandSpec, ...]:
    """The commands a front end offers, in the table's order."""
    front = _known(front)
    return tuple(c for c in COMMANDS if c.offered_on(front))


def spelling(front: str, name: str) -> str:
    """How a person types command ``name`` on ``front``, e.g. ``/optout remind turn:off`` for Discord's stop."""
    front = _known(front)
    prefix = PREFIX.get(front, "/")
    if BY_NAME[name].offered_on(front):
        return f"{prefix}{name}"
    for command in offered(front):
        for arg in command.args_on(front):
            if arg.runs == name and isinstance(arg.choices, tuple):
                return f"{prefix}{command.name} {arg.name}:{arg.choices[0]}"
    raise KeyError(f"{front} has no way to run {name}")


@functools.cache
def hints(front: str) -> PlatformHints:
    """The spellings the core's texts use on ``front`` (derived from the table, never written twice)."""
    return PlatformHints(command_prefix=PREFIX.get(front, "/"), stop_reminders=spelling(front, "stop"))


def help_text(front: str, *, t: Lang = EN) -> str:
    """The /help of a front end: one line per command it offers, as its menu names them."""
    lines = [t._(HELP_TITLE), ""]
    lines += [f"- {spelling(front, c.name)}: {t._(c.text)}" for c in offered(front)]
    if not BY_NAME["stop"].offered_on(_known(front)):
        lines.append(f"- {spelling(front, 'stop')}: {t._(BY_NAME['stop'].text)}")
    return "\n".join(lines)


def menu(front: str, *, t: Lang = EN) -> list[tuple[str, str]]:
    """(name, description) of each command a front end offers, in ``t``'s language (Telegram's setMyCommands)."""
    return [(c.name, t._(c.text)) for c in offered(front)]
