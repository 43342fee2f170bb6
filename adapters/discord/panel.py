"""The Start panel: a message a server admin posts in a channel, one line and a "Start" button that
opens the guide privately for whichever member presses it (as ticket and role bots post theirs).

``op:<pack>`` is the panel button's custom id: it holds all a press needs, so a panel keeps working
after restarts and deploys, as the other DynamicItems do. One panel per channel: the server's panels
are kept as one meta value, ``discord_panels:<server id>`` = ``{channel id: {"message": id, "pack": pack}}``,
through the meta port (no table of its own); posting again in a channel deletes the old message.
"""

from __future__ import annotations

import json
import logging
import re
from typing import TYPE_CHECKING, Any, Protocol

import discord
from discord import app_commands
from discord.app_commands import locale_str

from adapters.discord.commands import assistant_choices
from adapters.discord.handler import InteractionHandler, in_their_language
from adapters.discord.render import label, render
from bot.i18n import N_, choose_language, lang
from bot.share import PANEL_PRESS, PANEL_START

if TYPE_CHECKING:
    from bot.share import Sharing
    from bot.storage.base import CounterStore

log = logging.getLogger(__name__)

PLATFORM = "discord"
PANEL_POSTED = N_("Posted the Start panel for {assistant} in {channel}.")
PANEL_REPLACED = N_("Replaced the Start panel in {channel}: it now opens {assistant}'s guide.")
PANEL_REMOVED = N_("Removed the Start panel from {channel}.")
PANELS_REMOVED = N_("Removed every Start panel of this server ({count}).")
PANEL_NONE = N_("There is no Start panel to remove.")
PANEL_WHERE = N_("Choose the channel for the Start panel.")
PANEL_UNKNOWN = N_("I don't have a guide for that assistant; choose one from the list.")
PANEL_CANNOT = N_("I can't post in {channel}: please let me view the channel and send messages there.")


def _key(guild_id: int) -> str:
    return f"discord_panels:{guild_id}"


class PanelClient(Protocol):
    """What the panel button's callback needs of the client (OptoutClient is one); a protocol, so that
    this module need not import the client's."""

    panels: Panels


class PanelButton(discord.ui.DynamicItem[discord.ui.Button], template=r"op:(?P<pack>[a-z0-9][a-z0-9_-]{0,31})"):
    """The Start button of a panel: anyone in the channel may press it."""

    def __init__(self, pack: str, text: str = "…") -> None:
        super().__init__(discord.ui.Button(label=label(text), style=discord.ButtonStyle.success, custom_id=f"op:{pack}"))
        self.pack = pack

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> PanelButton:
        return cls(match["pack"], item.label or "…")

    async def callback(self, interaction: discord.Interaction[Any]) -> Any:
        client: PanelClient = interaction.client
        await client.panels.press(interaction, self.pack)


BUTTONS = (PanelButton,)


def panel_command(handler: InteractionHandler, panels: Panels) -> app_commands.Command:
    """``/optout-admin panel``; Discord cannot make ``panel`` both a command and a group, hence ``remove:``."""

    @app_commands.command(name="panel",
                          description=locale_str(N_("Post a Start panel in a channel (any member presses it), or remove it")))
    @app_commands.describe(
        channel=locale_str(N_("The channel for the panel (one per channel; posting again replaces it)")),
        assistant=locale_str(N_("The guide it opens; empty for Claude's")),
        remove=locale_str(N_("Remove the panel of this channel (or, without a channel, every panel)")))
    async def panel(interaction: discord.Interaction, channel: discord.TextChannel | None = None,
                    assistant: str | None = None, remove: bool = False) -> None:
        channel_id = channel.id if channel is not None else None

        async def work() -> str:
            if remove:
                return await panels.remove(interaction, channel_id)
            return await panels.post(interaction, channel_id, assistant)

        await handler.admin(interaction, work)

    @panel.autocomplete("assistant")
    async def _assistants(interaction: discord.Interaction, typed: str) -> list[app_commands.Choice[str]]:
        return assistant_choices(handler, typed)

    return panel


