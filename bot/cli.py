"""The ``optout-bot`` command."""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path

from bot import compose
from bot.compose import StartupError
from bot.content_check import check_pack, mermaid, pack_files, stale_texts
from bot.guide import GuideError, load_guide, translatable_texts, translation_path
from bot.i18n import ENGLISH, LANGUAGES
from bot.logs import redact, setup_logging
from bot.settings import SettingsError, load_settings
from bot.storage import StorageError, open_backend
from bot.storage.copy import copy_database

log = logging.getLogger("bot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="optout-bot", description="Opt-Out Assistant: Claude training opt-out helper")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="start every platform whose token is set (the terminal chat when none is)")
    chat = sub.add_parser("chat", help="chat with the guide in this terminal (also reads piped input)")
    chat.add_argument("--as-of", metavar="DATE", help="preview the guide as it reads on another date (YYYY-MM-DD)")
    chat.add_argument("--pack", metavar="PACK", help="open another assistant's guide pack (chatgpt, gemini, ...)")
    content = sub.add_parser("content", help="work on the guide")
    content_sub = content.add_subparsers(dest="content_command", required=True)
    check = content_sub.add_parser("check", help="validate the guide packs")
    check.add_argument("path", nargs="?", type=Path,
                       help="a pack's YAML, or a directory of packs (default: every pack beside CONTENT_PATH)")
    watch = content_sub.add_parser("watch", help="fetch every pack's sources and report what changed since the last run")
    watch.add_argument("path", nargs="?", type=Path,
                       help="a pack's YAML, or a directory of packs (default: every pack beside CONTENT_PATH)")
    diagram = content_sub.add_parser("diagram", help="print a pack as a Mermaid flowchart")
    diagram.add_argument("pack", nargs="?", help="a pack name (chatgpt) or a YAML path (default: CONTENT_PATH)")
    stale = content_sub.add_parser("stale", help="list the texts each translation lacks or whose English changed")
    stale.add_argument("language", nargs="?", help="one language (de, es, fr, pt_BR); default every one")
    stats = sub.add_parser("stats", help="print the anonymous funnel")
    stats.add_argument("--since", help="first day (YYYY-MM-DD), default 30 days ago")
    stats.add_argument("--until", help="last day (YYYY-MM-DD), default today")
    db = sub.add_parser("db", help="work on the database")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("migrate", help="bring DATABASE_URL's schema up to date, then exit (before starting new code)")
    copy = db_sub.add_parser("copy", help="copy every row of a SQLite database into PostgreSQL")
    copy.add_argument("--from", dest="source", required=True, metavar="URL", help="sqlite:///PATH")
    copy.add_argument("--to", dest="target", metavar="URL",
                      help="postgresql://USER:PASSWORD@HOST/DB (default: DB_COPY_TO, which keeps the password out of ps)")
    copy.add_argument("--replace", action="store_true", help="empty a target that already holds rows first")
    return parser


def _version() -> str:
    try:
        return importlib.metadata.version("optout-assistant")
    except importlib.metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "(not installed)"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "content":
            return _content(args)
        settings = load_settings()
        secrets = [s.get_secret_value() for s in (settings.telegram_bot_token, settings.discord_bot_token,
                                                   settings.telegram_webhook_secret, settings.db_copy_to) if s]
        # In the terminal chat (also `run` with no platform token), routine INFO lines in text form
        # would interleave with the conversation; JSON logs are for machines and stay as asked.
        no_platform = not (settings.telegram_bot_token or settings.discord_bot_token)
        terminal = args.command == "chat" or (args.command == "run" and no_platform)
        quiet = terminal and settings.log_level == "INFO" and settings.log_format == "text"
        level = "WARNING" if quiet else settings.log_level
        setup_logging(level, settings.log_format, secrets)
        if args.command == "chat":
            return asyncio.run(compose.chat(settings, _as_of(args.as_of), args.pack))
        if args.command == "db":
            target = settings.db_copy_to.get_secret_value() if settings.db_copy_to else None
            return asyncio.run(_db(args, settings.database_url, target))
        if args.command == "stats":
            from bot.stats import print_stats

            return asyncio.run(print_stats(settings, args.since, args.until))
        return asyncio.run(compose.run(settings))
    except (SettingsError, StartupError, StorageError, GuideError) as exc:
        print(f"optout-bot: {redact(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


async def _db(args: argparse.Namespace, database_url: str, copy_to: str | None) -> int:
    if args.db_command == "migrate":
        storage = await open_backend(database_url)
        await storage.close()
        print("database schema is up to date")
        return 0
    if args.target is None and copy_to is None:
        raise StorageError("--to: no target; give --to postgresql://... or set DB_COPY_TO")
    target, flag = (args.target, "--to") if args.target is not None else (copy_to, "DB_COPY_TO")
    counts = await copy_database(args.source, target, replace=args.replace, target_flag=flag)
    print("copied " + ", ".join(f"{table}: {n}" for table, n in counts.items()) + " rows")
    return 0


def _content(args: argparse.Namespace) -> int:
    try:
        content_path = load_settings().content_path
    except SettingsError as exc:
        # Not the shipped guide in its place: a mistyped CONTENT_PATH must not pass as "ok".
        print(f"optout-bot: {exc}", file=sys.stderr)
        return 2
    if args.content_command == "watch":
        from bot.watch.command import watch_command

        return asyncio.run(watch_command(args.path))
    if args.content_command == "diagram":
        return _diagram(args.pack, content_path)
    if args.content_command == "stale":
        return _stale(args.language, content_path.parent)
    target: Path = args.path or content_path.parent
    paths = pack_files(target) if target.is_dir() else [target]
    if not paths:
        print(f"optout-bot: {target}: no guide packs (*.yaml) there", file=sys.stderr)
        return 1
    failed = False
    today = datetime.now(UTC).date()
    for path in paths:
        try:
            report = check_pack(path, today)
        except GuideError as exc:
            print(exc, file=sys.stderr)
            failed = True
            continue
        for line in report.problems:
            print(line, file=sys.stderr)
        for line in report.warnings:
            print(f"warning: {line}", file=sys.stderr)
        failed = failed or bool(report.problems)
        if not report.problems:
            g = report.guide
            print(f"{path}: ok (pack {g.pack}, version {g.version}, {len(g.nodes)} nodes, checked {g.checked})")
    return 1 if failed else 0


def _stale(language: str | None, directory: Path) -> int:
    """One line per text to translate: ``file: key: missing|changed (English hash): English``; exit 1 if any."""
    if language is not None and language not in LANGUAGES:
        print(f"optout-bot: {language!r} is not a language the bot speaks ({', '.join(LANGUAGES)})", file=sys.stderr)
        return 2
    count = 0
    for path in pack_files(directory):
        try:
            guide = load_guide(path)
        except GuideError as exc:
            print(exc, file=sys.stderr)
            return 2
        english = translatable_texts(guide)
        for lang_code in guide.languages:
            if lang_code == ENGLISH or language not in (None, lang_code):
                continue
            where = translation_path(path, lang_code)
            for key, reason, digest in stale_texts(guide, lang_code):
                first = " ".join(english[key].split())
                print(f"{where}: {key}: {reason} (translated_from: {digest}): {first[:70]}")
                count += 1
    print(f"{count} text(s) to translate" if count else "nothing to translate", file=sys.stderr)
    return 1 if count else 0


def _diagram(pack: str | None, content_path: Path) -> int:
    path = content_path
    if pack:
        path = Path(pack) if pack.endswith((".yaml", ".yml")) or "/" in pack else content_path.parent / f"{pack}.yaml"
    try:
        guide = load_guide(path)
    except GuideError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(mermaid(guide))
    return 0


def _as_of(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        start = datetime.fromisoformat(value)
    except ValueError:
        raise StartupError(f"--as-of: not a date: {value!r} (use YYYY-MM-DD)") from None
    return start if start.tzinfo else start.replace(hour=12, tzinfo=UTC)


if __name__ == "__main__":
    sys.exit(main())
