"""Passing a guide on: the share card, the deep-link payload that marks a shared start, and the
anonymous share counters.

A card holds nothing about the person sharing it: no answers, no name. It names the assistant and its
setting (the pack's title, in the sharer's language where the pack has it) and links to the guide.
The payload ``s-PACK`` (Telegram deep links allow ``A-Za-z0-9_-``) opens PACK and marks the start as
one that came from a shared link; nothing in it says who shared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.clock import Clock
from bot.guide import Guide
from bot.i18n import ENGLISH, N_, Lang, lang
from bot.storage.base import CounterStore

SHARE = N_("📣 Share with a friend")
# One sentence naming the assistant and its setting: {setting} is the pack's title without its
# leading "Name:" ("the “Improve the model for everyone” setting").
CARD = N_("Worth a minute: in {assistant}, check {setting}; this guide shows you where it is and how to switch it off.")
OPEN_GUIDE = N_("Open the guide")
# Discord: a bot cannot post in a member's name, so it hands them a message to send themselves.
COPY_INTRO = N_("Copy this and send it to a friend (nothing is posted for you):")
# The Start panel a Discord admin posts in a channel; {title} is the pack's title.
PANEL_TEXT = N_("**{title}**: a private, step-by-step guide to switching off AI training on your data. "
                "Press Start; only you will see the answers.")
PANEL_START = N_("Start")
# Every text above, for `content check` (each must be translated into every language a pack speaks).
TEXTS = (SHARE, CARD, OPEN_GUIDE, COPY_INTRO, PANEL_TEXT, PANEL_START)

SHARED_MARK = "s-"
# What the engine opens for a shared payload: "start" opens a pack at its beginning.
SHARED_ENTRY = "~shared"

# The counters, per pack (see ``counter_name``).
OFFERED = "share_offered"  # a share button shown on a result or on the thank-you
SENT = "share_sent"  # Telegram: a card chosen (or answered, without inline feedback); Discord: the text to copy given
SHARED_START = "shared_start"  # a start from a shared link
PANEL_PRESS = "panel_press"  # a press on a Discord Start panel


def payload(pack: str) -> str:
    """The deep-link payload of a shared guide: ``s-chatgpt``."""
    return f"{SHARED_MARK}{pack}"


def shared_pack(entry: str | None, packs: Sequence[str]) -> str | None:
    """The pack a shared payload opens, or None when ``entry`` is not one (a pack's own name wins)."""
    if not entry or entry in packs or not entry.startswith(SHARED_MARK):
        return None
    pack = entry.removeprefix(SHARED_MARK)
    return pack if pack in packs else None


def counter_name(pack: str, counter: str) -> str:
    # The engine's scheme for every pack: "PACK/counter".
    return f"{pack}/{counter}"


def setting_of(guide: Guide) -> str:
    """The setting as the pack's title names it, without the assistant's name in front."""
    head, colon, rest = guide.title.partition(":")
    return rest.strip() if colon and head.strip() == guide.name else guide.title


def sentence(guide: Guide, t: Lang) -> str:
    """The one sentence a share passes on: the assistant and its setting (``guide`` in ``t``'s language)."""
    return t._(CARD).format(assistant=guide.name, setting=setting_of(guide))


@dataclass(frozen=True, slots=True)
class Card:
    """One share card: what the chat picker lists (title, description) and what the friend receives."""

    pack: str
    title: str  # the assistant's name
    description: str  # the setting
    text: str  # Markdown subset: one sentence
    button: str  # the label of the link that opens the guide
    payload: str  # the deep-link payload


class Sharing:
    """The share cards of every pack, and the anonymous share counters (no user ids, ever)."""

    def __init__(self, guides: Sequence[Guide], counters: CounterStore, clock: Clock) -> None:
        self._guides = {g.pack: g for g in guides}
        self._counters = counters
        self._clock = clock

    @property
    def packs(self) -> list[str]:
        return list(self._guides)

    def name(self, pack: str) -> str:
        return self._guides[pack].name

    def guide(self, pack: str, language: str = ENGLISH) -> Guide:
        return self._guides[pack].in_language(language)

    def matching(self, query: str) -> list[str]:
        """The packs a typed query names (``chatgpt``, ``Gemini``, part of a name); every pack for an empty one."""
        typed = query.strip().lower()
        if not typed:
            return self.packs
        exact = [p for p in self._guides if typed == p]
        if exact:
            return exact
        return [p for p, g in self._guides.items() if typed in p or typed in g.name.lower()]

    def card(self, pack: str, t: Lang) -> Card:
        """The card of ``pack`` in the language of ``t``; in English when the pack lacks that language, as
        the guide it opens then is."""
        if t.code not in self._guides[pack].languages:
            t = lang(ENGLISH)
        guide = self.guide(pack, t.code)
        return Card(pack, guide.name, setting_of(guide), sentence(guide, t), t._(OPEN_GUIDE), payload(pack))

    def panel_text(self, pack: str, t: Lang) -> str:
        return t._(PANEL_TEXT).format(title=self.guide(pack, t.code).title)

    async def count(self, platform: str, pack: str, counter: str, n: int = 1, at: datetime | None = None) -> None:
        if pack not in self._guides or n <= 0:
            return
        name = counter_name(pack, counter)
        await self._counters.add_counts(platform, {name: n}, (at or self._clock.now()).date())


def untranslated(guide: Guide) -> list[str]:
    """The share texts a language of ``guide`` lacks a translation for: ``"de: 📣 Share with a friend"``."""
    missing = []
    for code in guide.languages:
        if code == ENGLISH:
            continue
        t = lang(code)
        missing += [f"{code}: {text}" for text in TEXTS if t._(text) == text]
    return missing
