"""The composition root: build the core's services once, hand each adapter the ports it needs, run, stop.

The only module that imports both the core (``bot``) and the adapters; everything else in ``bot`` stays
unaware of which platforms exist, and each adapter sees only what its constructor takes.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.budget import SharedBudget
from bot.clock import Clock, SystemClock
from bot.content_check import check_guide, pack_files
from bot.engine import Engine
from bot.events import PlatformHints
from bot.guide import Guide, GuideError, load_guide
from bot.health import HealthServer
from bot.metrics import ERRORS
from bot.platform import Platform, PlatformError
from bot.reminders.scheduler import MAX_IN_FLIGHT, Scheduler
from bot.reminders.service import ReminderService
from bot.retention import RetentionSweeper
from bot.settings import Settings
from bot.share import Sharing
from bot.storage import Storage, open_backend
from bot.watch.daily import daily_watch

log = logging.getLogger(__name__)

# Seconds for the platforms to finish the steps in flight. With the scheduler's 2 s and the health
# server's 1 s, the whole stop stays inside the 10 s Docker (and the issue) allow.
SHUTDOWN_GRACE = 6.5
PLATFORM_START_TIMEOUT = 30.0  # seconds; an unreachable API must end in a clear line, not a hang


class StartupError(Exception):
    """Something the operator must fix before the bot can run; str() is one line."""


@dataclass
class Services:
    """The core's parts, built once; the root hands each adapter its share, never the whole bag."""

    settings: Settings
    guide: Guide
    storage: Storage
    clock: Clock
    engine: Engine
    reminders: ReminderService
    sharing: Sharing | None = None


def load_checked_guide(settings: Settings) -> Guide:
    try:
        guide = load_guide(settings.content_path)
    except GuideError as exc:
        raise StartupError(f"CONTENT_PATH: the guide is not valid ({str(exc).splitlines()[0]})") from None
    problems = check_guide(guide, settings.content_path)
    if problems:
        raise StartupError(
            f"CONTENT_PATH: the guide fails `optout-bot content check` ({problems[0]}"
            f"{f' and {len(problems) - 1} more' if len(problems) > 1 else ''})"
        )
    return guide


def load_packs(settings: Settings) -> list[Guide]:
    """The default guide (CONTENT_PATH) first, then every other pack beside it, each checked like it."""
    default = load_checked_guide(settings)
    packs = [default]
    for path in pack_files(settings.content_path.parent):
        if path.resolve() == settings.content_path.resolve():
            continue
        try:
            guide = load_guide(path)
        except GuideError as exc:
            raise StartupError(f"{path.name}: the guide pack is not valid ({str(exc).splitlines()[0]})") from None
        problems = check_guide(guide, path)
        if problems:
            raise StartupError(f"{path.name}: the guide pack fails `optout-bot content check` ({problems[0]})")
        if guide.pack in {p.pack for p in packs}:
            raise StartupError(f"{path.name}: a second pack named {guide.pack!r}")
        packs.append(guide)
    return packs


def platform_hints(settings: Settings) -> dict[str, PlatformHints]:
    """Collect how each configured platform spells its commands (imported lazily, as in create_platforms)."""
    hints: dict[str, PlatformHints] = {}
    if settings.telegram_bot_token:
        from adapters.telegram.handlers import HINTS as telegram

        hints["telegram"] = telegram
    if settings.discord_bot_token:
        from adapters.discord.commands import HINTS as discord

        hints["discord"] = discord
    return hints


async def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    packs = load_packs(settings)
    guide = packs[0]
    clock = clock or SystemClock(settings.fake_now)
    storage = await open_backend(settings.database_url)
    hints = platform_hints(settings)
    reminders = ReminderService(storage, storage, packs, clock, hints=hints)
    engine = Engine(packs, storage, clock, reminders=reminders, retention_days=settings.retention_days, hints=hints)
    sharing = Sharing(packs, storage, clock)
    return Services(settings=settings, guide=guide, storage=storage, clock=clock, engine=engine, reminders=reminders,
                    sharing=sharing)


