"""One command table: Telegram's menu, Discord's slash commands and every /help come from it and agree.

Built the way each front end builds them: Telegram's menu as setMyCommands receives it, Discord's
commands as discord.py would sync them (translated by the tree's translator), /help as the engine
answers it on each platform.
"""

from __future__ import annotations

import re

import discord
import pytest
from discord import app_commands

from adapters.discord.commands import command_groups
from adapters.discord.handler import InteractionHandler
from adapters.discord.translator import CatalogTranslator
from adapters.telegram.handlers import COMMANDS as TELEGRAM_HANDLED
from bot import commands
from bot.conversation import HANDLERS
from bot.engine import Engine
from bot.i18n import LANGUAGES, lang
from tests.core.driver import EngineChat

HELP_LINE = re.compile(r"^- (/optout |/)(\S+(?: turn:off)?): (.+)$", re.MULTILINE)


async def _discord_payload() -> dict:
    client = discord.Client(intents=discord.Intents.none())
    tree = app_commands.CommandTree(client)
    for group in command_groups(InteractionHandler(engine=None), reminders=None, clock=None):  # type: ignore[arg-type]
        tree.add_command(group)
    await tree.set_translator(CatalogTranslator())
    payload = {c.name: await c.get_translated_payload(tree, tree.translator) for c in tree.get_commands()}
    await client.close()
    return payload["optout"]


async def _help(engine: Engine, platform: str, language: str = "en") -> dict[str, str]:
    chat = EngineChat(engine, platform=platform)
    if language != "en":
        await chat.command("language", language)
    (reply,) = await chat.command("help")
    return {name: text for _, name, text in HELP_LINE.findall(reply.text)}


def test_every_command_of_the_table_has_a_handler_in_the_core() -> None:
    for spec in commands.COMMANDS:
        assert spec.name == "start" or f"command:{spec.name}" in HANDLERS, spec.name
        for arg in spec.args:
            assert arg.runs is None or f"command:{arg.runs}" in HANDLERS


@pytest.mark.parametrize("language", LANGUAGES)
async def test_telegram_menu_and_help_list_the_same_commands(engine: Engine, language: str) -> None:
    menu = dict(commands.menu(commands.TELEGRAM, t=lang(language)))
    assert list(menu) == ["start", "steps", "remind", "stop", "forget", "language", "sources", "privacy", "help"]
    assert set(TELEGRAM_HANDLED) | {"start"} == set(menu)  # the handlers answer exactly what the menu offers
    assert await _help(engine, "telegram", language) == menu


async def test_discord_commands_and_help_list_the_same_commands(engine: Engine) -> None:
    optout = await _discord_payload()
    synced = {o["name"]: o for o in optout["options"]}
    assert list(synced) == ["start", "steps", "remind", "forget", "language", "sources", "privacy", "help"]
    help_lines = await _help(engine, "discord")
    # Discord has no /stop: help names the option of /optout remind that stops reminders.
    assert "stop" not in synced and "stop" not in help_lines
    assert help_lines.pop("remind turn:off") == "Stop all reminders"
    assert help_lines == {name: o["description"] for name, o in synced.items()}
    (turn,) = synced["remind"]["options"]
    assert turn["name"] == "turn" and [c["value"] for c in turn["choices"]] == ["off"]
    # Localised from the same msgids: German members read the German menu line.
    assert synced["steps"]["description_localizations"]["de"] == lang("de")._("Just show me the steps")
    assert (await _help(engine, "discord", "de"))["steps"] == synced["steps"]["description_localizations"]["de"]


async def test_the_terminal_help_lists_what_the_terminal_answers(engine: Engine) -> None:
    help_lines = await _help(engine, "console")
    assert list(help_lines) == [c.name for c in commands.offered(commands.CONSOLE)]
    chat = EngineChat(engine, platform="console")
    for name in help_lines:
        replies = await chat.command(name)
        assert "I don't know that command" not in "\n".join(r.text for r in replies), name
