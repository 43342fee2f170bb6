"""The personal result fits one phone screen, on every path, at every date, as each platform renders it.

Every path of every shipped guide pack is walked (the Claude guide at four dates around its deadlines,
the other packs, which have none, today) through the real engine (SQLite, a manual clock) at dates
before, between and after the deadlines, and on the last day of the final one. The message that
carries the confirm buttons is rendered the way each front end sends it: Telegram HTML and Discord
markdown (each adapter's ``compose``, including the "✅ answer" line both put on top of the step the
press leads to), and the terminal's plain text. It must be one message of at most 800 characters:
for Telegram, the characters the person sees once the HTML is parsed (Telegram counts its own message
limit on that text, not on the tags); Discord's markdown is counted as sent, markers and all. "More
details" must show the rest in messages of at most 1,500 characters, keep the confirm buttons, and
Back must return to the steps. All of this in every language the guide declares (German runs longest).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from adapters.discord.render import compose
from adapters.telegram.render import compose as compose_telegram
from bot import button_data, texts
from bot.clock import ManualClock
from bot.content_check import guide_paths, pack_files
from bot.engine import Engine
from bot.events import Notice, Outcome, Press, Reply, Start, UserKey
from bot.guide import DEFAULT_CONTENT_PATH, Guide, load_guide
from bot.i18n import lang
from bot.markup import PlainRenderer
from bot.storage import open_storage

RESULT_MAX = 800
DETAILS_MAX = 1500
DATES = {
    "before": datetime(2025, 9, 20, 12, 0, tzinfo=UTC),
    "between": datetime(2025, 10, 1, 12, 0, tzinfo=UTC),
    "last day": datetime(2025, 10, 8, 12, 0, tzinfo=UTC),
    "after": datetime(2026, 11, 22, 12, 0, tzinfo=UTC),
}
SHIPPED = load_guide()
LANGUAGES = SHIPPED.languages
# A platform hint that maps to each language (bot.i18n.choose_language).
HINTS = {"en": "en", "de": "de", "es": "es-ES", "fr": "fr", "pt_BR": "pt-BR"}
PACKS = [p.stem for p in pack_files(DEFAULT_CONTENT_PATH.parent)]
# Claude at four dates in every language it speaks; the other packs, which have no deadlines, today.
CASES = [("claude", when, language) for when in DATES for language in SHIPPED.languages] + [
    (pack, "after", "en") for pack in PACKS if pack != "claude"
]


# {(id(guide), language): (guide, translated)}; holding the guide keeps its id from being reused.
_TRANSLATED: dict[tuple[int, str], tuple[Guide, Guide]] = {}


def _in_language(guide: Guide, language: str) -> Guide:
    # Translating a pack copies every node; the labels are looked up after every press.
    key = (id(guide), language)
    if key not in _TRANSLATED:
        _TRANSLATED[key] = (guide, guide.in_language(language))
    return _TRANSLATED[key][1]


def _option_labels(guide: Guide, language: str, node_id: str, *option_ids: str) -> tuple[str, ...]:
    node = _in_language(guide, language).node(node_id)
    return tuple(o.label for o in node.options if o.id in option_ids)


def details_label(guide: Guide, language: str) -> str:
    return _option_labels(guide, language, "result", "details")[0]


def confirms(guide: Guide, language: str) -> set[str]:
    """Every confirm button of the pack in that language."""
    return {o.label for n in _in_language(guide, language).nodes for o in getattr(n, "options", ())
            if o.action == "confirm_off"}


@dataclass
class Measured:
    """The longest message seen per platform, and the walk that produced it (for the report)."""

    size: int = 0
    where: str = ""

    def see(self, size: int, where: str) -> None:
        if size > self.size:
            self.size, self.where = size, where


def _labels(reply: Reply) -> list[str]:
    return [b.label for row in reply.buttons for b in row]


def _confirm_reply(outcome: Outcome, guide: Guide, language: str) -> Reply:
    found = [r for r in outcome.replies if any(label in confirms(guide, language) for label in _labels(r))]
    assert len(found) == 1, [r.text[:60] for r in outcome.replies]
    return found[0]


def _step_reply(outcome: Outcome) -> Reply:
    """The message that carries the step's buttons (a result with nothing to confirm has none of CONFIRMS)."""
    found = [r for r in outcome.replies if r.buttons]
    assert len(found) == 1, [r.text[:60] for r in outcome.replies]
    return found[0]


