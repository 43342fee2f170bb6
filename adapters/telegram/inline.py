"""Sharing a guide from Telegram, through inline mode.

Why inline mode and not a ``t.me/share/url`` link: the share button
(``switch_inline_query_chosen_chat``) opens Telegram's own chat picker, and the friend then receives
a card the bot writes, one sentence naming the assistant and its setting, with a button that opens
the bot at that guide. With ``t.me/share/url`` the friend would get the sharer's own message with a
bare link and no button, the bot could not count what was sent, and ``@bot chatgpt`` typed in any chat
would find nothing. Inline mode has to be switched on once with @BotFather (``/setinline``); a bot
without it gets the ``t.me/share/url`` link instead, and the operator a log line saying so.

The card holds nothing about the sharer (no answers, no name): it is the same for everyone who
shares a pack in one language.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import quote

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, ChosenInlineResultHandler, ContextTypes, InlineQueryHandler

from adapters.telegram.render import MESSAGE_LIMIT, render_chunks
from bot.events import Button, Reply
from bot.i18n import choose_language, lang
from bot.metrics import UPDATES
from bot.share import SENT, Card, Sharing, payload

log = logging.getLogger(__name__)

PLATFORM = "telegram"
RESULTS_MAX = 50  # answerInlineQuery takes at most 50 results
# Telegram may cache an answer this long; cards change only with a deploy. Personal: each person gets
# the cards in their own language.
CACHE_SECONDS = 300


def deep_link(username: str, payload: str) -> str:
    return f"https://t.me/{username}?start={payload}"


def share_link(username: str, pack: str) -> str:
    """The fallback without inline mode: Telegram's share page with the deep link to the pack."""
    return f"https://t.me/share/url?url={quote(deep_link(username, payload(pack)), safe='')}"


def without_inline_mode(replies: Sequence[Reply], username: str) -> list[Reply]:
    """Turn the share buttons into ``t.me/share/url`` links, for a bot whose inline mode is off."""
    changed = []
    for reply in replies:
        if any(b.share for row in reply.buttons for b in row):
            rows = tuple(
                tuple(Button(b.label, b.data, url=share_link(username, b.share)) if b.share else b for b in row)
                for row in reply.buttons
            )
            reply = replace(reply, buttons=rows)
        changed.append(reply)
    return changed


class InlineSharing:
    """Answers inline queries with one card per matching pack, and counts the cards sent."""

    def __init__(self, sharing: Sharing, *, feedback: bool) -> None:
        self.sharing = sharing
        # With Telegram's inline feedback on, chosen_inline_result says which card was sent.
        self.feedback = feedback

    def install(self, app: Application) -> None:
        app.add_handler(InlineQueryHandler(self.query))
        app.add_handler(ChosenInlineResultHandler(self.chosen))

    def article(self, card: Card, username: str) -> InlineQueryResultArticle:
        text = render_chunks(card.text, MESSAGE_LIMIT)[0]
        return InlineQueryResultArticle(
            id=card.pack,
            title=card.title,
            description=card.description,
            input_message_content=InputTextMessageContent(text, parse_mode=ParseMode.HTML),
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton(card.button, url=deep_link(username, card.payload))]]),
        )

    async def query(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Answer ``@bot chatgpt`` (or the share button's query) with the cards of the packs it names."""
        query = update.inline_query
        assert query is not None
        # In the sharer's language: the friend's is not known until they open the bot.
        t = lang(choose_language(query.from_user.language_code))
        packs = self.sharing.matching(query.query)[:RESULTS_MAX]
        username = context.bot.username
        results = [self.article(self.sharing.card(pack, t), username) for pack in packs]
        try:
            await query.answer(results, cache_time=CACHE_SECONDS, is_personal=True)
        except TelegramError as exc:
            UPDATES.labels(PLATFORM, "failed").inc()
            log.warning("telegram: could not answer an inline query (%s: %s)", type(exc).__name__, exc)
            return
        typed = query.query.strip().lower()
        if not self.feedback and typed in self.sharing.packs:
            # Without feedback, a card answered for the share button's own query (the pack's id) is
            # counted as sent; queries typed letter by letter ("c", "ch", ...) would count many times.
            await self.sharing.count(PLATFORM, typed, SENT)

    async def chosen(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Count a card sent (Telegram's inline feedback); nothing about who sent it is kept."""
        result = update.chosen_inline_result
        assert result is not None
        if self.feedback and result.result_id in self.sharing.packs:
            await self.sharing.count(PLATFORM, result.result_id, SENT)
