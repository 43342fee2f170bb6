"""Every start-up mistake an operator can make ends in one clear line and a non-zero exit, never a traceback."""

from __future__ import annotations

from pathlib import Path

from tests.ops.helpers import assert_one_clear_line, run_bot

# Console mode needs no platform, so these cases exercise only what is checked before any platform starts.
QUIT = "q\n"


def test_env_file_with_invalid_utf8(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"LOG_LEVEL=INFO\nTELEGRAM_BOT_TOKEN=\xff\xfe\n")
    proc = run_bot(["run"], tmp_path, stdin=QUIT)
    line = assert_one_clear_line(proc, ".env")
    assert "utf-8" in line


def test_env_file_with_a_value_of_the_wrong_type(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("HEALTH_PORT=abc\n")
    proc = run_bot(["run"], tmp_path, stdin=QUIT, HEALTH_PORT=None)
    assert_one_clear_line(proc, "HEALTH_PORT", "integer")


def test_database_path_under_a_regular_file(tmp_path: Path) -> None:
    (tmp_path / "not-a-dir").write_text("x")
    proc = run_bot(["run"], tmp_path, stdin=QUIT, DATABASE_URL=f"sqlite:///{tmp_path / 'not-a-dir' / 'bot.db'}")
    assert_one_clear_line(proc, "DATABASE_URL", "not-a-dir")


def test_database_file_that_is_not_sqlite(tmp_path: Path) -> None:
    (tmp_path / "bot.db").write_text("this is a text file, not a database\n" * 100)
    proc = run_bot(["run"], tmp_path, stdin=QUIT)
    assert_one_clear_line(proc, "DATABASE_URL", "not a usable SQLite database")


def test_database_url_of_another_kind(tmp_path: Path) -> None:
    proc = run_bot(["run"], tmp_path, stdin=QUIT, DATABASE_URL="postgres://db/optout")
    assert_one_clear_line(proc, "DATABASE_URL", "sqlite:///")


def test_guide_that_is_not_yaml(tmp_path: Path) -> None:
    (tmp_path / "guide.yaml").write_text("version: 1\nnodes: [\n")
    proc = run_bot(["run"], tmp_path, stdin=QUIT, CONTENT_PATH=str(tmp_path / "guide.yaml"))
    assert_one_clear_line(proc, "CONTENT_PATH", "not valid")


def test_guide_that_fails_content_check(tmp_path: Path) -> None:
    (tmp_path / "guide.yaml").write_text(
        'version: "1"\ntitle: t\nstart: a\nnodes:\n'
        "  - id: a\n    kind: info\n    blocks: [{id: b, text: hi}]\n    next: nowhere\n"
    )
    proc = run_bot(["run"], tmp_path, stdin=QUIT, CONTENT_PATH=str(tmp_path / "guide.yaml"))
    line = assert_one_clear_line(proc, "CONTENT_PATH", "content check")
    assert "nowhere" in line


def test_missing_guide_file(tmp_path: Path) -> None:
    proc = run_bot(["run"], tmp_path, stdin=QUIT, CONTENT_PATH=str(tmp_path / "missing.yaml"))
    assert_one_clear_line(proc, "CONTENT_PATH", "missing.yaml")


def test_fake_now_without_time_zone(tmp_path: Path) -> None:
    proc = run_bot(["run"], tmp_path, stdin=QUIT, FAKE_NOW="2025-09-20T12:00:00")
    assert_one_clear_line(proc, "FAKE_NOW", "time zone")
