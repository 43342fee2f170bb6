"""The guide's buttons as discord.py DynamicItems: the custom id carries all a press needs.

``oo:<user id>:<data>`` is a button of one member's conversation; ``oa:<data>`` is the button under a
channel announcement, which anyone may press. Because the custom id holds everything, a button keeps
working after a restart without any per-message ``add_view`` bookkeeping.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from adapters.discord.render import Rows, label
from bot.button_data import BUTTON_DATA_MAX

if TYPE_CHECKING:
    from adapters.discord.platform import OptoutClient

CUSTOM_ID_LIMIT = 100  # Discord's limit; discord.py does not check it


class GuideButton(discord.ui.DynamicItem[discord.ui.Button], template=rf"oo:(?P<owner>[0-9]{{1,20}}):(?P<data>.{{1,{BUTTON_DATA_MAX}}})"):
    """A button in one member's conversation with the guide."""

    def __init__(self, owner: int, data: str, text: str = "…", style: discord.ButtonStyle = discord.ButtonStyle.primary):
        super().__init__(discord.ui.Button(label=label(text), style=style, custom_id=f"oo:{owner}:{data}"))
        self.owner = owner
        self.data = data

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> GuideButton:
        return cls(int(match["owner"]), match["data"], item.label or "…", item.style)

    async def callback(self, interaction: discord.Interaction[OptoutClient]) -> Any:
        """Hand the press to the conversation it belongs to."""
        await interaction.client.handler.press(interaction, self.owner, self.data)


class AnnouncementButton(discord.ui.DynamicItem[discord.ui.Button], template=rf"oa:(?P<data>.{{1,{BUTTON_DATA_MAX}}})"):
    """The button under a channel announcement: opens the guide for whoever presses it."""

    def __init__(self, data: str, text: str = "…", style: discord.ButtonStyle = discord.ButtonStyle.primary):
        super().__init__(discord.ui.Button(label=label(text), style=style, custom_id=f"oa:{data}"))
        self.data = data

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> AnnouncementButton:
        return cls(match["data"], item.label or "…", item.style)

    async def callback(self, interaction: discord.Interaction[OptoutClient]) -> Any:
        """Open the guide for the member who pressed, privately."""
        await interaction.client.handler.announcement_press(interaction, self.data)


DYNAMIC_ITEMS = (GuideButton, AnnouncementButton)


def matches_template(custom_id: str) -> bool:
    return any(item.__discord_ui_compiled_template__.fullmatch(custom_id) for item in DYNAMIC_ITEMS)


def build_view(rows: Rows, owner: int | None) -> discord.ui.View | None:
    """Build the buttons of one message: a member's (``owner``) or an announcement's (None)."""
    if not rows:
        return None
    # timeout=None: a view that times out unregisters its DynamicItem classes from the client.
    view = discord.ui.View(timeout=None)
    for row_number, row in enumerate(rows):
        for button in row:
            if button.url:
                view.add_item(discord.ui.Button(label=label(button.label), url=button.url, row=row_number))
            elif owner is None:
                view.add_item(_on_row(AnnouncementButton(button.data, button.label), row_number))
            else:
                view.add_item(_on_row(GuideButton(owner, button.data, button.label), row_number))
    return view


def _on_row(item: discord.ui.DynamicItem[discord.ui.Button], row: int) -> discord.ui.DynamicItem[discord.ui.Button]:
    item.row = row
    return item
