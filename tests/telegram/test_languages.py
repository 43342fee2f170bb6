"""A Telegram user is answered in their app's language, end to end: `optout-bot run` with the shipped
guide against the fake Bot API, the real python-telegram-bot client inside."""

from __future__ import annotations

import pytest
import pytest_asyncio

from bot import texts
from bot.guide import load_guide
from bot.i18n import choose_language, lang
from tests.conftest import SHIPPED_GUIDE
from tests.fakes.telegram_api import FakeBotAPI
from tests.telegram.conftest import BotProcess, bot_env

pytestmark = pytest.mark.asyncio(loop_scope="module")

GUIDE = load_guide(SHIPPED_GUIDE)


def label(language: str, node: str, option: str) -> str:
    return next(o.label for o in GUIDE.in_language(language).node(node).options if o.id == option)


def opening(language: str, node: str) -> str:
    """The first words of a node's text in a language (markup left out)."""
    return GUIDE.in_language(language).node(node).blocks[0].text.replace("**", "")[:25]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(fake: FakeBotAPI, tmp_path_factory: pytest.TempPathFactory):
    workdir = tmp_path_factory.mktemp("languages")
    process = BotProcess(fake, workdir, bot_env(fake, workdir, SHIPPED_GUIDE))
    await process.start()
    yield process
    assert await process.stop() == 0, process.output[-3000:]


@pytest.mark.parametrize("code", ["de", "es", "fr", "pt-br"])
async def test_the_whole_walk_is_in_the_users_language(fake: FakeBotAPI, bot: BotProcess, code: str) -> None:
    language = choose_language(code)
    user = fake.user(8_800_000 + len(code) * 10 + ord(code[0]), language_code=code)
    await user.send("/start")
    home = await user.pop_message()
    assert home.text.startswith(opening(language, "start")[:10]), home.text
    screen = await user.tap(label(language, "start", "decide"))
    assert opening(language, "plan") in screen.text
    for node, option in (("plan", "personal"), ("code", "yes"), ("popup", "accepted"), ("resumed", "yes"),
                         ("sensitive", "no")):
        screen = await user.tap(label(language, node, option))
    assert f"✅ {label(language, 'sensitive', 'no')}" in screen.text
    assert "claude.ai/settings/data-privacy-controls" in screen.text
    assert len(screen.text) <= 800
    more = await user.tap(label(language, "result", "details"))
    assert opening(language, "details")[:12] in more.text, more.text
    last = more if more.buttons else (await user.pop_until_buttons())[-1]
    # The navigation the bot adds is in the language too.
    assert lang(language)._(texts.BACK) in [b["text"] for b in last.buttons]


async def test_language_switches_mid_walk_without_losing_the_place(fake: FakeBotAPI, bot: BotProcess) -> None:
    user = fake.user(8_800_999, language_code="en")
    await user.send("/start")
    await user.pop_message()
    plan = await user.tap(label("en", "start", "decide"))
    assert "Which kind of Claude account is it?" in plan.text
    await user.send("/language")
    await user.pop_until_buttons()
    first = await user.tap("Español")
    shown = "\n".join(m.text for m in [first, *([] if first.buttons else await user.pop_until_buttons())])
    assert "Perfecto, a partir de ahora te hablo en español." in shown
    assert "¿Qué tipo de cuenta de Claude es?" in shown
    code = await user.tap(label("es", "plan", "personal"))
    assert "¿Usas Claude Code con esta cuenta?" in code.text
