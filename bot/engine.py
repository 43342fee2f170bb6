"""The conversation engine: neutral events in, neutral replies out, every step persisted first.

Button data is built and read by ``bot.button_data`` (its grammar is documented there).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from bot import button_data as data
from bot import share, texts
from bot.clock import Clock
from bot.events import Button, Command, Event, Outcome, PlatformHints, Press, Reply, Start, Text, UserKey
from bot.guide import Guide, InfoNode, Option, QuestionNode, ResultNode, When, fill_placeholders, placeholders
from bot.i18n import EN, LANGUAGES, NAMES, Lang, lang, person_language
from bot.locks import KeyedLocks
from bot.metrics import STEP_LATENCY
from bot.storage.base import StaleStateError, UserState, UserStore

log = logging.getLogger(__name__)

DEFAULT_HINTS = PlatformHints()
# "Check all my assistants": the person's record is their row in this pseudo-pack (no guide pack can be
# named so: pack names are plain ids), and a pack opened by the check carries TOUR_KEY in its answers.
CHECK_ALL_PACK = "~check-all"
TOUR_KEY, TOUR_ON, TOUR_LAST = "~tour", "on", "last"
HISTORY_MAX = 50  # Back goes this far; the guide is far shallower, this only bounds forged loops.


class Reminders(Protocol):
    """What the engine needs from the reminder service (bot.reminders implements it)."""

    def offers(self, key: UserKey, now: datetime, *, turned_off: bool = False, t: Lang = EN) -> list[tuple[str, str]]:
        """Return (offer id, button label) pairs that fit the date; only check-backs once ``turned_off``."""
        ...

    async def subscribe(self, key: UserKey, offer: str, now: datetime, *, turned_off: bool = False,
                        t: Lang = EN) -> str | None:
        """Schedule an offer; return the confirmation text, or None if the offer is not valid now."""
        ...

    async def describe(self, key: UserKey, now: datetime, *, t: Lang = EN) -> str | None:
        """Return a sentence about what is scheduled for the user, or None when nothing is."""
        ...

    async def cancel(self, key: UserKey) -> int:
        """Cancel every reminder and change alert of the user, in every pack; return 0 if there was none."""
        ...

    async def follow_changes(self, key: UserKey, pack: str, now: datetime, *, t: Lang = EN) -> str:
        """Subscribe the user to a pack's change alerts; return the confirmation."""
        ...

    async def confirmed(self, key: UserKey, now: datetime) -> None:
        """The user confirmed the setting is off: drop the "did it work?" check-back."""
        ...


@dataclass
class _Step:
    """What one event did: the replies, and whether and how the state changed."""

    replies: list[Reply]
    save: bool = True
    counters: tuple[str, ...] = ()
    forgotten: bool = False


@dataclass
class _Local:
    """A pack's nodes and texts in one of its languages (ids, conditions and dates as in English)."""

    nodes: dict[str, QuestionNode | InfoNode | ResultNode]
    texts: _TextCache


@dataclass
class _Pack:
    """One guide pack as the engine serves it."""

    guide: Guide
    # What its button data carries: None for the default pack, whose data stays unqualified.
    qualifier: str | None
    # {language: its texts}, for each language the pack declares (English always).
    local: dict[str, _Local]

    @property
    def nodes(self) -> dict[str, QuestionNode | InfoNode | ResultNode]:
        """The nodes in English: the structure every language shares."""
        return self.local[self.guide.language].nodes

    @classmethod
    def of(cls, guide: Guide, qualifier: str | None) -> _Pack:
        local = {}
        for code in dict.fromkeys((guide.language, *guide.languages)):
            g = guide.in_language(code)
            local[g.language] = _Local({n.id: n for n in g.nodes}, _TextCache(g))
        return cls(guide, qualifier, local)


