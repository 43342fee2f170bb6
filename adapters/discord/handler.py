"""Answering interactions: run the engine, then reply within Discord's 3 seconds or defer and follow up.

The guide's buttons live here too, as discord.py DynamicItems, beside the handler their presses are
dispatched to: the custom id carries all a press needs. ``oo:<user id>:<data>`` is a button of one
member's conversation; ``oa:<data>`` is the button under a channel announcement, which anyone may
press. Because the custom id holds everything, a button keeps working after a restart without any
per-message ``add_view`` bookkeeping.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

import discord

from adapters.discord.render import Message, Rows, compose, label, render
from bot.button_data import BUTTON_DATA_MAX
from bot.events import Event, Press, Start, UserKey
from bot.i18n import N_, Lang, choose_language, lang
from bot.metrics import ERRORS, UPDATES
from bot.share import COPY_INTRO, SENT

if TYPE_CHECKING:
    from bot.engine import Engine
    from bot.share import Sharing

log = logging.getLogger(__name__)

# Discord drops an interaction not acknowledged within 3 s. A step normally takes milliseconds; when
# it has not finished after this long (a busy database), the interaction is deferred instead, which
# leaves the rest of the 3 s for the defer request itself.
ANSWER_WITHIN = 1.5

FOREIGN_BUTTON = N_("That button belongs to someone else's conversation. Use `/optout start` to open your own.")
UNKNOWN_BUTTON = N_("That button is no longer in use. Use `/optout start` to open the guide.")
SORRY = N_("Sorry, something went wrong on my side and nothing was changed. Please try again in a moment.")
ADMIN_ONLY = N_("Only members with the **Manage Server** permission can change the reminder announcements.")
SERVER_ONLY = N_("This command works in a server, not in direct messages.")


CUSTOM_ID_LIMIT = 100  # Discord's limit; discord.py does not check it


def user_key(user: discord.abc.User) -> UserKey:
    return UserKey("discord", str(user.id))


def in_their_language(interaction: discord.Interaction) -> Lang:
    # The client's language is enough for fixed notices; a /language choice lives in the engine.
    return lang(choose_language(interaction.locale.value))


def _in_their_language(interaction: discord.Interaction, text: str) -> str:
    return in_their_language(interaction)._(text)


class ShareLinks(Protocol):
    """Where a shared guide can be found in a server: its Start panel (adapters/discord/panel.py)."""

    async def link(self, guild_id: int | None) -> str | None: ...


class HandlingClient(Protocol):
    """What a button's callback needs of the client that received the press (OptoutClient is one).

    A protocol rather than the client class: the client's module imports this one, and a type hint
    alone must not close an import circle.
    """

    handler: InteractionHandler


def _handler(interaction: discord.Interaction[Any]) -> InteractionHandler:
    client: HandlingClient = interaction.client
    return client.handler


class InteractionHandler:
    """Turns slash commands and button presses into engine events and shows the replies."""

    def __init__(self, engine: Engine, sharing: Sharing | None = None) -> None:
        self.engine = engine
        self.sharing = sharing
        self.links: ShareLinks | None = None  # the Start panels, once the platform has built them
        self._inflight: set[asyncio.Task[object]] = set()

    def assistants(self) -> list[tuple[str, str]]:
        """(pack, name) of every guide pack the engine serves."""
        return [(g.pack, g.name) for g in self.engine.packs]

    # Entry points -----------------------------------------------------------------------------
    async def command(self, interaction: discord.Interaction, event: Event) -> None:
        """Answer a slash command with the engine's replies as new messages."""
        await self._answer(interaction, self._engine_messages(interaction, event), in_place=False)

    async def press(self, interaction: discord.Interaction, owner: int, data: str) -> None:
        """Answer a press on a conversation button, replacing the pressed message with the next step."""
        if interaction.user.id != owner:
            UPDATES.labels("discord", "foreign_button").inc()
            log.debug("user %s pressed a button of user %s", interaction.user.id, owner)
            await self._explain(interaction, FOREIGN_BUTTON)
            return
        await self._answer(interaction, self._engine_messages(interaction, Press(data)), in_place=True)

    async def announcement_press(self, interaction: discord.Interaction, data: str) -> None:
        """Open the guide privately for whoever pressed an announcement's button."""
        await self._answer(interaction, self._engine_messages(interaction, Press(data)), in_place=False, private=True)

    async def open_privately(self, interaction: discord.Interaction, pack: str) -> None:
        """Open a pack's guide at its start for whoever pressed (a Start panel), privately."""
        await self._answer(interaction, self._engine_messages(interaction, Start(pack)), in_place=False, private=True)

    async def share(self, interaction: discord.Interaction, pack: str) -> None:
        """Give the member a message to send a friend themselves: a bot cannot post in a member's name."""
        if self.sharing is None or pack not in self.sharing.packs:
            await self.unknown_button(interaction)
            return
        t = in_their_language(interaction)
        link = await self.links.link(interaction.guild_id) if self.links is not None else None
        # No panel here (or a DM): the link that adds the bot to a server, where anyone can then start it.
        link = link or f"https://discord.com/oauth2/authorize?client_id={interaction.client.application_id}" \
                       "&scope=bot+applications.commands"
        card = self.sharing.card(pack, t)
        text = f"{render(t._(COPY_INTRO))}\n> {render(card.text)} {link}"
        await self.sharing.count("discord", pack, SENT)
        await self._explain_rendered(interaction, text)

    async def unknown_button(self, interaction: discord.Interaction) -> None:
        """Explain that a button is not one the bot knows (stale format or forged)."""
        UPDATES.labels("discord", "unknown_button").inc()
        await self._explain(interaction, UNKNOWN_BUTTON)

    async def admin(self, interaction: discord.Interaction, work: Callable[[], Awaitable[str]]) -> None:
        """Run an admin command after checking the Manage Server permission again."""
        if interaction.guild_id is None:
            await self._explain(interaction, SERVER_ONLY)
            return
        # Discord hides the command from others (default_permissions), but a server can re-grant it
        # to any role in its integration settings; the permission itself is what counts.
        if not interaction.permissions.manage_guild:
            UPDATES.labels("discord", "refused").inc()
            await self._explain(interaction, ADMIN_ONLY)
            return

        async def messages() -> list[Message]:
            return [Message(await work())]

        await self._answer(interaction, messages(), in_place=False, private=True)

    # Waiting for the steps in flight at shutdown ----------------------------------------------
    async def drain(self, seconds: float) -> None:
        if self._inflight:
            await asyncio.wait(set(self._inflight), timeout=seconds)

    # Internals --------------------------------------------------------------------------------
    async def _engine_messages(self, interaction: discord.Interaction, event: Event) -> list[Message]:
        # The member's own client language (interaction.locale), not the server's preferred locale.
        outcome = await self.engine.handle(user_key(interaction.user), event, locale=interaction.locale.value)
        return compose(outcome)

    async def _explain(self, interaction: discord.Interaction, text: str) -> None:
        await self._explain_rendered(interaction, _in_their_language(interaction, text))

    async def _explain_rendered(self, interaction: discord.Interaction, content: str) -> None:
        try:
            await interaction.response.send_message(content, ephemeral=True)
        except discord.HTTPException as exc:
            log.warning("could not answer an interaction: %s", _why(exc))

    async def _answer(
        self, interaction: discord.Interaction, work: Awaitable[list[Message]], *, in_place: bool, private: bool = False
    ) -> None:
        current = asyncio.current_task()
        if current is not None:
            self._inflight.add(current)
        try:
            await self._answer_in_time(interaction, work, in_place=in_place, private=private)
        finally:
            self._inflight.discard(current)  # type: ignore[arg-type]

    async def _answer_in_time(
        self, interaction: discord.Interaction, work: Awaitable[list[Message]], *, in_place: bool, private: bool
    ) -> None:
        task: asyncio.Task[list[Message]] = asyncio.ensure_future(work)
        deferred = False
        try:
            try:
                messages = await asyncio.wait_for(asyncio.shield(task), ANSWER_WITHIN)
            except TimeoutError:
                deferred = True
                # A component press is deferred as "update the message later"; a command as
                # "thinking", which the first follow-up replaces.
                if in_place:
                    await interaction.response.defer()
                else:
                    await interaction.response.defer(ephemeral=private or interaction.guild_id is not None, thinking=True)
                messages = await task
        except discord.HTTPException as exc:
            UPDATES.labels("discord", "failed").inc()
            log.warning("could not acknowledge an interaction: %s", _why(exc))
            return
        except Exception:
            ERRORS.labels("discord_step").inc()
            log.exception("a step failed")
            messages = [Message(_in_their_language(interaction, SORRY), notice=True)]
        try:
            await self._deliver(interaction, messages, in_place=in_place, deferred=deferred, private=private)
        except discord.HTTPException as exc:
            UPDATES.labels("discord", "failed").inc()
            log.warning("could not show a reply: %s", _why(exc))
            return
        UPDATES.labels("discord", "deferred" if deferred else "answered").inc()

    async def _deliver(
        self, interaction: discord.Interaction, messages: list[Message], *, in_place: bool, deferred: bool, private: bool
    ) -> None:
        private = private or interaction.guild_id is not None
        owner = interaction.user.id
        if not messages and not deferred:
            await interaction.response.defer()  # nothing to show, but Discord still needs its answer
            return
        # A notice (stale button, updated guide) leaves the pressed message as it was and answers
        # with a new message, so the member sees both where they were and why nothing moved.
        edit_first = in_place and bool(messages) and not any(m.notice for m in messages)
        for i, message in enumerate(messages):
            view = build_view(message.rows, owner)
            ephemeral = private or message.notice
            if i == 0 and edit_first:
                if deferred:
                    await interaction.edit_original_response(content=message.content, view=view)
                else:
                    await interaction.response.edit_message(content=message.content, view=view)
            elif i == 0 and not deferred:
                await interaction.response.send_message(message.content, ephemeral=ephemeral, **_with(view))
            elif i == 0 and not in_place:
                # Replaces the "thinking…" placeholder left by the defer.
                await interaction.edit_original_response(content=message.content, view=view)
            else:
                await interaction.followup.send(message.content, ephemeral=ephemeral, wait=True, **_with(view))