def terminal_engine(services: Services) -> Engine:
    """Return an engine for the terminal chat: the same guide and database, but no reminders,
    since nothing could deliver them to a terminal (it says so instead of offering them)."""
    return Engine(services.engine.packs, services.storage, services.clock, retention_days=services.settings.retention_days)


def create_platforms(services: Services) -> list[Platform]:
    settings = services.settings
    platforms: list[Platform] = []
    # Imported here so that a deployment with one platform never loads the other's library.
    if settings.telegram_bot_token:
        # PTB 22's documented opt-in to PTB 23's RetryAfter.retry_after as a timedelta; without it PTB
        # warns on every 429 it handles, from inside its own request path. This process runs one bot,
        # so its environment is the root's to set. tests/telegram/test_library_seams.py fails once
        # PTB 23 makes it the default (then drop this line).
        os.environ.setdefault("PTB_TIMEDELTA", "1")
        from adapters.telegram import TelegramPlatform

        # Telegram's 30 messages a second are the bot's (its token's), split among the instances sending with it.
        bot_id = settings.telegram_bot_token.get_secret_value().split(":", 1)[0]
        budget = SharedBudget(services.storage, f"telegram:{bot_id}", settings.instance_name)
        platforms.append(TelegramPlatform(settings, services.engine, services.reminders, unprompted_in_flight=MAX_IN_FLIGHT,
                                          updates=services.storage, clock=services.clock, budget=budget,
                                          sharing=services.sharing))
    if settings.discord_bot_token:
        from adapters.discord import DiscordPlatform

        platforms.append(
            DiscordPlatform(settings, services.engine, services.reminders, services.storage, services.clock,
                            sharing=services.sharing)
        )
    if settings.web_port:
        platforms.append(web_platform(services, platforms))
    return platforms


def web_platform(services: Services, others: list[Platform]) -> Platform:
    """The web chat: its own engine on the same packs and database, whose reminders are calendar files
    (a page cannot be messaged later), and the Telegram deep link once that bot knows its name."""
    from adapters.web import CalendarReminders, WebChat, WebPlatform

    settings = services.settings
    calendar = CalendarReminders(services.reminders.offers, services.reminders.calendar)
    engine = Engine(services.engine.packs, services.storage, services.clock, reminders=calendar,
                    retention_days=settings.retention_days, hints=services.engine.hints)
    telegram = next((p for p in others if p.name == "telegram"), None)

    def telegram_link(pack: str) -> str | None:
        username = getattr(telegram, "username", None)
        if not username:
            return None
        from adapters.telegram.inline import deep_link  # Telegram runs, so its adapter is loaded already

        return deep_link(username, pack)

    chat = WebChat(engine, calendar, services.clock, retention_days=settings.retention_days,
                   session_per_minute=settings.web_session_per_minute, ip_per_minute=settings.web_ip_per_minute,
                   trust_forwarded=settings.web_trust_forwarded, telegram_link=telegram_link)
    return WebPlatform(chat, settings.web_host, settings.web_port or 0)


