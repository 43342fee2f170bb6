"""Settings from the environment and ``.env`` (pydantic-settings); tokens are held as SecretStr."""

from __future__ import annotations

import os
import re
import socket
from datetime import datetime
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from dotenv.parser import parse_stream
from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.guide import DEFAULT_CONTENT_PATH
from bot.storage.backends import scheme
from bot.storage.base import StorageError


class SettingsError(Exception):
    """A missing or invalid setting; str() is one line per problem, never a traceback."""


# Shapes that can be checked without the network, so that a mistyped value stops `optout-bot run`
# before it creates a database, opens a port or logs a line. A value of the right shape that the
# platform rejects is reported when the platform starts.
TELEGRAM_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]{30,}")  # what @BotFather hands out: 123456789:AA…
DISCORD_TOKEN = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")  # three base64url parts
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")  # Telegram's rule for secret_token


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_webhook_url: AnyHttpUrl | None = None
    # Validated even when unset: a webhook URL without a secret is refused.
    telegram_webhook_secret: SecretStr | None = Field(None, validate_default=True)
    telegram_webhook_listen: str = "0.0.0.0"
    telegram_webhook_port: int = Field(8443, ge=1, le=65535)
    # Outgoing rate limits (Telegram: 30 messages a second overall, 1 a second per chat).
    telegram_rate_limit: bool = True

    discord_bot_token: SecretStr | None = None
    discord_api_base_url: str | None = None
    discord_guild_id: int | None = None
    discord_dm_per_second: float = Field(5.0, gt=0)
    # Sharding across instances: every instance gets the same count and its own shard ids ("0,1").
    discord_shard_count: int | None = Field(None, ge=1)
    discord_shard_ids: Annotated[tuple[int, ...] | None, NoDecode] = None

    database_url: str = "sqlite:///data/optout.db"
    content_path: Path = Field(DEFAULT_CONTENT_PATH, validate_default=True)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    health_port: int = Field(8080, ge=0, le=65535)  # 0 turns the health server off
    # Loopback by default: a bare `optout-bot run` on a server must not expose /metrics and /readyz to the
    # network. The image sets 0.0.0.0, where Docker's port mapping (published on the host's loopback) needs it.
    health_host: str = "127.0.0.1"
    retention_days: int = Field(180, ge=1)
    # Names this process in metrics and leases when several share a database (default: the host name,
    # which is the container's id under Docker).
    instance_name: str = Field(default_factory=socket.gethostname, min_length=1, max_length=64)
    # `optout-bot db copy`'s target when --to is not given: a PostgreSQL URL with its password, kept out of
    # the process list (ps shows every argument).
    db_copy_to: SecretStr | None = None
    # Previews and tests only: run the clock as if it were this instant now (it keeps running).
    fake_now: datetime | None = None
    # The source watch (`optout-bot content watch`): "daily" runs it inside `optout-bot run`, under a
    # lease so that one instance fetches, and posts its summary to the operator chats below.
    content_watch: Literal["off", "daily"] = "off"
    content_watch_timeout: float = Field(20.0, gt=0, le=300)  # seconds per request
    operator_telegram_chat_id: int | None = None  # a chat with the bot (the operator's user id, or a group)
    operator_discord_channel_id: int | None = Field(None, ge=1)
    # Messages a second the Telegram bot sends overall, replies and reminders together. Telegram's
    # free limit is about 30; a bot with paid broadcasts may go higher (up to 1,000); tests raise it
    # where pacing is not what they check.
    telegram_messages_per_second: float = Field(30.0, gt=0, le=1000)
    # Seconds discord.py waits after the last server arrives before it calls the bot ready (its default
    # is 2). A bot on one or two servers gains nothing from waiting; tests set it near 0.
    discord_guild_ready_timeout: float = Field(2.0, ge=0, le=60)
    # Seconds a reminder being sent stays claimed by this instance (renewed while it sends): how soon
    # the reminders a crashed instance had claimed go out from a restarted or another instance.
    reminder_lease_seconds: float = Field(10.0, ge=1, le=600)

    # The web chat (adapters/web): served when WEB_PORT is set, with or without the tokens above.
    web_port: int | None = Field(None, ge=1, le=65535)
    web_host: str = "127.0.0.1"
    # Requests a minute one browser session, and one IP address, may make before a "slow down" page.
    web_session_per_minute: int = Field(60, ge=1)
    web_ip_per_minute: int = Field(600, ge=1)
    # Behind a reverse proxy: take the client's address from X-Forwarded-For (the proxy's last entry) and
    # HTTPS from X-Forwarded-Proto. Only when the proxy sets them; otherwise anyone could.
    web_trust_forwarded: bool = False

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("content_watch", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return (value.strip().lower() or "off") if isinstance(value, str) else value

    @field_validator("operator_telegram_chat_id", "operator_discord_channel_id", mode="before")
    @classmethod
    def _blank_chat(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("telegram_bot_token", "discord_bot_token", "telegram_webhook_secret", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("instance_name", mode="before")
    @classmethod
    def _blank_is_host_name(cls, value: object) -> object:
        return socket.gethostname() if isinstance(value, str) and not value.strip() else value

    @field_validator("discord_shard_count", "web_port", mode="before")
    @classmethod
    def _blank_count(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("discord_shard_ids", mode="before")
    @classmethod
    def _shard_list(cls, value: object) -> object:
        if isinstance(value, str):
            if not value.strip():
                return None
            try:
                return tuple(int(part) for part in value.split(","))
            except ValueError:
                raise ValueError("malformed: write the shard numbers separated by commas, e.g. 0,1") from None
        return value

    @field_validator("discord_shard_ids")
    @classmethod
    def _shards_in_count(cls, value: tuple[int, ...] | None, info: ValidationInfo) -> tuple[int, ...] | None:
        if value is None:
            return None
        count = info.data.get("discord_shard_count")
        if count is None:
            raise ValueError("needs DISCORD_SHARD_COUNT (the same on every instance)")
        if not value or len(set(value)) != len(value) or not all(0 <= n < count for n in value):
            raise ValueError(f"each shard number once, from 0 to {count - 1} (DISCORD_SHARD_COUNT is {count})")
        return tuple(sorted(value))

    @field_validator("telegram_bot_token")
    @classmethod
    def _telegram_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not TELEGRAM_TOKEN.fullmatch(value.get_secret_value().strip()):
            raise ValueError(
                "malformed: a Telegram bot token is digits, a colon, then 30 or more letters, digits, _ or -"
                " (123456789:AA…); copy it again from @BotFather"
            )
        return SecretStr(value.get_secret_value().strip()) if value is not None else None

    @field_validator("discord_bot_token")
    @classmethod
    def _discord_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not DISCORD_TOKEN.fullmatch(value.get_secret_value().strip()):
            raise ValueError(
                "malformed: a Discord bot token is three parts of letters, digits, _ and - separated by dots;"
                " copy it again from the Developer Portal (Bot, Reset Token)"
            )
        return SecretStr(value.get_secret_value().strip()) if value is not None else None

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None:
            if info.data.get("telegram_webhook_url"):
                raise ValueError("required with TELEGRAM_WEBHOOK_URL, so that only Telegram can post updates")
            return None
        if not WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("malformed: use 1 to 256 characters from A-Z, a-z, 0-9, _ and -")
        return value

    @field_validator("telegram_webhook_url", "telegram_api_base_url", "discord_api_base_url", mode="before")
    @classmethod
    def _http_url(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, str) and not value.strip() and info.field_name != "telegram_api_base_url":
            return None  # an optional URL left blank, as in .env.example
        if isinstance(value, str):
            parts = urlsplit(value.strip())
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("malformed: expected an http:// or https:// URL with a host name")
            return value.strip()
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            scheme(value)
        except StorageError as exc:
            raise ValueError(str(exc).removeprefix("DATABASE_URL: ")) from None
        return value

    @field_validator("content_path")
    @classmethod
    def _readable_file(cls, value: Path) -> Path:
        if not value.exists():
            raise ValueError(f"no such file: {value}")
        if not value.is_file():
            raise ValueError(f"not a file: {value}")
        if not os.access(value, os.R_OK):
            raise ValueError(f"cannot be read (permissions): {value}")
        return value

    @field_validator("fake_now")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a time zone, e.g. 2025-09-20T12:00:00Z")
        return value


def load_settings(env_file: str | Path | None = ".env", **overrides: object) -> Settings:
    """Read settings, turning every problem into one line that names the variable to fix."""
    try:
        _check_env_file(env_file)
        return Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = "_".join(str(p) for p in err["loc"]).upper() or "settings"
            # A validator's ValueError comes back as "Value error, TEXT"; the TEXT is the message.
            lines.append(f"{name}: {err['msg'].removeprefix('Value error, ')}")
        raise SettingsError("; ".join(lines)) from None
    except (UnicodeDecodeError, ValueError) as exc:  # a malformed .env
        raise SettingsError(f".env: cannot be read: {exc}") from None


def _check_env_file(env_file: str | Path | None) -> None:
    # python-dotenv skips a line it cannot parse with a warning that scrolls away, and the bot would then
    # start without that setting (a token silently missing); refuse the file instead, naming the line.
    if env_file is None or not Path(env_file).is_file():
        return
    with Path(env_file).open(encoding="utf-8") as stream:
        for binding in parse_stream(stream):
            if binding.error:
                raise SettingsError(
                    f"{env_file}: line {binding.original.line} cannot be parsed; write it as NAME=value"
                    " (quote values with spaces or #, close every quote) or start it with # to comment it out"
                )
