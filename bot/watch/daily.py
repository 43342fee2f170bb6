"""``CONTENT_WATCH=daily``: the watch inside ``optout-bot run``, once a day, its summary in the operator chats.

As with the retention sweep (bot/retention.py), a lease decides which instance on a database fetches:
the first to try holds it for a day, so a fleet (or a deploy that restarts every instance) reads each
source once a day, and only one summary is posted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta

from bot.clock import Clock
from bot.daily import DailyJob
from bot.events import Message, Recipient
from bot.metrics import ERRORS
from bot.platform import Delivery, Outgoing, Platform
from bot.settings import Settings
from bot.storage.base import Coordination, SourceSnapshots
from bot.watch.watch import FIRST, SourceWatch, WatchedSource, WatchReport, pack_paths, watched_sources

log = logging.getLogger(__name__)

WATCH_EVERY = timedelta(days=1)
LEASE = "content-watch"
SEND_TRIES, SEND_RETRY = 3, timedelta(minutes=1)  # a passing platform failure is tried again
MESSAGE_MAX = 8000  # characters of summary posted (two Telegram messages); the log gets the rest


def operator_recipients(settings: Settings) -> list[Recipient]:
    """The chats that get the summary. Telegram sends to any chat id (a private chat's is the person's
    user id), which its adapter takes as a "user" recipient; Discord posts in a channel."""
    found = []
    if settings.operator_telegram_chat_id is not None:
        found.append(Recipient("telegram", "user", str(settings.operator_telegram_chat_id)))
    if settings.operator_discord_channel_id is not None:
        found.append(Recipient("discord", "channel", str(settings.operator_discord_channel_id)))
    return found


def operator_message(report: WatchReport) -> str | None:
    """The summary for the operator chat (the Markdown subset), or None when there is nothing to say."""
    first = report.of(FIRST)
    if not report.changed and not report.failed and not first:
        return None
    lines = [f"**Source watch**: {report.summary()}"]
    if first and not report.changed and not report.failed:
        lines.append("From now on, a change in a source's main text, or a source that cannot be read, is posted here.")
    for line in report.lines(diff_prefix="  ")[:-1]:
        # A diff's "-" lines must not read as list items; the minus sign keeps them plain text.
        lines.append("  \u2212" + line[3:] if line.startswith("  -") and not line.startswith("  ---") else line)
    text = "\n".join(lines)
    if len(text) > MESSAGE_MAX:
        kept = text[:MESSAGE_MAX].rsplit("\n", 1)[0]
        more = text.count("\n") - kept.count("\n")
        log.info("content watch: the full report:\n%s", text)
        lines = [kept, f"… {more} more line(s): the whole report is in the bot's log."]
    if report.changed:
        lines.append("Read the changed sources; if a fact moved, update the pack, bump its **version** and add a "
                     "**changes** note (README, \"From a watch report to a change alert\").")
    return "\n".join(lines)


class DailyWatch(DailyJob[WatchReport]):
    lease, kind = LEASE, "content_watch"
    held, failed = "content watch: another instance holds today's run", "content watch: run failed"
    log = log
    cancel_on_stop = True  # each snapshot is written on its own, so a run cut short leaves none half-done

    def __init__(self, watch: SourceWatch, sources: Callable[[], list[WatchedSource]], clock: Clock, *,
                 leases: Coordination, holder: str, platforms: Sequence[Platform], recipients: Sequence[Recipient],
                 every: timedelta = WATCH_EVERY) -> None:
        super().__init__(clock, every, leases=leases, holder=holder)
        self._watch = watch
        self._sources = sources  # read at each run, so that a pack edited (and the bot restarted) is followed
        self._platforms = platforms  # the started platforms (a list the root fills as they start)
        self._recipients = recipients

    async def once(self) -> WatchReport:
        """Watch every source and post the summary to the operator chats."""
        report = await self._watch.run(self._sources())
        text = operator_message(report)
        if text is not None:
            await self._post(text)
        return report

    async def _post(self, text: str) -> None:
        by_name = {p.name: p for p in self._platforms}
        if not self._recipients:
            log.warning("content watch: no OPERATOR_TELEGRAM_CHAT_ID or OPERATOR_DISCORD_CHANNEL_ID; the summary is "
                        "only in this log:\n%s", text)
        for recipient in self._recipients:
            platform = by_name.get(recipient.platform)
            if platform is None:
                log.warning("content watch: %s is not running; the summary for its operator chat is not sent",
                            recipient.platform)
                continue
            delivery = await platform.send(Outgoing(recipient, (Message(text),)))
            for _ in range(SEND_TRIES - 1):
                if delivery is not Delivery.FAILED:
                    break
                await self._clock.sleep_until(self._clock.now() + SEND_RETRY, self._stop)
                if self._stop.is_set():
                    break
                delivery = await platform.send(Outgoing(recipient, (Message(text),)))
            if delivery is not Delivery.SENT:
                # The snapshots already hold the new texts, so the log keeps the whole summary instead.
                ERRORS.labels(kind="content_watch").inc()
                log.warning("content watch: the summary could not be posted to the %s operator chat (%s):\n%s",
                            recipient.platform, delivery.value, text)


def daily_watch(settings: Settings, storage: SourceSnapshots, leases: Coordination, clock: Clock,
                platforms: Sequence[Platform]) -> DailyWatch | None:
    """The daily watch when CONTENT_WATCH=daily, else None."""
    if settings.content_watch != "daily":
        return None
    return DailyWatch(
        SourceWatch(storage, clock, timeout=settings.content_watch_timeout),
        lambda: watched_sources(pack_paths(settings.content_path)), clock, leases=leases,
        holder=settings.instance_name, platforms=platforms, recipients=operator_recipients(settings),
    )
