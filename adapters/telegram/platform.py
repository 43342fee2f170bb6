"""The Telegram platform: the PTB Application's lifecycle, unprompted sends and their rate limits."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from telegram import BotCommand, Update
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ApplicationBuilder, ApplicationHandlerStop, ContextTypes, TypeHandler

from adapters.telegram import log_privacy
from adapters.telegram.fairness import PerPersonUpdates
from adapters.telegram.handlers import TelegramHandlers
from adapters.telegram.rate_limits import PriorityRateLimiter
from adapters.telegram.send_transport import AiohttpRequest
from adapters.telegram.sending import UnpromptedBot, send_unprompted
from bot import commands
from bot.i18n import ENGLISH, LANGUAGES, lang
from bot.logs import redact
from bot.platform import Delivery, Outgoing, PlatformError

if TYPE_CHECKING:
    from bot.budget import SharedBudget
    from bot.clock import Clock
    from bot.engine import Engine
    from bot.reminders.service import ReminderService
    from bot.settings import Settings
    from bot.storage.base import Coordination

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
# Updates of different users in flight at once, at most one per person (fairness.py keeps each person's
# in their own queue, in order),
# and HTTP connections to the Bot API. httpcore scans its pool and its queue of waiting requests on
# every request, so PTB's defaults (256 of each) cost more CPU than they save under load: with
# bench/telegram_updates.py, 32/16 handled 25-100 % more updates a second than 256/256. That is
# still far above what Telegram allows a bot to send (30 messages a second).
CONCURRENT_UPDATES = 32
CONNECTION_POOL = 16
POLL_TIMEOUT = 10  # seconds a getUpdates long poll may wait
# How long a webhook update's id is remembered across instances. Telegram re-sends an update whose POST
# was not answered 2xx within seconds to minutes, and behind a load balancer the retry may reach another
# instance; an hour covers that with room to spare and keeps the table small.
UPDATE_CLAIM_KEEP = timedelta(hours=1)
CONFLICT = ("TELEGRAM_BOT_TOKEN: another instance is already fetching updates with this token (getUpdates: 409"
            " Conflict); run one instance with long polling, or several in webhook mode (TELEGRAM_WEBHOOK_URL)")


def _not_a_conflict_cleanup(record: logging.LogRecord) -> bool:
    # On stop PTB confirms the last fetched updates with one more getUpdates. After a 409 Conflict that
    # call is refused too, and PTB logs the refusal with a traceback; the one line about the conflict
    # has said it all, and the other instance confirms its own updates.
    return not (record.exc_info and isinstance(record.exc_info[1], Conflict))


class TelegramPlatform:
    """Run the bot on Telegram with python-telegram-bot, by long polling or a webhook."""

    name = "telegram"

    def __init__(self, settings: Settings, engine: Engine, reminders: ReminderService, *, unprompted_in_flight: int,
                 updates: Coordination | None = None, clock: Clock | None = None,
                 budget: SharedBudget | None = None) -> None:
        """``updates`` (with ``clock``): where instances sharing a database claim webhook updates, so each is handled once.

        ``budget``: this instance's share of the bot's 30 messages a second, when instances share the token.
        """
        self.settings = settings
        self._updates = updates
        self._clock = clock
        self._failure: asyncio.Future[str] | None = None
        # Unprompted sends get their own connections, one per message the scheduler keeps in flight: they
        # never wait for a connection, and a burst of reminders never holds up the replies to people chatting.
        self._send_connections = unprompted_in_flight
        self.engine = engine
        self.reminders = reminders
        self._app: Application | None = None
        self._sender: UnpromptedBot | None = None  # unprompted sends: the same token, the aiohttp transport
        self._limit = self.settings.telegram_rate_limit
        self._updates_in: PerPersonUpdates | None = None
        self._budget = budget

    # Lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        """Check the token (getMe), set the command menu, and start polling or the webhook."""
        settings = self.settings
        if settings.telegram_bot_token is None:
            raise PlatformError("TELEGRAM_BOT_TOKEN: not set")
        token = settings.telegram_bot_token.get_secret_value()
        # Settings has checked the secret's shape, and that a webhook URL comes with one.
        secret = settings.telegram_webhook_secret.get_secret_value() if settings.telegram_webhook_secret else None
        log_privacy.install()
        logging.getLogger("telegram.ext.Updater").addFilter(_not_a_conflict_cleanup)  # once: addFilter skips a repeat

        self._updates_in = PerPersonUpdates(CONCURRENT_UPDATES)
        builder = (
            ApplicationBuilder()
            .token(token)
            .base_url(settings.telegram_api_base_url.rstrip("/"))
            .concurrent_updates(self._updates_in)
            .get_updates_read_timeout(POLL_TIMEOUT + 5)
            .connection_pool_size(CONNECTION_POOL)
        )
        if self._limit:
            # TELEGRAM_MESSAGES_PER_SECOND overall (Telegram's is 30; and 20 a minute per group), replies before
            # broadcasts; 429s are waited out.
            builder = builder.rate_limiter(PriorityRateLimiter(self._budget, settings.telegram_messages_per_second))
        app = builder.build()
        self._updates_in.attach(app.bot)
        if settings.telegram_webhook_url and self._updates is not None:
            # Before every other handler (group -1): a repeated update stops here.
            app.add_handler(TypeHandler(Update, self._once), group=-1)
        TelegramHandlers(self.engine, self.reminders).install(app)
        self._failure = asyncio.get_running_loop().create_future()
        self._app = app
        transport = AiohttpRequest(settings.telegram_api_base_url, self._send_connections, token)
        # A second bot object, not a second limit: it shares the Application's rate limiter, so
        # replies and reminders together stay within Telegram's 30 messages a second, and its
        # sends are marked as broadcasts, which wait while replies to people are due.
        self._sender = UnpromptedBot(
            token, base_url=settings.telegram_api_base_url.rstrip("/"), request=transport,
            get_updates_request=transport, rate_limiter=app.bot.rate_limiter,
        )
        try:
            if self._budget is not None and self._limit:
                await self._budget.start()
            await app.initialize()  # getMe: proves the token
            await self._sender.initialize()
        except InvalidToken:
            await self._abandon()
            raise PlatformError("TELEGRAM_BOT_TOKEN: Telegram rejected the token (getMe: 401 Unauthorized); "
                                "copy it again from @BotFather") from None
        except TelegramError as exc:
            await self._abandon()
            raise PlatformError(
                f"TELEGRAM_BOT_TOKEN: could not be checked: the Bot API at {self._api_host()} did not answer "
                f"({self._redact(str(exc))}); check the network or TELEGRAM_API_BASE_URL"
            ) from None
        try:
            await self._set_menu(app)
            if settings.telegram_webhook_url:
                url = str(settings.telegram_webhook_url)
                await app.updater.start_webhook(  # type: ignore[union-attr]
                    listen=settings.telegram_webhook_listen,
                    port=settings.telegram_webhook_port,
                    url_path=urlsplit(url).path.lstrip("/"),
                    webhook_url=url,
                    secret_token=secret,
                    allowed_updates=ALLOWED_UPDATES,
                )
                log.info("telegram: webhook listening on %s:%d", settings.telegram_webhook_listen,
                         settings.telegram_webhook_port)
            else:
                await app.updater.start_polling(  # type: ignore[union-attr]
                    timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES, error_callback=self._polling_error
                )
            await app.start()
        except (TelegramError, OSError) as exc:
            await self._abandon()
            where = (
                f"TELEGRAM_WEBHOOK_URL: could not start the webhook on {settings.telegram_webhook_listen}:"
                f"{settings.telegram_webhook_port}" if settings.telegram_webhook_url
                else "TELEGRAM_API_BASE_URL: could not start polling"
            )
            raise PlatformError(f"{where} ({self._redact(str(exc))})") from None
        log.info("telegram: running as @%s", app.bot.username)

    @property
    def username(self) -> str | None:
        """The bot's @name once started (for deep links from the web chat); None before."""
        app = self._app
        return app.bot.username if app is not None and app.running else None

    async def stop(self) -> None:
        """Stop fetching updates, let the ones in flight finish, then close the connections."""
        app = self._app
        if app is None:
            return
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()  # hands the updates fetched to their people's queues
        if self._updates_in is not None:
            await self._updates_in.drain()  # the queued updates are handled before the bot closes
        await app.shutdown()
        self._app = None
        await self._close_sender()
        if self._budget is not None:
            await self._budget.stop()

    def ready(self) -> bool:
        """Tell whether updates are being received."""
        app = self._app
        return bool(app and app.running and app.updater and app.updater.running)

    async def _abandon(self) -> None:
        app, self._app = self._app, None
        try:
            if app is not None:
                if app.updater is not None and app.updater.running:
                    await app.updater.stop()
                await app.shutdown()
            await self._close_sender()
            if self._budget is not None:
                await self._budget.stop()
        except Exception:  # the start already failed; the reason to report is that one
            log.debug("telegram: clean-up after a failed start failed", exc_info=True)

    async def _close_sender(self) -> None:
        sender, self._sender = self._sender, None
        if sender is not None:
            await sender.shutdown()

    async def _set_menu(self, app: Application) -> None:
        try:
            # One menu per language: Telegram shows users the one for their app's language_code (ISO 639-1,
            # so Brazilian Portuguese is "pt"), and the one without a code to everyone else.
            for code in LANGUAGES:
                menu = commands.menu(commands.TELEGRAM, t=lang(code))
                await app.bot.set_my_commands([BotCommand(name, text) for name, text in menu],
                                              language_code=None if code == ENGLISH else code.split("_")[0])
        except TelegramError as exc:
            # The bot works without the menu; users can still type the commands.
            log.warning("telegram: could not set the command menu (%s)", self._redact(str(exc)))

    async def failed(self) -> str:
        """Wait until the platform gives up for good while running; return the one line saying why."""
        assert self._failure is not None, "not started"
        return await asyncio.shield(self._failure)

    async def _once(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Let an update through only on the first instance to claim its update_id."""
        assert self._updates is not None and self._clock is not None
        try:
            first = await self._updates.claim_update(self.name, update.update_id, self._clock.now(), UPDATE_CLAIM_KEEP)
        except Exception as exc:
            # Handling an update twice (a repeated reply) is better than not at all.
            log.warning("telegram: could not check update %d against the other instances (%s); handling it",
                        update.update_id, exc)
            return
        if not first:
            log.info("telegram: update %d was already handled by another instance; skipped", update.update_id)
            raise ApplicationHandlerStop

    def _polling_error(self, exc: TelegramError) -> None:
        if isinstance(exc, Conflict):
            # Two pollers would take turns stealing each other's updates (each poll ends the other's);
            # give up and say why instead of fighting. Long polling is for one instance.
            if self._failure is not None and not self._failure.done():
                self._failure.set_result(CONFLICT)
            return
        # PTB retries with backoff after calling this; one line instead of its default traceback.
        log.warning("telegram: fetching updates failed (%s: %s); retrying", type(exc).__name__, self._redact(str(exc)))

    def _api_host(self) -> str:
        parts = urlsplit(self.settings.telegram_api_base_url)
        return redact(f"{parts.scheme}://{parts.netloc}")  # without a user:password@

    def _redact(self, text: str) -> str:
        # These messages also reach stderr through print(), outside the logging filter.
        token = self.settings.telegram_bot_token
        return redact(text, token.get_secret_value()) if token else redact(text)

    # Unprompted messages ---------------------------------------------------------------------
    async def send(self, message: Outgoing) -> Delivery:
        """Send an unprompted message (a reminder) within the per-chat and overall limits (rate_limits.py)."""
        app, sender = self._app, self._sender
        if app is None or not app.running or sender is None:
            return Delivery.FAILED
        try:
            if message.recipient.kind != "user":
                raise ValueError("private chats only")
            chat_id = int(message.recipient.id)
        except ValueError:
            log.warning("telegram: cannot send to %r: not a Telegram chat id", message.recipient)
            return Delivery.UNREACHABLE
        try:
            for reply in message.replies:
                await send_unprompted(sender, chat_id, reply)
        except Forbidden:
            log.info("telegram: a reminder could not be delivered: the user blocked the bot")
            log.debug("telegram: blocked by user %s", chat_id)
            return Delivery.UNREACHABLE
        except BadRequest as exc:
            if "chat not found" in exc.message.lower() or "user is deactivated" in exc.message.lower():
                log.info("telegram: a reminder could not be delivered: the chat no longer exists")
                return Delivery.UNREACHABLE
            log.error("telegram: a reminder was refused (%s)", exc.message)
            return Delivery.FAILED
        except (NetworkError, RetryAfter) as exc:
            log.warning("telegram: a reminder could not be sent (%s); it will be tried again", type(exc).__name__)
            return Delivery.FAILED
        return Delivery.SENT
