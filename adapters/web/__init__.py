"""The web chat: the guide in any browser, on aiohttp (already a dependency of the Telegram webhook)."""

from adapters.web.app import WebChat
from adapters.web.calendar import CalendarReminders
from adapters.web.platform import WebPlatform

__all__ = ["CalendarReminders", "WebChat", "WebPlatform"]
