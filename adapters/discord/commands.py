"""The slash commands: ``/optout`` for members, ``/optout-admin`` for server admins.

What members read in Discord's command picker is each command's and option's ``description``: an
English msgid of bot/locale's catalogs wrapped in ``locale_str``, which the tree's translator
(adapters/discord/translator.py) turns into every language we speak when the commands are synced.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.app_commands import locale_str

from bot import commands
from bot.events import Command, Recipient, Start
from bot.i18n import N_
from bot.reminders import texts as reminder_texts

if TYPE_CHECKING:
    from adapters.discord.handler import InteractionHandler
    from bot.clock import Clock
    from bot.reminders.service import ReminderService

# How the core's texts spell these commands, from the command table (Discord cannot make `remind` both a
# command and a group, hence its option to stop reminders).
HINTS = commands.hints(commands.DISCORD)
# Members use the guide in servers and in a DM with the bot.
EVERYWHERE = app_commands.AppCommandContext(guild=True, dm_channel=True)


def assistant_choices(handler: InteractionHandler, typed: str) -> list[app_commands.Choice[str]]:
    # The packs are content, known at run time, so Discord offers them as autocomplete choices.
    typed = typed.lower()
    return [
        app_commands.Choice(name=name, value=pack)
        for pack, name in handler.assistants()
        if typed in name.lower() or typed in pack
    ][:25]


class OptoutCommands(app_commands.Group):
    """The member commands, one per entry of the core's command table offered on Discord; every reply is
    private in a server."""

    def __init__(self, handler: InteractionHandler) -> None:
        super().__init__(
            name="optout",
            description=locale_str(N_("Turn off Claude's “Help improve Claude” model-training setting, step by step")),
            allowed_contexts=EVERYWHERE,
            allowed_installs=app_commands.AppInstallationType(guild=True),
        )
        self.handler = handler
        for spec in commands.offered(commands.DISCORD):
            self.add_command(member_command(handler, spec))


def member_command(handler: InteractionHandler, spec: commands.CommandSpec) -> app_commands.Command:
    """A slash command built from the table: its description and its arguments' are msgids the tree's
    translator localises; the callback only turns the interaction into the engine's event."""
    name = spec.name
    args = spec.args_on(commands.DISCORD)
    if not args:
        async def run(interaction: discord.Interaction) -> None:
            await handler.command(interaction, Command(name))
    elif args[0].choices == "packs":
        assert args[0].name == "assistant", "the callback below names its argument so"

        async def run(interaction: discord.Interaction, assistant: str | None = None) -> None:  # type: ignore[misc]
            await handler.command(interaction, Start(assistant) if name == "start" else Command(name, assistant))
    else:
        arg = args[0]
        assert arg.name == "turn" and isinstance(arg.choices, tuple) and arg.runs, "the callback below names it so"
        runs = arg.runs

        async def run(interaction: discord.Interaction, turn: str | None = None) -> None:  # type: ignore[misc]
            await handler.command(interaction, Command(runs if turn else name))

        # Discord offers exactly the table's choices.
        run.__annotations__["turn"] = Literal[arg.choices] | None  # type: ignore[valid-type]
    run = app_commands.describe(**{a.name: locale_str(a.text) for a in args})(run)
    command = app_commands.Command(name=name, description=locale_str(spec.text), callback=run)
    if args and args[0].choices == "packs":

        @command.autocomplete(args[0].name)
        async def _assistants(interaction: discord.Interaction, typed: str) -> list[app_commands.Choice[str]]:
            return assistant_choices(handler, typed)

    return command


class AdminCommands(app_commands.Group):
    """Server settings; Discord shows them only to members with Manage Server."""

    def __init__(self, handler: InteractionHandler, reminders: ReminderService, clock: Clock) -> None:
        super().__init__(
            name="optout-admin",
            description=locale_str(N_("Set up Opt-Out Assistant for this server")),
            default_permissions=discord.Permissions(manage_guild=True),
            # dm_permission (guild_only) is Discord's deprecated field, contexts its successor: set both.
            guild_only=True,
            allowed_contexts=app_commands.AppCommandContext(guild=True),
            allowed_installs=app_commands.AppInstallationType(guild=True),
        )
        self.handler = handler
        self.reminders = reminders
        self.clock = clock
        ChannelReminderCommands(handler, reminders, clock, parent=self)  # a parent adopts its subgroup

    @app_commands.command(description=locale_str(N_("Show where deadline reminders are announced in this server")))
    async def status(self, interaction: discord.Interaction) -> None:
        """Show where deadline reminders are announced in this server."""

        async def work() -> str:
            return await self.reminders.channel_status("discord", str(interaction.guild_id), self.clock.now())

        await self.handler.admin(interaction, work)


class ChannelReminderCommands(app_commands.Group):
    """Announcements in a channel of the server: Claude's deadline reminders and each guide's changes."""

    def __init__(
        self, handler: InteractionHandler, reminders: ReminderService, clock: Clock, parent: app_commands.Group
    ) -> None:
        super().__init__(name="reminders",
                         description=locale_str(N_("Announce deadline reminders and guide changes in a channel")),
                         parent=parent)
        self.handler = handler
        self.reminders = reminders
        self.clock = clock

    @app_commands.command(description=locale_str(N_("Announce deadline reminders, or an assistant's guide changes, in a channel")))
    @app_commands.describe(
        channel=locale_str(N_("The channel where reminders are announced")),
        assistant=locale_str(N_("Another assistant's guide: announce when it changes; empty for Claude's")))
    async def on(self, interaction: discord.Interaction, channel: discord.TextChannel,
                 assistant: str | None = None) -> None:
        """Announce deadline reminders, or an assistant's guide changes, in a channel."""

        async def work() -> str:
            to = Recipient("discord", "channel", str(channel.id))
            # The server is the scope its admins turn announcements on and off for.
            return await self.reminders.subscribe_channel(to, str(interaction.guild_id), self.clock.now(), assistant)

        await self.handler.admin(interaction, work)

    @app_commands.command(description=locale_str(N_("Stop announcing in this server")))
    @app_commands.describe(assistant=locale_str(N_("Stop only this assistant's announcements; empty for all of them")))
    async def off(self, interaction: discord.Interaction, assistant: str | None = None) -> None:
        """Stop announcing in this server."""

        async def work() -> str:
            stopped = await self.reminders.unsubscribe_scope("discord", str(interaction.guild_id), assistant)
            if not stopped:
                return reminder_texts.CHANNEL_NONE
            names = dict(self.handler.assistants())
            return reminder_texts.channel_off(names[assistant]) if assistant in names else reminder_texts.CHANNEL_OFF

        await self.handler.admin(interaction, work)

    @on.autocomplete("assistant")
    @off.autocomplete("assistant")
    async def _assistants(self, interaction: discord.Interaction, typed: str) -> list[app_commands.Choice[str]]:
        return assistant_choices(self.handler, typed)


def command_groups(handler: InteractionHandler, reminders: ReminderService, clock: Clock) -> list[app_commands.Group]:
    return [OptoutCommands(handler), AdminCommands(handler, reminders, clock)]
