"""Settings from the environment and ``.env`` (pydantic-settings); tokens are held as SecretStr."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

from dotenv.parser import parse_stream
from pydantic import AnyHttpUrl, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.guide import DEFAULT_CONTENT_PATH


class SettingsError(Exception):
    """A missing or invalid setting; str() is one line per problem, never a traceback."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    telegram_bot_token: SecretStr | None = None
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_webhook_url: AnyHttpUrl | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_webhook_listen: str = "0.0.0.0"
    telegram_webhook_port: int = Field(8443, ge=1, le=65535)
    # Outgoing rate limits (Telegram: 30 messages a second overall, 1 a second per chat).
    telegram_rate_limit: bool = True

    discord_bot_token: SecretStr | None = None
    discord_api_base_url: str | None = None
    discord_guild_id: int | None = None
    discord_dm_per_second: float = Field(5.0, gt=0)

    database_url: str = "sqlite:///data/optout.db"
    content_path: Path = DEFAULT_CONTENT_PATH
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    health_port: int = Field(8080, ge=0, le=65535)  # 0 turns the health server off
    health_host: str = "0.0.0.0"
    retention_days: int = Field(180, ge=1)
    # Previews and tests only: run the clock as if it were this instant now (it keeps running).
    fake_now: datetime | None = None

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("telegram_bot_token", "discord_bot_token", "telegram_webhook_secret", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("fake_now")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("needs a time zone, e.g. 2025-09-20T12:00:00Z")
        return value

    @property
    def database_path(self) -> Path:
        prefix = "sqlite:///"
        if not self.database_url.startswith(prefix):
            raise SettingsError(f"DATABASE_URL: only sqlite:///PATH is supported, got {self.database_url!r}")
        return Path(self.database_url[len(prefix) :])


def load_settings(env_file: str | Path | None = ".env", **overrides: object) -> Settings:
    """Read settings, turning every problem into one line that names the variable to fix."""
    try:
        _check_env_file(env_file)
        return Settings(_env_file=env_file, **overrides)  # type: ignore[call-arg]
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = "_".join(str(p) for p in err["loc"]).upper() or "settings"
            lines.append(f"{name}: {err['msg']}")
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