async def serve(services: Services, platforms: list[Platform]) -> int:
    """Run the given platforms until SIGTERM or Ctrl-C; return the process exit code."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    # Filled as the platforms start; the health server reads it at each /readyz.
    started: list[Platform] = []
    health = None
    if services.settings.health_port:
        health = HealthServer(services.settings.health_host, services.settings.health_port, services.storage, started,
                              instance=services.settings.instance_name)
        try:
            await health.start()
        except OSError as exc:
            raise StartupError(
                f"HEALTH_PORT: cannot listen on {services.settings.health_host}:{services.settings.health_port}"
                f" ({exc.strerror or exc}); pick a free port or 0 to turn the health server off"
            ) from None
    retention = RetentionSweeper(services.storage, services.clock, services.settings.retention_days,
                                 leases=services.storage, holder=services.settings.instance_name)
    retention.start()

    failures: list[str] = []
    gave_up: str | None = None
    scheduler: Scheduler | None = None
    scheduler_task: asyncio.Task[None] | None = None
    watch = None
    try:
        for platform in platforms:
            try:
                await asyncio.wait_for(platform.start(), PLATFORM_START_TIMEOUT)
            except PlatformError as exc:
                failures.append(f"{platform.name}: {exc}")
                continue
            except TimeoutError:
                failures.append(f"{platform.name}: no answer within {PLATFORM_START_TIMEOUT:.0f} s; is its API reachable?")
                continue
            except Exception as exc:
                # An adapter bug or an unforeseen library error: one line for the operator, details at DEBUG.
                log.debug("%s: start failed", platform.name, exc_info=True)
                failures.append(f"{platform.name}: could not start ({type(exc).__name__}: {exc})")
                continue
            log.info("%s: running", platform.name)
            started.append(platform)
        if not started:
            # The operator reads this once, on stderr, as the reason for the exit.
            raise StartupError("; ".join(failures) or "no platform to run")
        for failure in failures:
            # One platform failing must not take the other down.
            log.error("%s (the other platforms keep running)", failure)
            ERRORS.labels("platform_start").inc()
        # Started after the platforms, so that due reminders have somewhere to go.
        scheduler = Scheduler.for_service(services.reminders, {p.name: p for p in started},
                                          lease=timedelta(seconds=services.settings.reminder_lease_seconds))
        scheduler_task = asyncio.create_task(scheduler.run(), name="reminders")
        # CONTENT_WATCH=daily: once a day, on one instance, the sources' changes to the operator chats.
        watch = daily_watch(services.settings, services.storage, services.storage, services.clock, started)
        if watch is not None:
            watch.start()
        # A platform that gives up while running (another instance polls Telegram) ends the process with
        # its one line, after the same clean stop as SIGTERM.
        waits = [asyncio.create_task(stop.wait()), *(asyncio.create_task(p.failed()) for p in started)]
        done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for task in waits:
            task.cancel()
        gave_up = next((t.result() for t in done if t is not waits[0] and t.exception() is None), None)
        log.info("stopping: no new updates; finishing the steps in flight")
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        if watch is not None:
            await watch.stop()
        if scheduler is not None and scheduler_task is not None:
            # First, so that no reminder is claimed while its platform is shutting down.
            try:
                await asyncio.wait_for(scheduler.stop(), 2.0)
            except Exception:
                log.exception("reminders: the scheduler did not stop cleanly")
            scheduler_task.cancel()  # a no-op once it has ended
        for platform in started:
            try:
                await asyncio.wait_for(platform.stop(), SHUTDOWN_GRACE / len(started))
            except Exception:
                log.exception("%s: did not stop cleanly", platform.name)
        await retention.stop()
        if health is not None:
            await health.stop()
    if gave_up is not None:
        raise StartupError(gave_up)  # printed as the process's one line, exit code 2
    return 0


async def run(settings: Settings) -> int:
    """``optout-bot run``: every platform whose token (or WEB_PORT) is set, or the terminal chat when none is."""
    services = await build_services(settings)
    try:
        platforms = create_platforms(services)
        if not platforms:
            # A log line, not a print, so that LOG_FORMAT=json keeps stderr one JSON object per line.
            log.warning("no TELEGRAM_BOT_TOKEN, DISCORD_BOT_TOKEN or WEB_PORT is set: opening the terminal chat")
            from adapters.console import ConsoleChat

            await ConsoleChat(terminal_engine(services)).run()
            return 0
        return await serve(services, platforms)
    finally:
        await services.storage.close()


async def chat(settings: Settings, start: datetime | None, pack: str | None = None) -> int:
    """``optout-bot chat``: the guide in this terminal, its clock started at ``start`` when given."""
    from adapters.console import ConsoleChat

    services = await build_services(settings, clock=SystemClock(start or settings.fake_now))
    try:
        engine = terminal_engine(services)
        if pack is not None and pack not in {g.pack for g in engine.packs}:
            raise StartupError(f"--pack: no guide pack {pack!r} (there are: {', '.join(g.pack for g in engine.packs)})")
        await ConsoleChat(engine, entry=pack).run()
    finally:
        await services.storage.close()
    return 0
