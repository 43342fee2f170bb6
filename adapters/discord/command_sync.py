"""Slash command sync at start-up, only when the commands changed (Discord allows 200 creations a day)."""

from __future__ import annotations

import hashlib
import json
import logging

import discord
from discord import app_commands

from bot.storage.base import CounterStore

log = logging.getLogger(__name__)


async def commands_payload(tree: app_commands.CommandTree, guild: discord.Object | None) -> list[dict]:
    """What ``tree.sync`` sends: with a translator, every command's localisations included."""
    commands = tree.get_commands(guild=guild)
    if tree.translator is None:
        return [command.to_dict(tree) for command in commands]
    return [await command.get_translated_payload(tree, tree.translator) for command in commands]


async def commands_digest(tree: app_commands.CommandTree, application_id: int | None, guild: discord.Object | None) -> str:
    """Hash what a sync would send, translations too, so an unchanged definition is recognised on the next start."""
    payload = await commands_payload(tree, guild)
    text = json.dumps({"application": application_id, "commands": payload}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


async def sync_if_changed(tree: app_commands.CommandTree, storage: CounterStore, guild_id: int | None) -> bool:
    """Sync the commands globally (or to ``guild_id`` only, instantly, for development); return whether it synced."""
    guild = discord.Object(id=guild_id) if guild_id else None
    if guild is not None:
        tree.copy_global_to(guild=guild)
    meta = f"discord_commands_hash:{guild_id}" if guild_id else "discord_commands_hash"
    digest = await commands_digest(tree, tree.client.application_id, guild)
    if await storage.get_meta(meta) == digest:
        log.info("slash commands unchanged since the last sync; not syncing")
        return False
    synced = await tree.sync(guild=guild)
    await storage.set_meta(meta, digest)
    log.info("slash commands synced %s (%d top-level)", "to the development server" if guild else "globally", len(synced))
    return True