class _Shown(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def shown_text(html_text: str) -> str:
    """The text a Telegram HTML message shows: tags gone, entities decoded."""
    parser = _Shown()
    parser.feed(html_text)
    parser.close()
    return "".join(parser.parts)


def rendered(outcome: Outcome, reply: Reply) -> dict[str, list[str]]:
    """What each platform sends for the step ``reply`` of ``outcome``: one string per message."""
    telegram = compose_telegram([r for r in outcome.replies if not isinstance(r, Notice)])
    assert telegram[-1].markup is not None, "Telegram: the buttons are not on the last message"
    # Discord joins the answered question's "✅ label" line to the step, in the same message.
    discord = [m for m in compose(outcome) if not m.notice]
    assert discord[-1].rows and not any(m.rows for m in discord[:-1]), "Discord: buttons not on the last message"
    return {
        "telegram": [shown_text(r.text) for r in telegram],
        "discord": [m.content for m in discord],
        "terminal": [PlainRenderer().render(reply.text)],
    }


def _label(guide: Guide, node_id: str, option_id: str) -> str:
    return next((o.label for o in getattr(guide.node(node_id), "options", ()) if o.id == option_id), "Continue")


def walks(guide: Guide) -> dict[tuple, list[tuple[str, str]]]:
    """One walk per distinct screen: the result, the answers, and the last button (Discord shows it)."""
    found: dict[tuple, list[tuple[str, str]]] = {}
    for path in guide_paths(guide):
        last = path.presses[-1] if path.presses else None
        found.setdefault((path.result, tuple(sorted(path.answers.items())), last), list(path.presses))
    return found


async def press(engine: Engine, key: UserKey, outcome: Outcome, wanted: str) -> Outcome:
    data = next(b.data for r in outcome.replies for row in r.buttons for b in row if b.label == wanted)
    return await engine.handle(key, Press(data))


async def press_option(engine: Engine, key: UserKey, outcome: Outcome, option_id: str) -> Outcome:
    suffix = f":{option_id}" if option_id else ""
    data = next(
        b.data
        for r in outcome.replies
        for row in r.buttons
        for b in row
        if button_data.parse(b.data).kind in ("o", "n") and b.data.endswith(suffix)
    )
    return await engine.handle(key, Press(data))


@functools.cache
def shipped_pack(pack: str) -> Guide:
    """Each pack loaded once (about a second with its translations), not once per date and language."""
    return load_guide(DEFAULT_CONTENT_PATH.parent / f"{pack}.yaml")


@pytest.mark.parametrize(("pack", "when", "language"), CASES)
async def test_every_result_fits_one_screen_and_details_show_the_rest(tmp_path, pack: str, when: str, language: str) -> None:
    guide = shipped_pack(pack)
    t = lang(language)
    checked = t.date(guide.checked)
    storage = await open_storage(tmp_path / "sizes.db")
    engine = Engine(guide, storage, ManualClock(DATES[when]))
    longest = {p: Measured() for p in ("telegram", "discord", "terminal")}
    longest_details = {p: Measured() for p in ("telegram", "discord", "terminal")}
    try:
        all_walks = walks(guide)
        # The walk really covers the graph.
        assert len(all_walks) > 100 if pack == "claude" else "result" in {r for r, _, _ in all_walks}
        for number, ((result, _, _), presses) in enumerate(all_walks.items()):
            key = UserKey("telegram", str(number))
            where = f"{' > '.join(_label(guide, n, o) for n, o in presses)} ({when}, {language})"
            outcome = await engine.handle(key, Start(), locale=HINTS[language])
            for _, option_id in presses:
                outcome = await press_option(engine, key, outcome, option_id)
            if result != "result":
                continue
            shown = _step_reply(outcome)
            confirmable = bool(set(_labels(shown)) & confirms(guide, language))
            for platform, messages in rendered(outcome, shown).items():
                assert len(messages) == 1, f"{platform}: the result is {len(messages)} messages: {where}"
                assert checked in messages[0], f"{platform}: the result does not say when it was checked: {where}"
                size = len(messages[0])
                assert size <= RESULT_MAX, f"{platform}: result of {size} characters: {where}\n{messages[0]}"
                longest[platform].see(size, where)
            assert details_label(guide, language) in _labels(shown), where

            details = await press(engine, key, outcome, details_label(guide, language))
            carrier = _step_reply(details)
            if confirmable:
                assert set(_labels(carrier)) & confirms(guide, language), f"details without a confirm button: {where}"
            for platform, messages in rendered(details, carrier).items():
                for message in messages:
                    assert len(message) <= DETAILS_MAX, f"{platform}: details of {len(message)}: {where}\n{message}"
                    longest_details[platform].see(len(message), where)
            back = await press(engine, key, details, t._(texts.BACK))
            assert back.replies[-1].text == shown.text, f"Back from details does not show the steps: {where}"
            assert _labels(back.replies[-1]) == _labels(shown)
    finally:
        await storage.close()
    for platform in longest:
        print(f"{pack} {when} {language} {platform}: result {longest[platform].size} via {longest[platform].where}; "
              f"details {longest_details[platform].size} via {longest_details[platform].where}")


@pytest.mark.parametrize("language", LANGUAGES)
async def test_troubleshooting_carries_its_confirm_button_within_one_screen(tmp_path, language: str) -> None:
    guide = SHIPPED
    notfound = _option_labels(guide, language, "result", "notfound")[0]
    storage = await open_storage(tmp_path / "trouble.db")
    try:
        for when, now in DATES.items():
            engine = Engine(guide, storage, ManualClock(now))
            for code in ("yes", "no"):
                key = UserKey("discord", f"{when}-{code}")
                outcome = await engine.handle(key, Start(), locale=HINTS[language])
                for option_id in ("decide", "personal", code, "accepted", "yes", "yes"):
                    outcome = await press_option(engine, key, outcome, option_id)
                outcome = await press(engine, key, outcome, notfound)
                shown = _confirm_reply(outcome, guide, language)
                for platform, messages in rendered(outcome, shown).items():
                    assert len(messages) == 1 and len(messages[0]) <= RESULT_MAX, (platform, when, code)
    finally:
        await storage.close()
