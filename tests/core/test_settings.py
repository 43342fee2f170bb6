from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings


def test_defaults_without_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("TELEGRAM_BOT_TOKEN", "DISCORD_BOT_TOKEN", "DATABASE_URL", "CONTENT_PATH", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.telegram_bot_token is None and settings.discord_bot_token is None
    assert settings.database_url == "sqlite:///data/optout.db"
    assert settings.content_path.name == "claude.yaml"


def test_tokens_come_from_dotenv_and_are_secret(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    (tmp_path / ".env").write_text("TELEGRAM_BOT_TOKEN=123456789:AAsecret-value-0123456789abcdefghij\nLOG_LEVEL=debug\n")
    settings = load_settings()
    assert settings.telegram_bot_token.get_secret_value() == "123456789:AAsecret-value-0123456789abcdefghij"
    assert "secret-value" not in repr(settings) and "secret-value" not in str(settings.model_dump())
    assert settings.log_level == "DEBUG"


def test_invalid_values_are_one_line_naming_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HEALTH_PORT", "abc")
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert str(err.value).startswith("HEALTH_PORT: ") and "\n" not in str(err.value)


def test_a_postgresql_url_is_accepted_and_its_password_not_repeated(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "postgresql://optout:hunter2@db:5432/optout")
    assert load_settings().database_url.startswith("postgresql://")
    monkeypatch.setenv("DATABASE_URL", "postgresql://optout:hunter2@db:port/optout")
    with pytest.raises(SettingsError, match=r"^DATABASE_URL: malformed: expected postgresql://USER:PASSWORD@HOST") as err:
        load_settings()
    assert "hunter2" not in str(err.value)


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("TELEGRAM_BOT_TOKEN", "not-a-token", "malformed: a Telegram bot token is digits, a colon"),
        ("TELEGRAM_BOT_TOKEN", "123456789:short", "malformed"),
        ("DISCORD_BOT_TOKEN", "only.two", "malformed: a Discord bot token is three parts"),
        ("TELEGRAM_WEBHOOK_URL", "bot.example.org/hook", "malformed: expected an http:// or https:// URL"),
        ("TELEGRAM_API_BASE_URL", "localhost:8081/bot", "malformed: expected an http:// or https:// URL"),
        ("DISCORD_API_BASE_URL", "ws://127.0.0.1/api", "malformed: expected an http:// or https:// URL"),
        ("DATABASE_URL", "sqlite://bot.db", "malformed: write sqlite:/// and then the file's path"),
        ("DATABASE_URL", "memory://bot", "malformed: write memory:// with nothing after it"),
        ("DATABASE_URL", "bot.db", "malformed: expected sqlite:///PATH"),
        ("DATABASE_URL", "postgresql://optout:hunter2@db:port/optout", "malformed: expected postgresql://USER:PASSWORD@HOST"),
        ("DATABASE_URL", "mysql://optout:hunter2@db/optout", "unknown scheme mysql://"),
        ("CONTENT_PATH", "missing.yaml", "no such file: missing.yaml"),
        ("CONTENT_PATH", ".", "not a file"),
    ],
)
def test_a_value_of_the_wrong_shape_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str, value: str, needle: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert str(err.value).startswith(f"{name}: {needle}")
    assert "\n" not in str(err.value) and "hunter2" not in str(err.value)
    if "TOKEN" in name:
        assert value not in str(err.value)


def test_tokens_of_the_right_shape_pass_with_stray_spaces_trimmed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", " 7007007007:AAF-fake-token-for-tests-0123456789abcdef ")
    monkeypatch.setenv("DISCORD_BOT_TOKEN", "MTA5ODc2NTQzMjEwOTg3NjU0.GfAkE1.s3cr3t-t0ken_xyz")
    settings = load_settings()
    assert settings.telegram_bot_token.get_secret_value() == "7007007007:AAF-fake-token-for-tests-0123456789abcdef"
    assert settings.discord_bot_token.get_secret_value() == "MTA5ODc2NTQzMjEwOTg3NjU0.GfAkE1.s3cr3t-t0ken_xyz"


def test_a_webhook_url_needs_a_secret_of_telegrams_shape(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_URL", "https://bot.example.org/hook")
    with pytest.raises(SettingsError, match=r"^TELEGRAM_WEBHOOK_SECRET: required with TELEGRAM_WEBHOOK_URL"):
        load_settings()
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "has spaces")
    with pytest.raises(SettingsError, match=r"^TELEGRAM_WEBHOOK_SECRET: malformed: use 1 to 256 characters"):
        load_settings()
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "a-good_secret")
    assert load_settings().telegram_webhook_secret.get_secret_value() == "a-good_secret"


@pytest.mark.parametrize(
    ("count", "ids", "needle"),
    [
        (None, "0", "DISCORD_SHARD_IDS: needs DISCORD_SHARD_COUNT"),
        ("2", "0,2", "DISCORD_SHARD_IDS: each shard number once, from 0 to 1"),
        ("2", "1,1", "DISCORD_SHARD_IDS: each shard number once"),
        ("2", "one", "DISCORD_SHARD_IDS: malformed: write the shard numbers separated by commas"),
        ("0", None, "DISCORD_SHARD_COUNT: Input should be greater than or equal to 1"),
    ],
)
def test_discord_shards_are_checked_first(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, count: str | None,
                                          ids: str | None, needle: str) -> None:
    monkeypatch.chdir(tmp_path)
    for name, value in (("DISCORD_SHARD_COUNT", count), ("DISCORD_SHARD_IDS", ids)):
        if value is not None:
            monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=f"^{needle}"):
        load_settings()


def test_discord_shard_ids_are_read_as_a_comma_list(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DISCORD_SHARD_COUNT", "4")
    monkeypatch.setenv("DISCORD_SHARD_IDS", "3, 1")
    assert load_settings().discord_shard_ids == (1, 3)