class Engine:
    """Serves one or more guide packs; the first is the default (the /start screen, unqualified buttons)."""

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
        # {platform: how it spells commands}, supplied by the adapters through the composition root.
        self.hints = dict(hints or {})
        self.retention_days = retention_days  # only told to users in /privacy; bot.retention enforces it
        self.storage = storage
        self.pack = self.guide.pack
        self.clock = clock
        self.reminders = reminders
        self._packs = {g.pack: _Pack.of(g, None if g is self.guide else g.pack) for g in guides}
        self._locks: KeyedLocks[UserKey] = KeyedLocks()

    @property
    def packs(self) -> list[Guide]:
        return [p.guide for p in self._packs.values()]

    def _p(self, state: UserState) -> _Pack:
        return self._packs[state.pack]

    def _reminders(self, state: UserState) -> Reminders | None:
        # Deadline reminders and check-backs belong to the default pack; the others have no deadlines.
        return self.reminders if state.pack == self.pack else None

    def _q(self, state: UserState) -> str | None:
        return self._packs[state.pack].qualifier

    async def handle(self, key: UserKey, event: Event, locale: str | None = None) -> Outcome:
        """Apply one event of one user and return what to show; events of a user run one at a time.

        ``locale`` is the platform's language hint for the user, if it gave one; it is stored with their state.
        """
        started = time.perf_counter()
        async with self._locks.hold(key):
            try:
                outcome = await self._step(key, event, locale)
            except StaleStateError:
                # Another process wrote or erased this user's row since we read it: decide again on fresh data.
                log.info("user state changed under us; redoing the step")
                outcome = await self._step(key, event, locale)
        STEP_LATENCY.observe(time.perf_counter() - started)
        return outcome

    async def _step(self, key: UserKey, event: Event, locale: str | None) -> Outcome:
        now = self.clock.now()
        pressed = data.parse(event.data) if isinstance(event, Press) else None
        if pressed is not None and pressed.kind == data.CHECK_ALL:
            return await self._check_all(key, pressed.arg, locale, now)
        pack, event = self._route(event)
        if pack is None:
            pack = await self._current_pack(key)
        return await self._in_pack(key, pack, event, locale, now)

    async def _in_pack(self, key: UserKey, pack: str, event: Event, locale: str | None, now: datetime,
                       touring: str | None = None) -> Outcome:
        """Apply an event to the user's state in one pack and save it; ``touring`` marks a pack opened by
        "Check all my assistants" (its results then lead on to the next one)."""
        guide, nodes = self._packs[pack].guide, self._packs[pack].nodes
        state = await self.storage.get_user(key, pack)
        fresh = state is None
        notice: list[Reply] = []
        if state is None:
            state = self._new_state(key, guide, now)
            if len(self._packs) > 1:
                # A language chosen in another pack holds here too (it is on every row of the person).
                state.language = await self.storage.get_language(key)
        elif state.guide_version != guide.version or state.node not in nodes:
            old = state
            state = self._new_state(key, guide, now, created=old.created_at)
            state.rev, state.locale, state.language = old.rev, old.locale, old.language
            notice.append(Reply(self._t(state)._(texts.GUIDE_UPDATED), notice=True))
            pressed = data.parse(event.data) if isinstance(event, Press) else None
            if pressed is not None and pressed.kind not in data.UNSTEPPED:
                # The button belonged to the old guide; the fresh start below is the answer.
                event = Start()
        if locale:
            state.locale = locale
        chosen = state.language
        if fresh and self._guide_language(state) != self.language(state):
            # Once per person and pack: their first step here says why the guide is in English.
            notice.append(Reply(self._t(state)._(texts.ONLY_IN_ENGLISH), notice=True))
        if touring:
            state.answers[TOUR_KEY] = touring  # before the step, so that it survives Back and Start over
        step = await self._apply(state, event, now)
        if not step.forgotten and (step.save or fresh or notice):
            # (After an erase nothing about the user may be written back.)
            state.updated_at = now
            counters = step.counters + (("started",) if fresh else ())
            if self._q(state):
                # Another pack's funnel is counted apart: "chatgpt/started" beside Claude's "started".
                counters = tuple(f"{state.pack}/{c}" for c in counters)
            await self.storage.save_step(state, counters)
            if state.language != chosen:
                # The choice holds in every pack: put it on the person's other rows too.
                await self.storage.set_language(key, state.language)
        return Outcome(replies=notice + step.replies, forgotten=step.forgotten)

    def _route(self, event: Event) -> tuple[str | None, Event]:
        """Which pack an event is for (None: the one the user was in last), and the event to apply there."""
        if isinstance(event, Press):
            pressed = data.parse(event.data)
            # A forged or unknown pack is answered in the default pack, as a button it does not know.
            return (pressed.pack if pressed and pressed.pack in self._packs else self.pack), event
        entry = event.entry if isinstance(event, Start) else None
        if isinstance(event, Command) and event.name.lower() == "start":
            entry = event.arg
        if isinstance(event, Start | Command) and entry in self._packs and entry not in self.guide.entries:
            return entry, Start()  # a deep link to another pack: /start chatgpt
        if isinstance(event, Start | Command) and (shared := share.shared_pack(entry, list(self._packs))):
            return shared, Start(share.SHARED_ENTRY)  # a link someone shared: /start s-chatgpt
        if isinstance(event, Start) or (isinstance(event, Command) and event.name.lower() == "start"):
            return self.pack, event
        return (self.pack if len(self._packs) == 1 else None), event

    async def _current_pack(self, key: UserKey) -> str:
        """The pack the user moved in last (commands and typed text go there); the default when none."""
        states = [await self.storage.get_user(key, pack) for pack in self._packs]
        found = [s for s in states if s is not None]
        return max(found, key=lambda s: s.updated_at).pack if found else self.pack

    # Language ---------------------------------------------------------------------------------
    @staticmethod
    def language(state: UserState) -> str:
        """The person's language: their /language choice, else the platform's hint mapped to one we speak."""
        return person_language(state.language, state.locale)

    def _t(self, state: UserState) -> Lang:
        return lang(self.language(state))

    def _guide_language(self, state: UserState) -> str:
        """The language the guide is shown in: the person's, or English when this pack lacks it."""
        code = self.language(state)
        pack = self._p(state)
        return code if code in pack.local else pack.guide.language

    def _local(self, state: UserState) -> _Local:
        return self._p(state).local[self._guide_language(state)]

    # State ------------------------------------------------------------------------------------
    def _new_state(self, key: UserKey, guide: Guide, now: datetime, created: datetime | None = None) -> UserState:
        return UserState(
            key=key, pack=guide.pack, guide_version=guide.version, node=guide.start, step=0,
            created_at=created or now, updated_at=now,
        )

    def _move(self, state: UserState, node_id: str, *, remember: bool = True) -> tuple[str, ...]:
        """Move the user to ``node_id``; return the funnel counters that move earns."""
        if remember:
            state.history.append((state.node, dict(state.answers)))
            del state.history[:-HISTORY_MAX]
        state.node = node_id
        state.step += 1
        state.pending = None
        node = self._p(state).nodes[node_id]
        if isinstance(node, ResultNode):
            # Once per arrival from the questions: "More details" or "I couldn't find it" on a result
            # lead to other results, and must not count the same person twice.
            came_from = state.history[-1][0] if remember and state.history else None
            again = isinstance(self._p(state).nodes.get(came_from or ""), ResultNode)
            return () if again else ("got_steps", share.OFFERED)
        if isinstance(node, QuestionNode) and node_id != self._p(state).guide.start:
            return (f"reached:{node_id}",)
        return ()

    def _restart(self, state: UserState, node_id: str | None = None) -> tuple[str, ...]:
        touring = state.answers.get(TOUR_KEY)
        state.history.clear()
        state.answers.clear()
        if touring:
            state.answers[TOUR_KEY] = touring
        return self._move(state, node_id or self._p(state).guide.start, remember=False)

    # Events -----------------------------------------------------------------------------------
    async def _apply(self, state: UserState, event: Event, now: datetime) -> _Step:
        if isinstance(event, Start):
            return self._open_entry(state, event.entry, now, from_start=True)
        if isinstance(event, Text):
            return self._again(state, now, texts.USE_BUTTONS)
        if isinstance(event, Command):
            return await self._command(state, event, now)
        if isinstance(event, Press):
            return await self._press(state, event.data, now)
        raise TypeError(f"not an engine event: {event!r}")  # a programming error in an adapter

    def _open_entry(self, state: UserState, entry: str | None, now: datetime, *, from_start: bool = False) -> _Step:
        guide = self._p(state).guide
        if entry == share.SHARED_ENTRY:
            return _Step(self._render(state, now), counters=(*self._restart(state), share.SHARED_START))
        # "start" opens a pack at its beginning (the buttons of the "Other assistants" list).
        target = guide.start if entry == "start" else guide.entries.get(entry) if entry else None
        notice = []
        if entry and target is None:
            notice = [Reply(self._t(state)._(texts.UNKNOWN_ENTRY), notice=True)]
        if target is None and not from_start:
            return self._again(state, now, texts.UNKNOWN_ENTRY)
        counters = self._restart(state)
        if target and target != guide.start:
            counters += self._move(state, target)
        return _Step([*notice, *self._render(state, now)], counters=counters)

    async def _command(self, state: UserState, cmd: Command, now: datetime) -> _Step:
        name = cmd.name.lower()
        hints = self.hints.get(state.key.platform, DEFAULT_HINTS)
        t = self._t(state)
        q = self._q(state)
        if name == "start":
            return self._open_entry(state, cmd.arg, now, from_start=True)
        if name == "steps":
            return self._open_entry(state, self._p(state).guide.steps_entry, now)
        if name == "remind":
            return await self._remind_menu(state, now)
        if name == "stop":
            return await self._stop_reminders(state, now)
        if name == "forget":
            state.pending = "forget"
            buttons = ((Button(t._(texts.FORGET_YES), data.forget(True, q)), Button(t._(texts.FORGET_NO), data.forget(False, q))),)
            return _Step([Reply(t._(texts.FORGET_ASK), buttons=buttons)])
        if name == "language":
            if cmd.arg and cmd.arg.strip() in LANGUAGES:
                return self._set_language(state, cmd.arg.strip(), now)
            rows = [(Button(NAMES[code], data.language(code, q)),) for code in LANGUAGES]
            return _Step([Reply(t._(texts.LANGUAGE_ASK), buttons=(*rows, self._continue_row(state)))], save=False)
        if name == "sources":
            return _Step([self._sources_reply(state)], save=False)
        if name == "privacy":
            text = texts.privacy(hints, self.retention_days, t=t)
            return _Step([Reply(text, buttons=(self._continue_row(state),))], save=False)
        if name == "help":
            return _Step([Reply(texts.help_text(hints, t=t), buttons=(self._continue_row(state),))], save=False)
        return self._again(state, now, texts.unknown_command(hints, t=t))

    async def _press(self, state: UserState, raw: str, now: datetime) -> _Step:
        pressed = data.parse(raw)
        if pressed is None or (pressed.pack or self.pack) != state.pack:
            return self._again(state, now, texts.BAD_BUTTON)
        kind, arg = pressed.kind, pressed.arg
        if kind == data.START_OVER:
            counters = self._restart(state)
            return _Step(self._render(state, now), counters=counters)
        if kind == data.CURRENT:
            return _Step(self._render(state, now), save=False)
        if kind == data.ENTRY:
            return self._open_entry(state, arg, now)
        if kind == data.FORGET:
            return await self._forget_answer(state, arg, now)
        if kind == data.OFFER:
            return await self._remind_choose(state, arg, now)
        if kind == data.LANGUAGE:
            if arg not in LANGUAGES:
                return self._again(state, now, texts.BAD_BUTTON)
            return self._set_language(state, arg, now)
        if kind == data.ACTION:
            if arg == data.STOP:
                return await self._stop_reminders(state, now)
            if arg == data.REMIND:
                return await self._remind_menu(state, now)
            if arg == data.DONE:
                return await self._confirm_off(state, now)
            if arg == data.ALERTS:
                return await self._follow_changes(state, now)
            if arg == data.SHARE:
                return self._share_text(state)
            return self._again(state, now, texts.BAD_BUTTON)
        if pressed.step != state.step:
            return self._again(state, now, texts.STALE_BUTTON)
        if kind == data.BACK:
            return self._back(state, now)
        if kind == data.CONTINUE:
            return self._continue(state, now)
        return await self._choose(state, arg, now)

    def _set_language(self, state: UserState, code: str, now: datetime) -> _Step:
        """Remember the person's language and show where they are again, in it: nothing else moves."""
        state.language = code
        replies = [Reply(self._t(state)._(texts.LANGUAGE_SET))]
        if self._guide_language(state) != code:
            replies.append(Reply(self._t(state)._(texts.ONLY_IN_ENGLISH), notice=True))
        # A step re-shown with its step number unchanged: its buttons stay valid, older ones stay stale.
        return _Step([*replies, *self._render(state, now)])

    def _again(self, state: UserState, now: datetime, why: str) -> _Step:
        """Explain briefly (``why``: a msgid of bot.texts, or a text already translated) and show the current step again."""
        return _Step([Reply(self._t(state)._(why), notice=True), *self._render(state, now)], save=False)

    def _back(self, state: UserState, now: datetime) -> _Step:
        if not state.history:
            return self._again(state, now, texts.NOTHING_BACK)
        node_id, answers = state.history.pop()
        if node_id not in self._p(state).nodes:
            return _Step(self._render(state, now), counters=self._restart(state))
        state.answers = answers
        self._move(state, node_id, remember=False)
        return _Step(self._render(state, now))

    def _continue(self, state: UserState, now: datetime) -> _Step:
        node = self._local(state).nodes[state.node]
        if not isinstance(node, InfoNode):
            return self._again(state, now, texts.STALE_BUTTON)
        answered = Reply(self._pressed_text(node, state, now), edit=True, chosen=node.continue_label)
        counters = self._move(state, node.next)
        return _Step([answered, *self._render(state, now)], counters=counters)

    async def _choose(self, state: UserState, option_id: str, now: datetime) -> _Step:
        node = self._local(state).nodes[state.node]
        option = self._option(node, option_id)
        if option is None or not visible(option.when, state.answers, self._p(state).guide, now):
            return self._again(state, now, texts.BAD_BUTTON)
        answered = Reply(self._pressed_text(node, state, now), edit=True, chosen=option.label)
        if option.action is not None:
            step = await self._action(state, option, now)
            step.replies.insert(0, answered)
            return step
        assert option.next is not None
        before = dict(state.answers)
        counters = self._move(state, option.next)
        state.history[-1] = (state.history[-1][0], before)
        state.answers.update(option.record)
        return _Step([answered, *self._render(state, now)], counters=counters)

    @staticmethod
    def _option(node: QuestionNode | InfoNode | ResultNode, option_id: str) -> Option | None:
        for option in getattr(node, "options", ()):
            if option.id == option_id:
                return option
        return None

    async def _action(self, state: UserState, option: Option, now: datetime) -> _Step:
        if option.action == "restart":
            counters = self._restart(state)
            return _Step(self._render(state, now), counters=counters)
        if option.action == "sources":
            return _Step([self._sources_reply(state)], save=False)
        if option.action == "remind":
            return await self._remind_menu(state, now)
        if option.action == "packs":
            return _Step([self._packs_reply(state)], save=False)
        return await self._confirm_off(state, now)

    async def _confirm_off(self, state: UserState, now: datetime) -> _Step:
        already = self._turned_off(state)
        state.answers[self._p(state).guide.confirm_key] = "yes"
        state.pending = None
        t = self._t(state)
        offers: list[tuple[str, str]] = []
        reminders = self._reminders(state)
        if reminders is not None:
            await reminders.confirmed(state.key, now)
            offers = reminders.offers(state.key, now, turned_off=True, t=t)
        # The check-backs go straight on the thanks: one tap, and never a deadline reminder
        # written for people who have not switched it off.
        rows = [(Button(label, data.offer(offer, self._q(state))),) for offer, label in offers]
        rows.append((self._share_button(state), Button(t._(texts.START_OVER), data.start_over(self._q(state)))))
        if touring := self._touring_row(state):
            rows.insert(0, touring)
        text = f"{t._(texts.THANKS_OFF)}\n\n{t._(texts.CHECK_BACK_ASK)}" if offers else t._(texts.THANKS_OFF)
        if offers:
            state.pending = "remind"
        return _Step([Reply(text, buttons=tuple(rows))], counters=(share.OFFERED, *(() if already else ("confirmed_off",))))

    def _turned_off(self, state: UserState) -> bool:
        return state.answers.get(self._p(state).guide.confirm_key) == "yes"

    # Reminders --------------------------------------------------------------------------------
    async def _remind_menu(self, state: UserState, now: datetime) -> _Step:
        reminders = self._reminders(state)
        t = self._t(state)
        if reminders is None:
            return _Step([Reply(t._(texts.NO_REMINDERS_HERE), buttons=(self._continue_row(state),))], save=False)
        offers = reminders.offers(state.key, now, turned_off=self._turned_off(state), t=t)
        scheduled = await reminders.describe(state.key, now, t=t)
        rows: list[tuple[Button, ...]] = [(Button(label, data.offer(offer, self._q(state))),) for offer, label in offers]
        if scheduled:
            rows.append((Button(t._(texts.STOP_REMINDERS), data.action(data.STOP, self._q(state))),))
        rows.append(self._continue_row(state))
        text = t._(texts.REMIND_ASK) if offers else t._(texts.REMIND_NONE)
        if scheduled:
            text = f"{scheduled}\n\n{text}"
        state.pending = "remind"
        return _Step([Reply(text, buttons=tuple(rows))])

    async def _remind_choose(self, state: UserState, offer: str, now: datetime) -> _Step:
        reminders = self._reminders(state)
        if reminders is None:
            return self._again(state, now, texts.NO_REMINDERS_HERE)
        t = self._t(state)
        confirmation = await reminders.subscribe(state.key, offer, now, turned_off=self._turned_off(state), t=t)
        if confirmation is None:
            step = await self._remind_menu(state, now)
            step.replies.insert(0, Reply(t._(texts.OFFER_GONE), notice=True))
            return step
        state.pending = None
        buttons = ((Button(t._(texts.STOP_REMINDERS), data.action(data.STOP, self._q(state))), *self._continue_row(state)),)
        return _Step([Reply(confirmation, buttons=buttons)], counters=("reminder_subscribed",))

    async def _follow_changes(self, state: UserState, now: datetime) -> _Step:
        # Every pack has change alerts (not only the default one, which alone has deadlines).
        t = self._t(state)
        if self.reminders is None:
            return _Step([Reply(t._(texts.NO_REMINDERS_HERE), buttons=(self._continue_row(state),))], save=False)
        confirmation = await self.reminders.follow_changes(state.key, state.pack, now, t=t)
        return _Step([Reply(confirmation, buttons=(self._continue_row(state),))], counters=("alert_subscribed",))

    async def _stop_reminders(self, state: UserState, now: datetime) -> _Step:
        # /stop ends every reminder of the user, whichever pack they are in.
        cancelled = await self.reminders.cancel(state.key) if self.reminders else 0
        t = self._t(state)
        text = t._(texts.REMINDERS_STOPPED) if cancelled else t._(texts.NO_REMINDERS_TO_STOP)
        return _Step([Reply(text, buttons=(self._continue_row(state),))], save=False)

    # Erase my data ----------------------------------------------------------------------------
    async def _forget_answer(self, state: UserState, answer: str, now: datetime) -> _Step:
        if state.pending != "forget":
            return self._again(state, now, texts.STALE_BUTTON)
        t = self._t(state)
        if answer != "yes":
            state.pending = None
            return _Step([Reply(t._(texts.FORGET_KEPT), buttons=(self._continue_row(state),))])
        await self.storage.forget_user(state.key)
        return _Step([Reply(t._(texts.FORGOTTEN))], save=False, forgotten=True)

    # Passing the guide on ---------------------------------------------------------------------
    def _share_button(self, state: UserState) -> Button:
        return Button(self._t(state)._(share.SHARE), data.action(data.SHARE, self._q(state)), share=state.pack)

    def _share_text(self, state: UserState) -> _Step:
        # Only where a platform cannot share by itself (the terminal): the card's sentence to pass on.
        guide = self._local(state).texts.guide
        t = self._t(state)
        sentence = t._(share.CARD).format(assistant=guide.name, setting=share.setting_of(guide))
        return _Step([Reply(f"{t._(share.COPY_INTRO)}\n\n{sentence}", buttons=(self._continue_row(state),))], save=False)

    # Rendering --------------------------------------------------------------------------------
    def _continue_row(self, state: UserState) -> tuple[Button, ...]:
        return (Button(self._t(state)._(texts.CONTINUE_WHERE), data.current(self._q(state))),)

    def _packs_reply(self, state: UserState) -> Reply:
        t = self._t(state)
        rows = [(Button(t._(texts.CHECK_ALL), data.check_all(data.CHECK_ALL_OPEN)),)] if len(self._packs) > 1 else []
        rows += [
            (Button(p.guide.name, data.entry("start", p.qualifier)),) for p in self._packs.values() if p.guide.pack != state.pack
        ]
        return Reply(t._(texts.OTHER_ASSISTANTS), buttons=(*rows, self._continue_row(state)))

    def _sources_reply(self, state: UserState) -> Reply:
        # The sources are English pages, so their titles stay as published.
        t = self._t(state)
        lines = [t._(texts.SOURCES_INTRO), ""]
        lines += [f"- [{s.title}]({s.url}) ({t._(texts.SOURCE_SEEN).format(date=t.short_date(s.seen))})"
                  for s in self._p(state).guide.sources]
        return Reply("\n".join(lines), buttons=(self._continue_row(state),))

    def _pressed_text(self, node: QuestionNode | InfoNode | ResultNode, state: UserState, now: datetime) -> str:
        # The buttons were on the node's last message, so that is the one an answer replaces.
        return self._local(state).texts.parts(node, state.answers, now)[-1]

    def _render(self, state: UserState, now: datetime) -> list[Reply]:
        """The current node as messages: most nodes are one; the buttons go on the last."""
        local = self._local(state)
        node = local.nodes[state.node]
        t = self._t(state)
        rows: list[tuple[Button, ...]] = []
        if isinstance(node, InfoNode):
            rows.append((Button(node.continue_label, data.next_step(state.step, self._q(state))),))
        else:
            rows += [
                (Button(o.label, data.option(state.step, o.id, self._q(state))),)
                for o in node.options
                if visible(o.when, state.answers, self._p(state).guide, now)
            ]
        if isinstance(node, ResultNode):
            follow = (Button(t._(texts.FOLLOW_CHANGES), data.action(data.ALERTS, self._q(state))),)
            rows.append((*(follow if self.reminders is not None else ()), self._share_button(state)))
        if isinstance(node, ResultNode) and (touring := self._touring_row(state)):
            rows.append(touring)
        nav: list[Button] = []
        if state.history:
            nav.append(Button(t._(texts.BACK), data.back(state.step, self._q(state))))
        if state.node != self._p(state).guide.start:
            nav.append(Button(t._(texts.START_OVER), data.start_over(self._q(state))))
        if nav:
            rows.append(tuple(nav))
        *before, last = local.texts.parts(node, state.answers, now)
        return [*(Reply(part) for part in before), Reply(last, buttons=tuple(rows))]


    # Check all my assistants -------------------------------------------------------------------
    # A small record of its own, kept through the UserStore port as the person's row in the pseudo-pack
    # CHECK_ALL_PACK (so /forget and retention erase it like every other row): ``node`` is the phase
    # ("select", "walk", "done"), ``answers["chosen"]`` the chosen packs in order, ``step`` the one being walked.
    def _touring_row(self, state: UserState) -> tuple[Button, ...] | None:
        touring = state.answers.get(TOUR_KEY)
        if not touring:
            return None
        label = texts.CHECK_ALL_SUMMARY if touring == TOUR_LAST else texts.CHECK_ALL_NEXT
        return (Button(self._t(state)._(label), data.check_all(data.CHECK_ALL_NEXT)),)

    async def _check_all(self, key: UserKey, arg: str, locale: str | None, now: datetime) -> Outcome:
        record = await self.storage.get_user(key, CHECK_ALL_PACK)
        if arg == data.CHECK_ALL_OPEN or record is None:
            if record is not None and record.node == "walk":
                await self._end_tour(key, record)  # a new check replaces the one under way
            if record is None:
                record = UserState(key=key, pack=CHECK_ALL_PACK, guide_version="1", node="select", created_at=now)
                record.language = await self.storage.get_language(key)
            record.node, record.step, record.answers, record.history = "select", 0, {}, []
            if locale:
                record.locale = locale
            await self._save_record(record, now)
            return Outcome([self._select_reply(record)])
        if locale:
            record.locale = locale
        # The record is one of the person's rows, so it carries their language like the others.
        t = self._t(record)
        chosen = [p for p in record.answers.get("chosen", "").split(",") if p in self._packs]
        if arg.startswith("+") and record.node == "select" and arg[1:] in self._packs:
            pack = arg[1:]
            chosen = [p for p in self._packs if (p in chosen) != (p == pack)]
            record.answers["chosen"] = ",".join(chosen)
            await self._save_record(record, now)
            label = texts.check_all_toggled(self._packs[pack].guide.name, pack in chosen, t=t)
            return Outcome([Reply(t._(texts.CHECK_ALL_ASK), edit=True, chosen=label), self._select_reply(record)])
        if arg == data.CHECK_ALL_GO and record.node == "select":
            if not chosen:
                return Outcome([Reply(t._(texts.CHECK_ALL_NONE), notice=True), self._select_reply(record)])
            record.node, record.step = "walk", 0
            await self._save_record(record, now)
            opened = await self._open_tour_pack(key, chosen, 0, locale, now, t)
            names = ", ".join(self._packs[p].guide.name for p in chosen)  # a plain list reads the same in every language
            answered = Reply(t._(texts.CHECK_ALL_ASK), edit=True, chosen=names)
            return Outcome([answered, *opened])
        if arg == data.CHECK_ALL_NEXT and record.node == "walk":
            record.step += 1
            if record.step < len(chosen):
                await self._save_record(record, now)
                return Outcome(await self._open_tour_pack(key, chosen, record.step, locale, now, t))
            return Outcome([await self._summary(key, record, chosen, now, t)])
        if record.node == "done":
            return Outcome([await self._summary(key, record, chosen, now, t)])
        # A toggle after Continue, or Continue twice: say where the check is.
        if record.node == "select":
            return Outcome([Reply(t._(texts.STALE_BUTTON), notice=True), self._select_reply(record)])
        return Outcome([Reply(t._(texts.STALE_BUTTON), notice=True),
                        *await self._open_tour_pack(key, chosen, min(record.step, len(chosen) - 1), locale, now, t)])

    def _select_reply(self, record: UserState) -> Reply:
        t = self._t(record)
        chosen = set(record.answers.get("chosen", "").split(","))
        rows = [(Button(texts.check_all_option(p.guide.name, pack in chosen), data.check_all(f"+{pack}")),)
                for pack, p in self._packs.items()]
        rows.append((Button(t._(texts.CHECK_ALL_GO), data.check_all(data.CHECK_ALL_GO)),))
        return Reply(t._(texts.CHECK_ALL_ASK), buttons=tuple(rows))

    async def _open_tour_pack(self, key: UserKey, chosen: list[str], index: int, locale: str | None,
                              now: datetime, t: Lang) -> list[Reply]:
        pack = chosen[index]
        touring = TOUR_LAST if index == len(chosen) - 1 else TOUR_ON
        outcome = await self._in_pack(key, pack, Start(), locale, now, touring=touring)
        heading = texts.check_all_heading(index + 1, len(chosen), self._packs[pack].guide.name, t=t)
        replies = list(outcome.replies)
        first = next(i for i, r in enumerate(replies) if not r.notice)
        replies[first] = replace(replies[first], text=f"{heading}\n\n{replies[first].text}")
        return replies

    async def _summary(self, key: UserKey, record: UserState, chosen: list[str], now: datetime, t: Lang) -> Reply:
        done, left = [], []
        for pack in chosen:
            state = await self.storage.get_user(key, pack)
            off = state is not None and state.answers.get(self._packs[pack].guide.confirm_key) == "yes"
            (done if off else left).append(pack)
        if record.node != "done":
            await self._end_tour(key, record)
            record.node = "done"
            await self._save_record(record, now)
        rows = [(Button(self._packs[p].guide.name, data.entry(self._packs[p].guide.steps_entry, self._packs[p].qualifier)),)
                for p in left]
        names = [self._packs[p].guide.name for p in done], [self._packs[p].guide.name for p in left]
        return Reply(texts.check_all_summary(*names, t=t), buttons=tuple(rows))

    async def _end_tour(self, key: UserKey, record: UserState) -> None:
        """Take the "Next assistant" button off the packs of a check that has ended."""
        for pack in record.answers.get("chosen", "").split(","):
            state = await self.storage.get_user(key, pack) if pack in self._packs else None
            if state is not None and TOUR_KEY in state.answers:
                del state.answers[TOUR_KEY]
                await self.storage.save_step(state)

    async def _save_record(self, record: UserState, now: datetime) -> None:
        record.updated_at = now
        await self.storage.save_step(record)


