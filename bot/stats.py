"""``optout-bot stats``: the anonymous funnel per platform, from daily counters that hold no user ids."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import date, timedelta
from typing import TextIO

from bot.clock import SystemClock
from bot.guide import GuideError, QuestionNode, load_guide
from bot.settings import Settings
from bot.storage import StorageError, open_backend

DEFAULT_DAYS = 30
# Funnel order; "reached:<question>" rows go after "started", in the guide's order.
HEAD = ("started",)
TAIL = ("got_steps", "confirmed_off", "reminder_subscribed", "reminder_sent")


class DateRangeError(ValueError):
    """--since/--until are not dates or are in the wrong order; str() says which."""


def date_range(since: str | None, until: str | None, today: date) -> tuple[date, date]:
    """Parse the options into [first, last] day, defaulting to the last 30 days up to today."""
    parsed: dict[str, date | None] = {}
    for name, text in (("--since", since), ("--until", until)):
        try:
            parsed[name] = date.fromisoformat(text) if text else None
        except ValueError:
            raise DateRangeError(f"{name}: not a date: {text!r} (use YYYY-MM-DD)") from None
    last = parsed["--until"] or today
    first = parsed["--since"] or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise DateRangeError(f"--since {first} is after --until {last}")
    return first, last


def _question_order(settings: Settings) -> list[str]:
    # The guide only orders the rows; stats must still work when the guide file is broken or gone.
    try:
        guide = load_guide(settings.content_path)
    except GuideError:
        return []
    return [f"reached:{n.id}" for n in guide.nodes if isinstance(n, QuestionNode) and n.id != guide.start]


def funnel_rows(totals: dict[tuple[str, str], int], questions: Iterable[str]) -> list[str]:
    """Return the counter names in funnel order: known steps first, then any other counter found."""
    order = [*HEAD, *questions]
    seen = {c for _, c in totals}
    order += sorted(c for c in seen if c.startswith("reached:") and c not in order)
    order += [c for c in TAIL if c not in order]
    order += sorted(seen - set(order))
    return order


def format_table(totals: dict[tuple[str, str], int], first: date, last: date, questions: Iterable[str] = ()) -> str:
    platforms = sorted({p for p, _ in totals})
    rows = funnel_rows(totals, questions)
    header = ["step", *platforms, "total"]
    body = []
    for counter in rows:
        counts = [totals.get((p, counter), 0) for p in platforms]
        body.append([counter, *map(str, counts), str(sum(counts))])
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    title = f"Funnel {first} to {last} (anonymous daily counters, no user ids)"
    if not platforms:
        return f"{title}\nNo activity in this period."
    return "\n".join([title, line(header), *map(line, body)])


async def print_stats(
    settings: Settings, since: str | None, until: str | None, out: TextIO | None = None
) -> int:
    """Print the funnel for the date range; return the exit code."""
    out = out or sys.stdout
    today = SystemClock(settings.fake_now).now().date()
    try:
        first, last = date_range(since, until, today)
    except DateRangeError as exc:
        print(f"optout-bot stats: {exc}", file=sys.stderr)
        return 2
    try:
        # create=False: opening would create an empty database where the operator mistyped a path.
        storage = await open_backend(settings.database_url, create=False)
    except StorageError as exc:
        print(f"optout-bot stats: {exc}", file=sys.stderr)
        return 2
    try:
        totals = await storage.funnel(first, last)
    finally:
        await storage.close()
    print(format_table(totals, first, last, _question_order(settings)), file=out)
    return 0
