"""``optout-bot stats``: the anonymous funnel per platform, from daily counters that hold no user ids,
then per guide pack: starts, results, "turned it off" confirmations, shares and today's alert subscribers.

Every pack's counters are stored as ``PACK/counter`` (bot/engine.py). Counters without a prefix were
written before that was so, by the default pack, and are read as its own; ``reminder_sent`` is counted
for every pack together.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import date, timedelta
from typing import TextIO

from bot.clock import SystemClock
from bot.content_check import pack_files
from bot.guide import GuideError, QuestionNode, load_guide
from bot.reminders.service import alert_subscribers
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


# The per-pack table: (column, the counter it sums).
PACK_COLUMNS = (("started", "started"), ("results", "got_steps"), ("turned_off", "confirmed_off"),
                # Passing guides on (bot/share.py): share buttons shown, cards or texts sent, starts from a
                # shared link, presses on a Discord Start panel.
                ("shares_offered", "share_offered"), ("shares_sent", "share_sent"), ("shared_starts", "shared_start"),
                ("panel_presses", "panel_press"))


def _question_order(settings: Settings) -> list[str]:
    # The guide only orders the rows; stats must still work when the guide file is broken or gone.
    try:
        guide = load_guide(settings.content_path)
    except GuideError:
        return []
    return [f"reached:{n.id}" for n in guide.nodes if isinstance(n, QuestionNode) and n.id != guide.start]


def _packs(settings: Settings) -> list[str]:
    """The default pack first, then the others beside it; whatever loads (a broken file is skipped)."""
    names = []
    for path in [settings.content_path, *pack_files(settings.content_path.parent)]:
        try:
            pack = load_guide(path).pack
        except GuideError:
            continue
        if pack not in names:
            names.append(pack)
    return names


def per_pack(totals: dict[tuple[str, str], int], default: str | None) -> dict[tuple[str, str], int]:
    """The counters under one scheme, ``PACK/counter``: unprefixed ones (from before every pack was
    prefixed) are the default pack's, added to its prefixed ones; ``reminder_sent`` stays as it is."""
    merged: dict[tuple[str, str], int] = {}
    for (platform, counter), n in totals.items():
        if "/" not in counter and counter not in GLOBAL and default:
            counter = f"{default}/{counter}"
        merged[(platform, counter)] = merged.get((platform, counter), 0) + n
    return merged


GLOBAL = frozenset({"reminder_sent"})


def own_funnel(totals: dict[tuple[str, str], int], pack: str | None) -> dict[tuple[str, str], int]:
    """One pack's funnel with the prefix taken off (and the counters kept for every pack together)."""
    prefix = f"{pack}/"
    return {(p, c.removeprefix(prefix)): n for (p, c), n in totals.items() if c.startswith(prefix) or c in GLOBAL}


def format_packs(totals: dict[tuple[str, str], int], packs: list[str], subscribers: dict[str, int],
                 first: date, last: date) -> str:
    """One row per pack, every platform together; packs found only in the counters come last."""
    totals = per_pack(totals, packs[0] if packs else None)
    seen = {c.split("/", 1)[0] for _, c in totals if "/" in c}
    rows = [*packs, *sorted(seen - set(packs))]

    def total(pack: str, counter: str) -> int:
        name = f"{pack}/{counter}"
        return sum(n for (_, c), n in totals.items() if c == name)

    header = ["pack", *(col for col, _ in PACK_COLUMNS), "alert_subscribers"]
    body = [[pack, *(str(total(pack, c)) for _, c in PACK_COLUMNS), str(subscribers.get(pack, 0))] for pack in rows]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))

    title = f"Guide packs {first} to {last}, every platform (alert subscribers: now)"
    return "\n".join([title, line(header), *map(line, body)])


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
    packs = _packs(settings)
    try:
        totals = await storage.funnel(first, last)
        # Counted now from the subscriptions themselves: a number, never who.
        subscribers = await alert_subscribers(storage, packs)
    finally:
        await storage.close()
    # The funnel above is the default pack's; the others' counters are summed in the table below.
    default = packs[0] if packs else None
    own = own_funnel(per_pack(totals, default), default)
    print(format_table(own, first, last, _question_order(settings)), file=out)
    print(file=out)
    print(format_packs(totals, packs, subscribers, first, last), file=out)
    return 0
