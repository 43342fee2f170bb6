"""The Discord client's lifecycle (login, gateway, shutdown) and unprompted messages (reminders, announcements)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import replace
from typing import TYPE_CHECKING

import aiohttp
import discord
import discord.http
import yarl
from aiolimiter import AsyncLimiter
from discord import app_commands
from discord.gateway import DiscordWebSocket

from adapters.discord import log_privacy
from adapters.discord.buttons import DYNAMIC_ITEMS, build_view, matches_template
from adapters.discord.command_sync import sync_if_changed
from adapters.discord.commands import command_groups
from adapters.discord.handler import InteractionHandler
from adapters.discord.render import compose
from adapters.discord.translator import CatalogTranslator
from bot import button_data
from bot.events import Button, Outcome, Recipient
from bot.i18n import N_
from bot.platform import Delivery, Outgoing, PlatformError

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.engine import Engine
    from bot.reminders.service import ReminderService
    from bot.settings import Settings
    from bot.storage.base import Storage

log = logging.getLogger(__name__)

READY_TIMEOUT = 20.0  # seconds from login to the gateway's READY
DRAIN_TIMEOUT = 3.0  # seconds for the steps in flight at shutdown (the app allows 8 in all)
# Under a channel announcement, read by everyone in the channel: a channel has no language of its own,
# so it stays English; it is marked so the catalogs hold it should servers ever get one.
START_GUIDE = N_("Open the guide")

VOICE_WARNING = "voice will NOT be supported"


def _not_about_voice(record: logging.LogRecord) -> bool:
    # The bot has no voice features, yet the first Client of a process warns that PyNaCl and davey
    # are missing. Filtering these two records, rather than setting VoiceClient's class flags, leaves
    # discord.py's state alone; tests/discord/test_library_seams.py notices if the text changes.
    return VOICE_WARNING not in record.getMessage()


class OptoutClient(discord.Client):
    """A gateway client with the guide's commands, its persistent buttons and a fallback for unknown ones."""

    def __init__(
        self, handler: InteractionHandler, groups: list[app_commands.Group], meta: Storage, guild_id: int | None,
        **shards: object,
    ) -> None:
        # Slash commands and buttons arrive as interactions, which need no privileged intent; the
        # guilds intent keeps channels known for announcements.
        intents = discord.Intents.none()
        intents.guilds = True
        logging.getLogger("discord.client").addFilter(_not_about_voice)  # once: addFilter skips a duplicate
        log_privacy.install()
        super().__init__(intents=intents, **shards)
        self.handler = handler
        self._groups = groups
        self._meta = meta
        self._guild_id = guild_id
        self.tree = app_commands.CommandTree(self)
        self.ready_once = asyncio.Event()

    def syncs_commands(self) -> bool:
        """Tell whether this instance syncs the slash commands: the one that runs shard 0 (or every shard)."""
        return True

    async def setup_hook(self) -> None:
        self.add_dynamic_items(*DYNAMIC_ITEMS)
        for group in self._groups:
            self.tree.add_command(group)
        # Before the sync: it sends each command's descriptions in every language the translator knows.
        await self.tree.set_translator(CatalogTranslator())
        if not self.syncs_commands():
            # The commands are the application's, not a shard's: one sync is enough, and two instances
            # syncing at once would spend Discord's daily allowance of command creations twice.
            log.info("slash commands: left to the instance that runs shard 0")
            return
        try:
            await sync_if_changed(self.tree, self._meta, self._guild_id)
        except discord.HTTPException as exc:
            # The commands of the last successful sync stay in place; buttons keep working.
            log.error("slash commands could not be synced (%s %s); will try again at the next start", exc.status, exc.text[:200])

    async def on_ready(self) -> None:
        ids = getattr(self, "shard_ids", None)  # AutoShardedClient's; a plain Client has one shard
        shards = f" (shards {', '.join(map(str, ids))} of {self.shard_count})" if ids else ""
        log.info("connected to the Discord gateway as application %s%s", self.application_id, shards)
        self.ready_once.set()

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Explain a press on a button that no DynamicItem will take (an old format or a forged id)."""
        if interaction.type is not discord.InteractionType.component:
            return
        custom_id = str((interaction.data or {}).get("custom_id", ""))
        if matches_template(custom_id) and _on_message(custom_id, interaction.message):
            return  # a GuideButton or AnnouncementButton answers it
        await self.handler.unknown_button(interaction)


class ShardedOptoutClient(OptoutClient, discord.AutoShardedClient):
    """The same client running some of the bot's gateway shards (DISCORD_SHARD_COUNT, DISCORD_SHARD_IDS):
    discord.py's AutoShardedClient runs them over one connection each, and Discord routes each server's
    interactions (and DMs, to shard 0) to the shard that owns it."""

    def syncs_commands(self) -> bool:
        return self.shard_ids is None or 0 in self.shard_ids


def _on_message(custom_id: str, message: discord.Message | None) -> bool:
    """Tell whether the pressed message carries this custom id (discord.py drops the press otherwise)."""
    if message is None:
        return False
    for row in message.components:
        for child in getattr(row, "children", ()):
            if getattr(child, "custom_id", None) == custom_id:
                return True
    return False


class DiscordPlatform:
    """Runs the guide as a Discord app: slash commands and buttons in servers and DMs."""

    name = "discord"

    def __init__(
        self, settings: Settings, engine: Engine, reminders: ReminderService, meta: Storage, clock: Clock
    ) -> None:
        """Take the settings, the engine, the reminder service, where to keep the commands' hash, the clock."""
        if settings.discord_bot_token is None:
            raise PlatformError("DISCORD_BOT_TOKEN: not set")
        self._token = settings.discord_bot_token
        self._base = settings.discord_api_base_url.rstrip("/") if settings.discord_api_base_url else None
        self._library_defaults: tuple[str, yarl.URL] | None = None
        self.handler = InteractionHandler(engine)
        groups = command_groups(self.handler, reminders, clock)
        if settings.discord_shard_count:
            self.client: OptoutClient = ShardedOptoutClient(
                self.handler, groups, meta, settings.discord_guild_id, shard_count=settings.discord_shard_count,
                shard_ids=list(settings.discord_shard_ids) if settings.discord_shard_ids else None,
                guild_ready_timeout=settings.discord_guild_ready_timeout,
            )
        else:
            self.client = OptoutClient(self.handler, groups, meta, settings.discord_guild_id,
                                       guild_ready_timeout=settings.discord_guild_ready_timeout)
        self._dm_limiter = AsyncLimiter(settings.discord_dm_per_second, 1.0)
        # Targets known to refuse messages: asking again would only add to Discord's invalid-request
        # count (10,000 in 10 minutes bans the address).
        self._unreachable: set[Recipient] = set()
        self._connection: asyncio.Task[None] | None = None

    async def start(self) -> None:
        try:
            await self._start()
        except BaseException:
            self._restore_library_defaults()
            raise

    async def _start(self) -> None:
        if self._base:
            # discord.py builds every REST URL (webhooks and interaction callbacks included) from the
            # class attribute Route.BASE, and has no per-client setting; so this one client per process
            # sets it (and the default gateway, below) for the process while it runs, and stop() puts
            # both back. Only DISCORD_API_BASE_URL (tests, a proxy) gets here; the default is Discord.
            # tests/discord/test_library_seams.py fails if discord.py stops reading either attribute.
            self._library_defaults = (discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
            discord.http.Route.BASE = self._base
        try:
            await self.client.login(self._token.get_secret_value())
            if self._base:
                await self._use_gateway_of_base()
        except discord.LoginFailure:
            await self.client.close()
            raise PlatformError("DISCORD_BOT_TOKEN: Discord refused the token; copy it again from the Developer Portal") from None
        except (discord.HTTPException, discord.GatewayNotFound, aiohttp.ClientError, OSError) as exc:
            await self.client.close()
            raise PlatformError(f"DISCORD_BOT_TOKEN: cannot reach the Discord API at {discord.http.Route.BASE} ({_reason(exc)})") from None
        except BaseException:
            await self.client.close()  # no unclosed HTTP session behind the error the app reports
            raise
        self._connection = asyncio.create_task(self.client.connect(reconnect=True), name="discord-gateway")
        ready = asyncio.create_task(self.client.ready_once.wait())
        done, _ = await asyncio.wait({self._connection, ready}, timeout=READY_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
        if ready in done:
            return
        ready.cancel()
        failure = self._connection.exception() if self._connection in done else None
        await self.client.close()
        self._connection.cancel()
        why = _reason(failure) if failure else f"no READY within {READY_TIMEOUT:.0f} s"
        raise PlatformError(f"DISCORD_BOT_TOKEN: the gateway connection failed ({why})")

    async def _use_gateway_of_base(self) -> None:
        # A plain client connects to DiscordWebSocket.DEFAULT_GATEWAY whatever the REST base is, and
        # falls back to it after an invalidated session; resumes use READY's resume_gateway_url.
        # Pointing the default at what the base's GET /gateway/bot names covers all three paths
        # without replacing Client.connect.
        _shards, url, _limits = await self.client.http.get_bot_gateway()
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
        log.info("using the gateway named by DISCORD_API_BASE_URL")

    async def stop(self) -> None:
        await self.handler.drain(DRAIN_TIMEOUT)
        await self.client.close()
        if self._connection is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._connection, 2.0)
        self._restore_library_defaults()

    def _restore_library_defaults(self) -> None:
        if self._library_defaults is not None:
            discord.http.Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = self._library_defaults
            self._library_defaults = None

    def ready(self) -> bool:
        return self.client.is_ready() and not self.client.is_closed()

    async def failed(self) -> str:
        """Never return: discord.py reconnects by itself, and a refused token is reported at start."""
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(self, message: Outgoing) -> Delivery:
        target = message.recipient
        if target in self._unreachable:
            return Delivery.UNREACHABLE
        messages = compose(Outcome(list(message.replies)))
        try:
            if target.kind == "channel":
                if messages and not any(b for row in messages[-1].rows for b in row if not b.url):
                    # An announcement always offers a way into the guide.
                    messages[-1] = replace(messages[-1], rows=(*messages[-1].rows, (Button(START_GUIDE, button_data.start_over()),)))
                channel = self.client.get_partial_messageable(int(target.id))
                for part in messages:
                    await channel.send(part.content, **_view(build_view(part.rows, None)))
            else:
                async with self._dm_limiter:
                    dm = await self.client.create_dm(discord.Object(id=int(target.id)))
                for i, part in enumerate(messages):
                    if i:
                        await self._dm_limiter.acquire()
                    await dm.send(part.content, **_view(build_view(part.rows, int(target.id))))
        except (discord.Forbidden, discord.NotFound) as exc:
            await self._unreachable_target(target, exc)
            return Delivery.UNREACHABLE
        except (discord.HTTPException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning("a message could not be sent (%s); it will be tried again later", _reason(exc))
            return Delivery.FAILED
        except ValueError:
            log.error("not a Discord target: %r", target)
            return Delivery.UNREACHABLE
        return Delivery.SENT

    async def _unreachable_target(self, target: Recipient, exc: discord.HTTPException) -> None:
        # The scheduler, told UNREACHABLE, turns the reminders off and counts the result; this set
        # only keeps the bot from ever repeating a request Discord refused.
        self._unreachable.add(target)
        if target.kind == "channel":
            log.warning("cannot post in an announcement channel (%s); its announcements stop", _reason(exc))
            return
        log.info("a member has closed their DMs (%s); their DM reminders are turned off", _reason(exc))
        log.debug("closed DMs: user %s", target.id)


def _view(view: discord.ui.View | None) -> dict[str, discord.ui.View]:
    return {"view": view} if view is not None else {}


def _reason(exc: BaseException) -> str:
    if isinstance(exc, discord.HTTPException):
        return f"{exc.status}, code {exc.code}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
