"""Languages: which one a person gets, the bot's own texts in it, and dates, counts and lists in its style.

The bot's own texts are gettext catalogs (``bot/locale/LANG/LC_MESSAGES/messages.po``), kept with Babel's
``pybabel extract / update`` (commands in docs/translating.md). gettext because it is the format every
translation tool and service reads (Poedit, Weblate, Crowdin), it carries plural forms and translator
comments, and Babel, which formats the dates, already parses it. The ``.po`` files are read at start-up
and compiled in memory with Babel, so no ``.mo`` build step stands between a fresh clone and a working bot.

Registers, one per language: German "du", Spanish "tú", French "vous", Brazilian Portuguese "você".
"""

from __future__ import annotations

import functools
import io
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from babel.units import format_unit

ENGLISH = "en"
# Every language the bot's own texts are translated into; a guide pack declares its own (bot.guide).
LANGUAGES = ("en", "de", "es", "fr", "pt_BR")
# A language's name in itself, for the /language buttons.
NAMES = {"en": "English", "de": "Deutsch", "es": "Español", "fr": "Français", "pt_BR": "Português (Brasil)"}
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
# English dates read "8 October 2025" (the guide's house style since before translations), which is
# CLDR's British English; the texts themselves are the msgids.
_FORMAT_LOCALE = {"en": "en_GB"}


def N_(message: str) -> str:  # the gettext name pybabel extracts
    """Mark a text for translation where it is defined; it is translated where it is shown."""
    return message


def person_language(chosen: str | None, hint: str | None) -> str:
    """A person's language: the one they chose with /language, else the platform's hint mapped to ours."""
    return chosen if chosen in LANGUAGES else choose_language(hint)


# Cached: the engine asks several times a step, and parsing a locale with Babel is not cheap.
@functools.lru_cache(maxsize=1024)
def choose_language(hint: str | None, supported: tuple[str, ...] = LANGUAGES) -> str:
    """Map a platform's language hint (``de``, ``pt-BR``, ``es-419``, ``en_US``...) to a supported language.

    Any Portuguese becomes Brazilian Portuguese and any Spanish becomes Spanish (the one translation of
    each); a language we do not have, or no hint, gives English.
    """
    if not hint:
        return ENGLISH
    try:
        locale = Locale.parse(hint.replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return ENGLISH
    exact = f"{locale.language}_{locale.territory}" if locale.territory else locale.language
    if exact in supported:
        return exact
    for code in supported:
        if code.split("_")[0] == locale.language:
            return code
    return ENGLISH


@functools.cache
def _translations(language: str) -> NullTranslations:
    if language == ENGLISH:
        return NullTranslations()
    po = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po.open("rb") as f:
        catalog = read_po(f, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)  # fuzzy entries are left out, as msgfmt does
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


@dataclass(frozen=True)
class Lang:
    """One language: its texts (``lang._("...")``) and its way of writing dates, durations and lists."""

    code: str

    def _(self, message: str) -> str:
        return _translations(self.code).gettext(message)

    def n_(self, singular: str, plural: str, n: int) -> str:
        return _translations(self.code).ngettext(singular, plural, n)

    @property
    def _locale(self) -> str:
        return _FORMAT_LOCALE.get(self.code, self.code)

    def date(self, at: datetime | date) -> str:
        """A date in words: "8 October 2025", "8. Oktober 2025", "8 de octubre de 2025", "1er octobre 2025"."""
        day = at.date() if isinstance(at, datetime) else at
        text = format_date(day, format="long", locale=self._locale)
        if self.code == "fr" and day.day == 1 and text.startswith("1 "):
            # French writes the first of a month as an ordinal; CLDR's "d MMMM y" has no ordinal day.
            text = "1er" + text[1:]
        return text

    def short_date(self, at: datetime | date) -> str:
        return format_date(at.date() if isinstance(at, datetime) else at, format="medium", locale=self._locale)

    def time(self, at: datetime) -> str:
        return format_time(at.time(), format="short", locale=self._locale)

    def duration(self, n: int, unit: str) -> str:
        """``n`` of a unit (day, hour, minute, second) with the language's plural: "3 Tage", "1 día"."""
        return format_unit(n, f"duration-{unit}", length="long", locale=self._locale)

    def join(self, items: list[str]) -> str:
        """"a, b and c" in the language's own way."""
        return format_list(items, locale=self._locale) if items else ""


@functools.cache
@functools.cache
def lang(code: str | None) -> Lang:
    """The ``Lang`` for a supported language code (anything else gives English)."""
    return Lang(code if code in LANGUAGES else ENGLISH)


EN = lang(ENGLISH)
