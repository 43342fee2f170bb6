"""Fair shares of the bot per person: each person's updates wait in their own short queue, not in a shared slot.

PTB hands each update to its update processor, which holds one of ``concurrent_updates`` shared slots
while the update is handled. A person's updates are handled one at a time (the handlers' per-user lock,
the engine's order) and their replies wait for their chat's limit of about one message a second; so
with PTB's own processor, one person who sent 200 texts held all 32 slots with updates that only
waited on him, and nobody else was answered. This processor only files an update in its person's
queue and returns the slot at once. Each person with work has one worker, which takes one of the
shared slots only to handle that person's next update: one person can hold at most one slot however
much they send, and waiting for their turn holds none.

A person has at most ``WAITING`` updates waiting behind the one being handled. Past that, a text or
command is dropped, with a short "one moment" notice at most every ``NOTICE_EVERY`` seconds; a button
press is answered with the same notice as a toast and dropped. A press repeating one that is already
waiting or being handled (same message, same button) is stale: that message is about to move on.
Drops are counted in ``optout_updates_dropped_total`` and logged at INFO at most once a minute per
person, never with what they sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from telegram import Bot, Chat, Update
from telegram.error import TelegramError
from telegram.ext import BaseUpdateProcessor

from bot.i18n import N_, choose_language, lang
from bot.metrics import UPDATES_DROPPED

log = logging.getLogger(__name__)

PLATFORM = "telegram"
# Updates a person may have waiting behind the one being handled. Small, so that a flood costs its sender
# a few seconds of replies at their chat's one message a second, not minutes; 5 rather than 3 so that a
# quick typist's few lines, or a small album (one update per photo), are all still answered.
WAITING = 5
NOTICE_EVERY = 5.0  # seconds between two "one moment" messages to one person
LOG_EVERY = 60.0  # seconds between two log lines about one person's dropped updates
# Answers to dropped presses and "one moment" notices sent at once. A flood of 200 presses is 200
# answerCallbackQuery calls; all at once they took every connection of PTB's pool, and other people's
# replies waited past the pool timeout (bench/fairness.py: bystanders' p99 2.9 s). A few at a time leave
# the pool to the replies.
NOTICES_AT_ONCE = 4
REMEMBERED = 4096  # people whose last notice and log line are remembered (idle ones are forgotten first)
BUSY = N_("One moment, please: I'm still answering your earlier messages.")
BUSY_REASON = "busy"  # the metric's reason for an update past the person's queue
STALE_REASON = "stale"  # ... and for a press repeating one already waiting

_PressKey = tuple[int, int, str]  # chat, message, button data


@dataclass
class _Person:
    waiting: deque[tuple[Update, Awaitable[Any]]] = field(default_factory=deque)  # the one being handled first
    presses: list[_PressKey] = field(default_factory=list)  # of the waiting updates and the one being handled
    worker: asyncio.Task[None] | None = None
    last_notice: float | None = None
    last_log: float | None = None
    dropped: int = 0  # since the last log line
    stale: int = 0


class PerPersonUpdates(BaseUpdateProcessor):
    """An update processor that queues each person's updates apart and runs ``max_concurrent_updates``
    of them at once, at most one per person."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._people: OrderedDict[int, _Person] = OrderedDict()
        self._bot: Bot | None = None
        self._tasks: set[asyncio.Task[None]] = set()  # workers and notices, awaited at shutdown
        self._notices = asyncio.Semaphore(NOTICES_AT_ONCE)

    def attach(self, bot: Bot) -> None:
        """Give the bot that sends the notices (built with the Application, after this processor)."""
        self._bot = bot

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        # The platform drains first (drain()); whatever is left when PTB shuts down is given up.
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def drain(self) -> None:
        """Wait until every queued update has been handled and every notice sent."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        user = update.effective_user if isinstance(update, Update) else None
        if user is None:
            async with self._slots:  # nobody's in particular (none arrive with the allowed update kinds)
                await coroutine
            return
        assert isinstance(update, Update)
        person = self._person(user.id)
        press = _press_key(update)
        droppable = update.message is not None or update.callback_query is not None
        if press is not None and press in person.presses:
            self._drop(update, coroutine, person, STALE_REASON)
        elif droppable and len(person.waiting) > WAITING:
            self._drop(update, coroutine, person, BUSY_REASON)
        else:
            person.waiting.append((update, coroutine))
            if press is not None:
                person.presses.append(press)
            if person.worker is None:
                person.worker = self._spawn(self._work(user.id, person))

    def _person(self, user_id: int) -> _Person:
        person = self._people.pop(user_id, None) or _Person()
        self._people[user_id] = person  # most recent last
        if len(self._people) > REMEMBERED:
            # Forget the longest idle person with nothing queued (their notice and log times only).
            for key, idle in self._people.items():
                if idle.worker is None and key != user_id:
                    del self._people[key]
                    break
        return person

    async def _work(self, user_id: int, person: _Person) -> None:
        try:
            while person.waiting:
                update, coroutine = person.waiting[0]
                try:
                    async with self._slots:
                        await coroutine
                except Exception:  # PTB's error handler has seen it; the next update must still run
                    log.debug("telegram: an update failed outside its handlers", exc_info=True)
                finally:
                    person.waiting.popleft()
                    press = _press_key(update)
                    if press is not None:
                        person.presses.remove(press)
        finally:
            person.worker = None
            while person.waiting:  # cancelled at shutdown: close what never ran, without a warning
                _close(person.waiting.popleft()[1])
            person.presses.clear()

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _drop(self, update: Update, coroutine: Awaitable[Any], person: _Person, reason: str) -> None:
        _close(coroutine)
        UPDATES_DROPPED.labels(PLATFORM, reason).inc()
        person.dropped += 1
        person.stale += reason == STALE_REASON
        now = asyncio.get_running_loop().time()
        if person.last_log is None or now - person.last_log >= LOG_EVERY:
            log.info("telegram: one person sends faster than they can be answered: %d update(s) dropped "
                     "(%d repeated press(es)) since the last line about them", person.dropped, person.stale)
            person.last_log, person.dropped, person.stale = now, 0, 0
        user = update.effective_user
        t = lang(choose_language(user.language_code if user else None))
        query = update.callback_query
        if query is not None:
            # Every press must be answered, or the client spins; a toast costs nothing of the chat's limit.
            self._spawn(self._quietly(query.answer(t._(BUSY))))
            return
        chat = update.effective_chat
        if chat is None or chat.type != Chat.PRIVATE or self._bot is None:
            return  # in a group the drop stays silent
        if person.last_notice is None or now - person.last_notice >= NOTICE_EVERY:
            person.last_notice = now
            self._spawn(self._quietly(self._bot.send_message(chat.id, t._(BUSY))))

    async def _quietly(self, call: Awaitable[object]) -> None:
        try:
            async with self._notices:
                await call
        except TelegramError as exc:  # a notice that cannot be delivered changes nothing
            log.debug("telegram: a 'one moment' notice failed (%s: %s)", type(exc).__name__, exc)


def _press_key(update: Update) -> _PressKey | None:
    query = update.callback_query
    if query is None or query.message is None:
        return None
    return (query.message.chat.id, query.message.message_id, query.data or "")


def _close(coroutine: Awaitable[Any]) -> None:
    if isinstance(coroutine, Coroutine):
        with contextlib.suppress(RuntimeError):
            coroutine.close()
