"""Telegram's flood limits: PTB's AIORateLimiter, with replies to people served before broadcasts.

Replies and reminders share one budget, Telegram's ~30 messages a second. PTB's limiter serves its
waiters first come, first served, so a press made during a 10,000-reminder broadcast would wait
behind every reminder already queued (the scheduler keeps 64 in flight: two seconds' worth). Here
the waiters take turns to ask PTB's limiter for the next slot, the most urgent first; the rate
itself, the 20-a-minute group limit and the waiting out of 429s stay PTB's. PTB has no limit for
one private chat; Telegram asks for about one message a second there, so that is added, in front.
With several instances on one database, each sends only its share of the 30 (bot/budget.py).
"""

from __future__ import annotations

import asyncio
import enum
import heapq
import itertools
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from aiolimiter import AsyncLimiter
from telegram.constants import FloodLimit
from telegram.ext import AIORateLimiter

if TYPE_CHECKING:
    from bot.budget import SharedBudget

OVERALL_RATE = float(FloodLimit.MESSAGES_PER_SECOND)  # 30
# At most this many messages at once after a quiet spell (PTB's default is a whole second's worth,
# 30). A full second's burst on top of a steady 30 a second is where Telegram answers 429, and a
# 429 halts every request for its retry_after (a second or more); a small burst keeps clear of it.
BURST = 5
RETRIES_429 = 3  # a request answered 429 is retried this many times, each after its retry_after
# One private chat: about one message a second, in bursts of up to this many. A walk through the
# guide is a message per press, so a person reading never meets it; someone hammering buttons, or a
# reminder in several parts, does, rather than draw a 429, which would halt every chat for its wait.
CHAT_RATE = 1.0
CHAT_BURST = 10
CHAT_LIMITERS_MAX = 4096  # recently used chats; one idle for CHAT_BURST seconds is full again anyway


class Priority(enum.IntEnum):
    """How urgent a rate-limited call is; passed per call as PTB's ``rate_limit_args``."""

    REPLY = 0  # someone is waiting for it (the default: PTB passes None)
    BROADCAST = 1  # reminders and announcements


class PriorityRateLimiter(AIORateLimiter):
    """AIORateLimiter whose waiting replies get the next free slot before waiting broadcasts."""

    __slots__ = ("_budget", "_chats", "_rate", "_share", "_share_of", "_turns")

    def __init__(self, budget: SharedBudget | None = None, overall_rate: float = OVERALL_RATE) -> None:
        super().__init__(overall_max_rate=BURST, overall_time_period=BURST / overall_rate, max_retries=RETRIES_429)
        self._rate = overall_rate  # TELEGRAM_MESSAGES_PER_SECOND
        self._turns = _Turns()
        self._chats: OrderedDict[int, AsyncLimiter] = OrderedDict()
        self._budget = budget
        self._share: AsyncLimiter | None = None  # this instance's part of the rate, when instances share it
        self._share_of = 1

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        try:
            chat_id = int(data["chat_id"])
        except (KeyError, TypeError, ValueError):  # no chat, or a @username (a group or channel)
            chat_id = -1
        if chat_id < 0:
            # Not counted against the overall limit (no chat: answerCallbackQuery, getMe...), or a
            # group, which first waits on its own 20-a-minute limiter: in the queue it would hold
            # everyone up. Groups are rare here (the bot only answers /start there).
            return await super().process_request(callback, args, kwargs, endpoint, data, None)
        # The chat's own limit first: a chat that must wait does not hold up the others' turns.
        await self._chat(chat_id).acquire()
        await self._turns.take(Priority.BROADCAST if rate_limit_args == Priority.BROADCAST else Priority.REPLY)
        passed = False
        try:
            share = await self._shared()
            if share is not None:
                await share.acquire()  # in turn: the most urgent waiter gets the next of this instance's slots
        except BaseException:
            self._turns.give()
            raise

        def pass_turn() -> None:
            nonlocal passed
            if not passed:
                passed = True
                self._turns.give()

        async def call(*call_args: Any, **call_kwargs: Any) -> bool | dict[str, Any] | list[dict[str, Any]]:
            # PTB calls this once it has granted the slot: the next waiter may ask for the next one.
            pass_turn()
            return await callback(*call_args, **call_kwargs)

        try:
            # None: the retries are this limiter's own (AIORateLimiter reads rate_limit_args as them).
            return await super().process_request(call, args, kwargs, endpoint, data, None)
        finally:
            pass_turn()

    async def _shared(self) -> AsyncLimiter | None:
        """This instance's limiter when other instances share the budget (None: PTB's overall limit suffices)."""
        budget = self._budget
        if budget is None:
            return None
        await budget.joined.wait()  # a newcomer waits until the others have made room for it
        if budget.members != self._share_of:
            # A new limiter at the new rate; waiters on the old one finish there, within a second.
            self._share_of = budget.members
            rate = budget.share(self._rate)
            burst = max(1, BURST // self._share_of)
            self._share = AsyncLimiter(burst, burst / rate) if self._share_of > 1 else None
        return self._share

    def _chat(self, chat_id: int) -> AsyncLimiter:
        limiter = self._chats.pop(chat_id, None) or AsyncLimiter(CHAT_BURST, CHAT_BURST / CHAT_RATE)
        self._chats[chat_id] = limiter
        if len(self._chats) > CHAT_LIMITERS_MAX:
            self._chats.popitem(last=False)
        return limiter


class _Turns:
    """One waiter at a time asks PTB's limiter for a slot; the next turn goes to the most urgent.

    A priority lock, not a rate: it only orders the callers of the one AIORateLimiter. asyncio has no
    priority lock, and a PriorityQueue of futures would need this same bookkeeping around it.
    """

    def __init__(self) -> None:
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._taken = False
        self._order = itertools.count()

    async def take(self, priority: int) -> None:
        if not self._taken:
            self._taken = True
            return
        turn = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (priority, next(self._order), turn))
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.give()  # handed the turn just as it was cancelled: pass it on
            raise

    def give(self) -> None:
        while self._waiting:
            _, _, turn = heapq.heappop(self._waiting)
            if not turn.done():
                turn.set_result(None)
                return
        self._taken = False
