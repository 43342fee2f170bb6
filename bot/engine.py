"""The session: neutral events in, neutral replies out, every step persisted first.

It does only this: take the person's lock, load (the person record and one row: bot/storage/base.py
``UserStore.load``), read the event once into a typed action (bot/actions.py), call the handler
registered for it (bot/conversation/: functions without I/O), run the effects the handler asks for,
and save, deciding again on fresh data when another process wrote the row meanwhile.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from bot import actions, commands, share, texts
from bot import button_data as data
from bot.actions import START, Action
from bot.clock import Clock
from bot.conversation import HANDLERS, PERSON_ROUTES
from bot.conversation.packs import PackView, node_parts, node_text, visible
from bot.conversation.registry import (
    ROWS,
    SCHEDULE,
    CancelReminders,
    Confirmed,
    Effect,
    Erase,
    FollowChanges,
    Needs,
    Planner,
    Result,
    Subscribe,
    Turn,
    answered,
)
from bot.events import Event, Message, Notice, Outcome, PlatformHints, Reply, UserKey
from bot.guide import Guide
from bot.i18n import EN, Lang, lang, person_language
from bot.locks import KeyedLocks
from bot.metrics import STEP_LATENCY
from bot.storage.base import Person, StaleStateError, UserState, UserStore

__all__ = ["Engine", "Reminders", "node_parts", "node_text", "visible"]

log = logging.getLogger(__name__)


class Reminders(Planner, Protocol):
    """What the engine needs from the reminder service (bot.reminders implements it): the handlers' pure
    ``offers`` and these effects."""

    async def subscribe(self, key: UserKey, offer: str, now: datetime, *, pack: str | None = None,
                        turned_off: bool = False, t: Lang = EN) -> str | None:
        """Schedule an offer; return the confirmation text, or None if the offer is not valid now."""
        ...

    async def describe(self, key: UserKey, now: datetime, *, pack: str | None = None, t: Lang = EN) -> str | None:
        """Return a sentence about what is scheduled for the user in a pack, or None when nothing is."""
        ...

    async def cancel(self, key: UserKey) -> int:
        """Cancel every reminder and change alert of the user, in every pack; return 0 if there was none."""
        ...

    async def follow_changes(self, key: UserKey, pack: str, now: datetime, *, t: Lang = EN) -> str:
        """Subscribe the user to a pack's change alerts; return the confirmation."""
        ...

    async def confirmed(self, key: UserKey, now: datetime, *, pack: str | None = None) -> None:
        """The user confirmed the setting is off: drop the "did it work?" check-in."""
        ...


@dataclass
class _Done:
    replies: list[Reply]
    person: Person
    pack: str  # the pack whose step the replies end on
    forgotten: bool = False