class Panels:
    """Posts, replaces and removes a server's Start panels, and answers their presses."""

    def __init__(self, handler: InteractionHandler, sharing: Sharing, meta: CounterStore) -> None:
        self.handler = handler
        self.sharing = sharing
        self.meta = meta

    # Presses ----------------------------------------------------------------------------------
    async def press(self, interaction: discord.Interaction, pack: str) -> None:
        """Open the panel's guide for the member who pressed, privately and in their own language."""
        if pack not in self.sharing.packs:
            await self.handler.unknown_button(interaction)
            return
        await self.sharing.count(PLATFORM, pack, PANEL_PRESS)
        await self.handler.open_privately(interaction, pack)

    # Admin commands ---------------------------------------------------------------------------
    async def post(self, interaction: discord.Interaction, channel_id: int | None, assistant: str | None) -> str:
        t = in_their_language(interaction)
        if channel_id is None:
            return t._(PANEL_WHERE)
        pack = assistant or self.sharing.packs[0]
        if pack not in self.sharing.packs:
            return t._(PANEL_UNKNOWN)
        guild_id = interaction.guild_id
        assert guild_id is not None  # handler.admin answers commands outside a server
        # The panel speaks the server's language (its Discord "primary language"): it is read by everyone.
        where = lang(choose_language(interaction.guild_locale.value if interaction.guild_locale else None))
        view = discord.ui.View(timeout=None)
        view.add_item(PanelButton(pack, where._(PANEL_START)))
        channel = interaction.client.get_partial_messageable(channel_id, guild_id=guild_id)
        mention = f"<#{channel_id}>"
        try:
            message = await channel.send(render(self.sharing.panel_text(pack, where)), view=view)
        except (discord.Forbidden, discord.NotFound):
            return t._(PANEL_CANNOT).format(channel=mention)
        panels = await self._panels(guild_id)
        old = panels.get(str(channel_id))
        panels[str(channel_id)] = {"message": message.id, "pack": pack}
        await self._save(guild_id, panels)
        name = self.sharing.name(pack)
        if old is None:
            return t._(PANEL_POSTED).format(assistant=name, channel=mention)
        await self._delete(interaction, channel_id, int(old["message"]))
        return t._(PANEL_REPLACED).format(assistant=name, channel=mention)

    async def remove(self, interaction: discord.Interaction, channel_id: int | None) -> str:
        """Delete the panel of one channel, or (no channel given) every panel of the server."""
        t = in_their_language(interaction)
        guild_id = interaction.guild_id
        assert guild_id is not None
        panels = await self._panels(guild_id)
        gone = [c for c in panels if channel_id is None or c == str(channel_id)]
        if not gone:
            return t._(PANEL_NONE)
        for channel in gone:
            await self._delete(interaction, int(channel), int(panels.pop(channel)["message"]))
        await self._save(guild_id, panels)
        if channel_id is None:
            return t._(PANELS_REMOVED).format(count=len(gone))
        return t._(PANEL_REMOVED).format(channel=f"<#{channel_id}>")

    # What a member's Share gives them --------------------------------------------------------
    async def link(self, guild_id: int | None) -> str | None:
        """A link to a panel of this server (the oldest still posted), if it has one."""
        if guild_id is None:
            return None
        panels = await self._panels(guild_id)
        for channel, panel in panels.items():
            return f"https://discord.com/channels/{guild_id}/{channel}/{panel['message']}"
        return None

    # Storage ----------------------------------------------------------------------------------
    async def _panels(self, guild_id: int) -> dict[str, dict[str, Any]]:
        raw = await self.meta.get_meta(_key(guild_id))
        try:
            found = json.loads(raw) if raw else {}
        except ValueError:
            log.warning("discord: the stored Start panels of a server were unreadable; starting afresh")
            return {}
        return found if isinstance(found, dict) else {}

    async def _save(self, guild_id: int, panels: dict[str, dict[str, Any]]) -> None:
        await self.meta.set_meta(_key(guild_id), json.dumps(panels, sort_keys=True))

    async def _delete(self, interaction: discord.Interaction, channel_id: int, message_id: int) -> None:
        try:
            await interaction.client.get_partial_messageable(channel_id).get_partial_message(message_id).delete()
        except discord.NotFound:
            pass  # deleted by someone already
        except discord.HTTPException as exc:
            log.warning("discord: could not delete an old Start panel (%s, code %s)", exc.status, exc.code)