class _TextCache:
    """Node texts by what they can depend on: the answers their conditions name and the deadlines passed.

    Assembling a result from its blocks is the engine's largest cost per step, and a few hundred
    combinations cover every user. A text counting down to a deadline still ahead is not cached.
    """

    LIMIT = 20_000

    def __init__(self, guide: Guide) -> None:
        self.guide = guide
        self._keys = {
            n.id: tuple(sorted({k for b in n.blocks for k in (*b.when.answers, *b.when.not_answers)})) for n in guide.nodes
        }
        # For nodes that show a time left: the deadlines it counts down to. Once they have all
        # passed, the text no longer changes with the clock and is cached like the others.
        self._countdowns = {
            n.id: [guide.deadline(d).at for b in n.blocks for d, field in placeholders(b.text) if field == "left"]
            for n in guide.nodes
        }
        self._cache: dict[tuple, tuple[str, ...]] = {}

    def parts(self, node: QuestionNode | InfoNode | ResultNode, answers: dict[str, str], now: datetime) -> tuple[str, ...]:
        if any(now < at for at in self._countdowns[node.id]):
            return node_parts(self.guide, node, answers, now)
        key = (
            node.id,
            tuple(answers.get(k) for k in self._keys[node.id]),
            tuple(now >= d.at for d in self.guide.deadlines),
        )
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) >= self.LIMIT:
                self._cache.clear()
            found = self._cache[key] = node_parts(self.guide, node, answers, now)
        return found