class Engine:
    """Serves one or more guide packs; the first is the default (the /start screen, unqualified old buttons)."""

    def __init__(
        self,
        guide: Guide | Sequence[Guide],
        storage: UserStore,
        clock: Clock,
        reminders: Reminders | None = None,
        retention_days: int = 180,
        hints: Mapping[str, PlatformHints] | None = None,
    ) -> None:
        guides = [guide] if isinstance(guide, Guide) else list(guide)
        self.guide = guides[0]
        self.pack = self.guide.pack
        # {platform: how it spells commands}; by default what the command table says for that front end.
        self.hints = dict(hints or {})
        self.retention_days = retention_days  # only told to users in /privacy; bot.retention enforces it
        self.storage = storage
        self.clock = clock
        self.reminders = reminders
        self._packs = {g.pack: PackView.of(g) for g in guides}
        self._locks: KeyedLocks[UserKey] = KeyedLocks()

    @property
    def packs(self) -> list[Guide]:
        return [p.guide for p in self._packs.values()]

    async def handle(self, key: UserKey, event: Event, locale: str | None = None) -> Outcome:
        """Apply one event of one user and return what to show; events of a user run one at a time.

        ``locale`` is the platform's language hint for the user, if it gave one; it is stored with their state.
        """
        started = time.perf_counter()
        action = actions.parse(event, self._packs, self.pack, self.guide.entries)
        async with self._locks.hold(key):
            try:
                outcome = await self._step(key, action, locale)
            except StaleStateError:
                # Another process wrote or erased this user's row since we read it: decide again on fresh data.
                log.info("user state changed under us; redoing the step")
                outcome = await self._step(key, action, locale)
        STEP_LATENCY.observe(time.perf_counter() - started)
        return outcome

    async def _step(self, key: UserKey, action: Action, locale: str | None) -> Outcome:
        now = self.clock.now()
        person, state = await self.storage.load(key, action.pack, self.pack)
        pack = action.pack or person.last_pack or self.pack
        if pack not in self._packs or (state is not None and state.pack != pack):
            pack = self.pack  # the pack they were in last is no longer served
            state = await self.storage.get_user(key, pack)
        done = await self._in_pack(key, pack, state, action, locale, now, person)
        return Outcome(done.replies, done.forgotten, done.pack)

    async def _in_pack(self, key: UserKey, pack: str, state: UserState | None, action: Action, locale: str | None,
                       now: datetime, person: Person) -> _Done:
        view = self._packs[pack]
        guide = view.guide
        person_level = action.route in PERSON_ROUTES
        fresh = state is None
        notices: list[Reply] = []
        if state is None:
            state = _new_state(key, guide, now)
            if len(self._packs) > 1:
                # A language chosen in another pack holds here too (it is on every row of the person).
                state.language = await self.storage.get_language(key)
        elif state.guide_version != guide.version or state.node not in view.nodes:
            old = state
            state = _new_state(key, guide, now, created=old.created_at)
            state.rev, state.locale, state.language = old.rev, old.locale, old.language
            if not person_level:
                notices.append(Notice(self._t(state)._(texts.GUIDE_UPDATED)))
                if action.kind and action.kind not in data.UNSTEPPED:
                    action = Action(START, pack)  # the button belonged to the old guide; a fresh start answers it
        if locale:
            state.locale = locale
        chosen_language = state.language
        t = self._t(state)
        if fresh and not person_level and not view.speaks(t.code):
            # Once per person and pack: their first step here says why the guide is in English.
            notices.append(Notice(t._(texts.ONLY_IN_ENGLISH)))
        turn = Turn(now, view, self._packs, person, t, self._hints(key.platform), self.retention_days,
                    self.reminders)
        result = await self._decide(state, action, turn)
        replies = [*notices, *result.replies]
        if result.effects:
            results = [await self._effect(e, key, pack, now, turn.t) for e in result.effects]
            if result.then is not None:
                replies += result.then(results)
        if result.forgotten:
            # After an erase nothing about the person may be written back.
            return _Done(replies, person, pack, forgotten=True)
        saved = result.state or state
        changed = result.person
        if result.state is not None or result.counters or (not person_level and (fresh or notices)):
            saved.updated_at = now
            # Every pack's funnel under one scheme: "claude/started", "chatgpt/started" (bot/stats.py reads
            # the unprefixed counters of older versions as the default pack's).
            counters = tuple(share.counter_name(pack, c) for c in result.counters + (("started",) if fresh else ()))
            await self.storage.save_step(saved, counters)
            if saved.language != chosen_language:
                # The choice holds in every pack: put it on the person's other rows too.
                await self.storage.set_language(key, saved.language)
            if (person.last_pack or self.pack) != pack:
                # (No pointer means the default pack: most people never need one written.)
                changed = replace(changed or person, last_pack=pack, updated_at=now)
        if changed is not None:
            person = changed
            await self.storage.save_person(person)
        if result.open is not None:
            opened = result.open
            target = await self.storage.get_user(key, opened.pack)
            more = await self._in_pack(key, opened.pack, target, opened.action, locale, now, person)
            person, pack = more.person, more.pack
            replies += _headed(opened.heading, more.replies)
        if result.chosen is not None:
            replies = answered(result.chosen, replies)
        return _Done(replies, person, pack)

    async def _decide(self, state: UserState, action: Action, turn: Turn) -> Result:
        """Call the action's handler on a copy of the state, loading the facts it asks for."""
        handler = HANDLERS.get(action.route) or HANDLERS["press:?" if action.is_press else "command:?"]
        while True:
            try:
                return handler(_copy(state), action, turn)
            except Needs as need:
                turn.facts[need.fact] = await self._fact(need.fact, state, turn)

    async def _fact(self, fact: str, state: UserState, turn: Turn) -> object:
        if fact == SCHEDULE:
            return await self.reminders.describe(state.key, turn.now, pack=turn.pack.pack, t=turn.t) if self.reminders else None
        if fact == ROWS:
            rows = {p: await self.storage.get_user(state.key, p) for p in self._packs if p != state.pack}
            return {state.pack: state} | {p: s for p, s in rows.items() if s is not None}
        raise ValueError(f"no such fact: {fact}")

    async def _effect(self, effect: Effect, key: UserKey, pack: str, now: datetime, t: Lang) -> object:
        reminders = self.reminders
        if isinstance(effect, Erase):
            await self.storage.forget_user(key)
            return None
        assert reminders is not None, "a handler asked for reminders where there are none"
        if isinstance(effect, Subscribe):
            return await reminders.subscribe(key, effect.offer, now, pack=pack, turned_off=effect.turned_off, t=t)
        if isinstance(effect, CancelReminders):
            return await reminders.cancel(key)
        if isinstance(effect, FollowChanges):
            return await reminders.follow_changes(key, pack, now, t=t)
        if isinstance(effect, Confirmed):
            await reminders.confirmed(key, now, pack=pack)
            return None
        raise TypeError(f"not an effect: {effect!r}")

    def _hints(self, platform: str) -> PlatformHints:
        return self.hints.get(platform) or commands.hints(platform)

    # Language ---------------------------------------------------------------------------------
    @staticmethod
    def language(state: UserState) -> str:
        """The person's language: their /language choice, else the platform's hint mapped to one we speak."""
        return person_language(state.language, state.locale)

    def _t(self, state: UserState) -> Lang:
        return lang(self.language(state))


def _new_state(key: UserKey, guide: Guide, now: datetime, created: datetime | None = None) -> UserState:
    return UserState(key=key, pack=guide.pack, guide_version=guide.version, node=guide.start, step=0,
                     created_at=created or now, updated_at=now)


def _copy(state: UserState) -> UserState:
    # The handler's own state to change: the history's entries are never changed in place, only replaced.
    # (Not dataclasses.replace, which runs __init__ again: a few per cent of a step.)
    copied = copy.copy(state)
    copied.answers, copied.history = dict(state.answers), list(state.history)
    return copied


def _headed(heading: str, replies: list[Reply]) -> list[Reply]:
    if not heading:
        return replies
    out = list(replies)
    for i, reply in enumerate(out):
        if isinstance(reply, Message):
            out[i] = Message(f"{heading}\n\n{reply.text}", reply.buttons)
            break
    return out
