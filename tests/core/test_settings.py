from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings


def test_defaults_without_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN", "DATABASE_URL", "CONTENT_PATH", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.telegram_bot_token is None and settings.discord_bot_token is None
    assert settings.database_path == Path("data/optout.db")
    assert settings.content_path.name == "claude.yaml"


def test_tokens_come_from_dotenv_and_are_secret(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    (tmp_path / ".env").write_text("TELEGRAM_BOT_TOKEN=123:secret-value\nLOG_LEVEL=debug\n")
    settings = load_settings()
    assert settings.telegram_bot_token.get_secret_value() == "123:secret-value"
    assert "secret-value" not in repr(settings) and "secret-value" not in str(settings.model_dump())
    assert settings.log_level == "DEBUG"


def test_invalid_values_are_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HEALTH_PORT", "abc")
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert str(err.value).startswith("HEALTH_PORT: ") and "\n" not in str(err.value)


def test_only_sqlite_urls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "postgres://x")
    with pytest.raises(SettingsError, match="DATABASE_URL: only sqlite:///PATH"):
        _ = load_settings().database_path