def _with(view: discord.ui.View | None) -> dict[str, discord.ui.View]:
    return {"view": view} if view is not None else {}


def _why(exc: discord.HTTPException) -> str:
    return f"{exc.status} (code {exc.code}) {exc.text[:200]}"


# The buttons ---------------------------------------------------------------------------------------
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

    async def callback(self, interaction: discord.Interaction[Any]) -> Any:
        """Hand the press to the conversation it belongs to."""
        await _handler(interaction).press(interaction, self.owner, self.data)


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

    async def callback(self, interaction: discord.Interaction[Any]) -> Any:
        """Open the guide for the member who pressed, privately."""
        await _handler(interaction).announcement_press(interaction, self.data)


class ShareButton(discord.ui.DynamicItem[discord.ui.Button], template=r"os:(?P<pack>[a-z0-9][a-z0-9_-]{0,31})"):
    """"📣 Share": answers with a message to copy; it posts nothing, so anyone may press it."""

    def __init__(self, pack: str, text: str = "…") -> None:
        super().__init__(discord.ui.Button(label=label(text), style=discord.ButtonStyle.secondary, custom_id=f"os:{pack}"))
        self.pack = pack

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str], /
    ) -> ShareButton:
        return cls(match["pack"], item.label or "…")

    async def callback(self, interaction: discord.Interaction[Any]) -> Any:
        await _handler(interaction).share(interaction, self.pack)


BUTTONS = (GuideButton, AnnouncementButton, ShareButton)


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
            elif button.share:
                view.add_item(_on_row(ShareButton(button.share, button.label), row_number))
            elif owner is None:
                view.add_item(_on_row(AnnouncementButton(button.data, button.label), row_number))
            else:
                view.add_item(_on_row(GuideButton(owner, button.data, button.label), row_number))
    return view


def _on_row(item: discord.ui.DynamicItem[discord.ui.Button], row: int) -> discord.ui.DynamicItem[discord.ui.Button]:
    item.row = row
    return item
