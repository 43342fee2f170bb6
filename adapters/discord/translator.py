"""Discord's command picker in the member's language: descriptions translated through bot/locale's catalogs.

discord.py asks the tree's ``Translator`` for every ``locale_str`` of every command at sync time and sends
the answers as ``name_localizations`` / ``description_localizations``; Discord then shows each member the
text for their client's locale. The texts are msgids of the same gettext catalogs as the bot's replies.
"""

from __future__ import annotations

from discord import Locale, app_commands

from bot.i18n import ENGLISH, choose_language, lang


class CatalogTranslator(app_commands.Translator):
    """Translate a command's texts with the catalog of the language a Discord locale maps to."""

    async def translate(
        self, string: app_commands.locale_str, locale: Locale, context: app_commands.TranslationContextTypes
    ) -> str | None:
        # es-ES and es-419 both get Spanish, pt-BR Portuguese; a locale we lack keeps the English default.
        code = choose_language(locale.value)
        if code == ENGLISH:
            return None
        translated = lang(code)._(string.message)
        # gettext hands back the msgid when it has no translation (command names, for one): say so,
        # rather than sending English as the "translation".
        return translated if translated != string.message else None