def visible(when: When, answers: dict[str, str], guide: Guide, now: datetime) -> bool:
    """Tell whether a block with these conditions is shown for these answers at this time."""
    if not when.allows(answers):
        return False
    if when.before and not now < guide.deadline(when.before).at:
        return False
    return not (when.after and now < guide.deadline(when.after).at)


def node_parts(
    guide: Guide, node: QuestionNode | InfoNode | ResultNode, answers: dict[str, str], now: datetime
) -> tuple[str, ...]:
    """Assemble a node's text from the blocks that apply, with dates filled in: one string per message.

    A block marked ``new_message`` starts a new message when something precedes it, so that a long
    node ("More details") reads as a few short messages on a phone.
    """
    parts: list[list[str]] = [[]]
    for block in node.blocks:
        if not visible(block.when, answers, guide, now):
            continue
        text = fill_placeholders(block.text.strip(), guide, now, lang(guide.language))
        if not text:
            continue
        if block.new_message and parts[-1]:
            parts.append([])
        parts[-1].append(text)
    return tuple("\n\n".join(p) for p in parts if p) or ("",)


def node_text(guide: Guide, node: QuestionNode | InfoNode | ResultNode, answers: dict[str, str], now: datetime) -> str:
    """A node's whole text, all its messages joined (for checks and tests)."""
    return "\n\n".join(node_parts(guide, node, answers, now))
