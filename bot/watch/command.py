"""``optout-bot content watch [PATH]``: one run of the watch, its report on stdout, exit 0, 1 or 2."""

from __future__ import annotations

import sys
from pathlib import Path

from bot.clock import SystemClock
from bot.guide import GuideError
from bot.logs import setup_logging
from bot.settings import SettingsError, load_settings
from bot.storage import StorageError, open_backend
from bot.watch.watch import SourceWatch, pack_paths, watched_sources


async def watch_command(target: Path | None) -> int:
    """Print one line per changed or unreadable source (a changed one with its diff), then a total.

    0: nothing changed and every source was read; 1: something changed or failed; 2: it could not run.
    """
    try:
        settings = load_settings()
        # WARNING: the report is the output; the per-run INFO line would repeat its total on stderr.
        setup_logging("WARNING" if settings.log_level == "INFO" else settings.log_level, settings.log_format, [])
        sources = watched_sources(pack_paths(settings.content_path, target))
        storage = await open_backend(settings.database_url)
    except (SettingsError, StorageError, GuideError) as exc:
        print(f"optout-bot: {exc}", file=sys.stderr)
        return 2
    try:
        report = await SourceWatch(storage, SystemClock(), timeout=settings.content_watch_timeout).run(sources)
    finally:
        await storage.close()
    for line in report.lines():
        print(line)
    return report.exit_code
