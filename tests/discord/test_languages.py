"""A Discord member is answered in their client's language, and the command picker is localised: end to end,
``optout-bot run`` with the shipped guide against the fake Discord, the real discord.py client inside."""

from __future__ import annotations

import discord
import pytest
from discord import app_commands

from adapters.discord.command_sync import commands_digest
from adapters.discord.commands import HINTS, command_groups
from adapters.discord.handler import InteractionHandler
from adapters.discord.render import render
from adapters.discord.translator import CatalogTranslator
from bot import texts
from bot.guide import load_guide
from bot.i18n import lang
from tests.discord.conftest import GUIDE_PATH, BotProcess
from tests.fakes.discord_api import FakeDiscord, FakeMember, FakeMessage

pytestmark = pytest.mark.asyncio(loop_scope="module")

GUIDE = load_guide(GUIDE_PATH)
SPANISH = GUIDE.in_language("es")
# Discord's locales for the languages we speak, each with the catalog it maps to.
LOCALES = {"es-ES": "es", "es-419": "es", "de": "de", "fr": "fr", "pt-BR": "pt_BR"}


def label(node: str, option: str) -> str:
    return next(o.label for o in SPANISH.node(node).options if o.id == option)


def opening(node: str) -> str:
    return render(SPANISH.node(node).blocks[0].text).split("\n")[0][:30]


async def next_step(member: FakeMember) -> FakeMessage:
    """The next message that carries buttons (notices and the answered question come first)."""
    message = await member.pop_message()
    while not message.labels():
        message = await member.pop_message()
    return message


async def test_a_spanish_member_gets_the_whole_walk_in_spanish(fake: FakeDiscord, bot: BotProcess) -> None:
    member = fake.member(9101, locale="es-ES")
    await member.slash("optout start")
    home = await member.pop_message()
    assert home.content.startswith(opening("start")), home.content
    assert home.labels()[:2] == [label("start", "decide"), label("start", "steps")]
    await member.press(label("start", "decide"), home)
    screen = await next_step(member)
    assert opening("plan") in screen.content
    for node, option in (("plan", "personal"), ("code", "yes"), ("popup", "accepted"), ("resumed", "yes"),
                         ("sensitive", "no")):
        await member.press(label(node, option), screen)
        screen = await next_step(member)
    # The pressed message became the result, with the Spanish answer on top.
    assert screen.content.startswith(f"✅ **{label('sensitive', 'no')}**"), screen.content[:200]
    assert "«Help improve Claude»" in screen.content and "claude.ai/settings/data-privacy-controls" in screen.content
    assert lang("es").date(GUIDE.checked) in screen.content
    assert len(screen.content) <= 800
    await member.press(label("result", "details"), screen)
    details = await member.pop_message()
    assert opening("details") in details.content, details.content[:200]
    last = details if details.labels() else await next_step(member)
    assert lang("es")._(texts.BACK) in last.labels()
    # The bot's own texts too.
    await member.slash("optout privacy")
    privacy = await member.pop_message()
    assert privacy.content.startswith(render(texts.privacy(HINTS, t=lang("es"))).split("\n")[0])


async def test_optout_language_switches_and_is_remembered_over_the_client_locale(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    member = fake.member(9102, locale="es-ES")
    await member.slash("optout start")
    home = await member.pop_message()
    await member.press(label("start", "decide"), home)
    plan = await next_step(member)
    await member.slash("optout language")
    menu = await member.pop_message()
    assert render(lang("es")._(texts.LANGUAGE_ASK)) in menu.content
    assert menu.labels()[:5] == ["English", "Deutsch", "Español", "Français", "Português (Brasil)"]
    await member.press("Deutsch", menu)
    shown = [await member.pop_message()]
    while not shown[-1].labels():
        shown.append(await member.pop_message())
    text = "\n".join(m.content for m in shown)
    assert render(lang("de")._(texts.LANGUAGE_SET)) in text
    german_plan = GUIDE.in_language("de").node("plan")
    assert render(german_plan.blocks[0].text).split("\n")[0][:30] in text, text
    # Same place: the plan question's buttons from before the switch still work, now answered in German.
    await member.press(label("plan", "personal"), plan)
    code = await next_step(member)
    assert render(GUIDE.in_language("de").node("code").blocks[0].text).split("\n")[0][:30] in code.content
    # Remembered: the client still says es-ES, the bot keeps German.
    await member.slash("optout help")
    helped = await member.pop_message()
    assert helped.content.startswith("**Was ich kann**\n\n- /optout start: Den Leitfaden von vorn durchgehen")


async def test_the_synced_commands_carry_their_descriptions_in_every_language(
    fake: FakeDiscord, bot: BotProcess
) -> None:
    _scope, commands = fake.syncs[-1]
    optout = next(c for c in commands if c["name"] == "optout")
    subcommands = {o["name"]: o for o in optout["options"]}
    described = [optout, *subcommands.values(), *(p for o in subcommands.values() for p in o.get("options", ()))]
    for item in described:
        localised = item.get("description_localizations") or {}
        for locale, code in LOCALES.items():
            expected = lang(code)._(item["description"])
            assert expected != item["description"], f"{item['name']}: no {code} text for {item['description']!r}"
            assert localised.get(locale) == expected, (item["name"], locale, localised)
            assert len(localised[locale]) <= 100
    assert "language" in subcommands
    # A locale we have no texts for keeps the English default (Discord falls back to it).
    assert "ja" not in optout["description_localizations"]


async def test_the_sync_hash_covers_the_translations() -> None:
    client = discord.Client(intents=discord.Intents.none())
    tree = app_commands.CommandTree(client)
    for group in command_groups(InteractionHandler(engine=None), reminders=None, clock=None):  # type: ignore[arg-type]
        tree.add_command(group)
    plain = await commands_digest(tree, 1, None)
    await tree.set_translator(CatalogTranslator())
    translated = await commands_digest(tree, 1, None)

    class Reworded(CatalogTranslator):
        async def translate(self, string, locale, context):
            found = await super().translate(string, locale, context)
            return found and found + "!"

    await tree.set_translator(Reworded())
    reworded = await commands_digest(tree, 1, None)
    assert len({plain, translated, reworded}) == 3, "a changed translation must make the next start sync"
    await client.close()
