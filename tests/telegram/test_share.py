"""Sharing a guide on Telegram, end to end: `optout-bot run` with the shipped packs, inline mode on, against
the fake Bot API. A share button opens the chat picker, the bot answers the inline query with one card
per pack, the friend taps the card's button and lands in that guide, in their own language."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
import pytest_asyncio

from bot import texts
from bot.content_check import pack_files
from bot.guide import Guide, load_guide
from bot.i18n import lang
from bot.share import CARD, SHARE
from tests.conftest import SHIPPED_GUIDE
from tests.fakes.telegram_api import FakeBotAPI, parse_html
from tests.telegram.conftest import OPTOUT_BOT, BotProcess, bot_env

pytestmark = pytest.mark.asyncio(loop_scope="module")

CLAUDE = load_guide(SHIPPED_GUIDE)
PACKS: dict[str, Guide] = {g.pack: g for g in [CLAUDE, *(load_guide(p) for p in pack_files(SHIPPED_GUIDE.parent))]}
USERNAME = "optout_test_bot"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def fake():
    # Inline mode and inline feedback on, as @BotFather's /setinline and /setinlinefeedback set them.
    async with FakeBotAPI(username=USERNAME, inline_queries=True, inline_feedback=True) as api:
        yield api


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(fake: FakeBotAPI, tmp_path_factory: pytest.TempPathFactory):
    workdir = tmp_path_factory.mktemp("share")
    process = BotProcess(fake, workdir, bot_env(fake, workdir, SHIPPED_GUIDE, TELEGRAM_INLINE_FEEDBACK="true"))
    await process.start()
    yield process
    assert await process.stop() == 0, process.output[-3000:]


def card_text(pack: str, language: str = "en") -> str:
    guide = PACKS[pack].in_language(language)
    setting = guide.title.partition(":")[2].strip()
    return lang(language)._(CARD).format(assistant=guide.name, setting=setting)


async def counts(bot: BotProcess, counter: str, within: float = 10.0) -> int:
    """The funnel's total of ``counter`` once it is non-zero (a bounded poll of the bot's database)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        with sqlite3.connect(bot.db_path) as db:
            n = db.execute("SELECT COALESCE(SUM(n), 0) FROM funnel WHERE counter = ?", (counter,)).fetchone()[0]
        if n or loop.time() > deadline:
            return n
        await asyncio.sleep(0.05)


async def test_an_inline_query_is_answered_with_a_card_per_pack(fake: FakeBotAPI, bot: BotProcess) -> None:
    sharer = fake.user(9_100_001, first_name="Robin")
    everything = await sharer.inline_query("")
    assert [r["id"] for r in everything.results or []] == list(PACKS)
    assert everything.answer.get("is_personal") is True
    for result in everything.results or []:
        pack = result["id"]
        assert result["title"] == PACKS[pack].name
        text = parse_html(result["input_message_content"]["message_text"])[0]
        assert text == card_text(pack)
        # One button, opening the bot at that pack with the shared marker.
        [[button]] = result["reply_markup"]["inline_keyboard"]
        assert button["url"] == f"https://t.me/{USERNAME}?start=s-{pack}"
        assert "Robin" not in text and str(sharer.id) not in text  # nothing about the sharer
    # A German sharer: Claude's card in German (the pack speaks it), ChatGPT's in English, as its guide is.
    german = await fake.user(9_100_007, language_code="de").inline_query("")
    cards = {r["id"]: r for r in german.results or []}
    assert parse_html(cards["claude"]["input_message_content"]["message_text"])[0] == card_text("claude", "de")
    assert cards["claude"]["reply_markup"]["inline_keyboard"][0][0]["text"] == "Leitfaden öffnen"
    assert parse_html(cards["chatgpt"]["input_message_content"]["message_text"])[0] == card_text("chatgpt")
    # `@bot chatgpt` typed in any chat: ChatGPT's card only.
    typed = await sharer.inline_query("chatgpt")
    assert [r["id"] for r in typed.results or []] == ["chatgpt"]
    assert "Improve the model for everyone" in typed.results[0]["input_message_content"]["message_text"]


async def test_the_share_button_passes_the_guide_to_a_friend_who_opens_it_in_their_language(
    fake: FakeBotAPI, bot: BotProcess
) -> None:
    sharer = fake.user(9_100_002)
    await sharer.send("/steps")
    result = (await sharer.pop_until_buttons())[-1]
    button = result.button(SHARE)
    # Telegram's chat picker, with the pack as the query the client fills in.
    assert button["switch_inline_query_chosen_chat"]["query"] == "claude"
    assert button["switch_inline_query_chosen_chat"]["allow_user_chats"] is True
    off = next(o.label for o in CLAUDE.node("result").options if o.action == "confirm_off")
    thanks = await sharer.tap(off)
    assert texts.THANKS_OFF.split("**")[1] in thanks.text
    assert thanks.button(SHARE)["switch_inline_query_chosen_chat"]["query"] == "claude"

    query = await sharer.inline_query(button["switch_inline_query_chosen_chat"]["query"])
    friend = fake.user(9_100_003, first_name="Kim", language_code="de")
    card = await sharer.send_inline_result(query, "claude", to=friend)
    assert card.text == card_text("claude")
    opened = await friend.open_link(card.buttons[0]["url"])
    assert opened.text == "/start s-claude"
    home = await friend.pop_message()
    # The friend's own language (German, from their app), at the start of Claude's guide.
    german = CLAUDE.in_language("de").node("start").blocks[0].text.replace("**", "")[:25]
    assert home.text.startswith(german), home.text
    assert lang("de")._(texts.START_OVER) not in home.labels  # the guide's beginning

    assert await counts(bot, "claude/shared_start") >= 1
    assert await counts(bot, "claude/share_sent") >= 1  # chosen_inline_result, with inline feedback on


async def test_a_shared_link_to_another_pack_opens_that_pack(fake: FakeBotAPI, bot: BotProcess) -> None:
    friend = fake.user(9_100_004, language_code="pt-br")
    await friend.open_link(f"https://t.me/{USERNAME}?start=s-chatgpt")
    shown = await friend.pop_until_buttons()
    text = "\n".join(m.text for m in shown)
    # ChatGPT's guide speaks English only; the notice saying so is in the friend's language.
    assert lang("pt_BR")._(texts.ONLY_IN_ENGLISH) in text
    start = PACKS["chatgpt"].node(PACKS["chatgpt"].start)
    assert start.blocks[0].text.replace("**", "")[:30] in text
    assert await counts(bot, "chatgpt/shared_start") == 1


async def test_stats_show_the_shares_per_pack(fake: FakeBotAPI, bot: BotProcess) -> None:
    sharer = fake.user(9_100_005)
    query = await sharer.inline_query("gemini")
    await sharer.send_inline_result(query, "gemini", to=fake.user(9_100_006))
    assert await counts(bot, "gemini/share_sent") == 1
    proc = await asyncio.create_subprocess_exec(str(OPTOUT_BOT), "stats", env=bot.env, cwd=bot.workdir,
                                                stdout=asyncio.subprocess.PIPE)
    out = (await asyncio.wait_for(proc.communicate(), 60))[0].decode()
    assert proc.returncode == 0
    header = next(line for line in out.splitlines() if line.startswith("pack "))
    columns = header.split()
    row = dict(zip(columns, next(line for line in out.splitlines() if line.startswith("gemini ")).split(), strict=True))
    assert row["shares_sent"] == "1"
    chatgpt = dict(zip(columns, next(line for line in out.splitlines() if line.startswith("chatgpt ")).split(), strict=True))
    assert chatgpt["shared_starts"] == "1"


async def test_without_inline_mode_share_is_a_link_to_telegrams_share_page(tmp_path_factory: pytest.TempPathFactory) -> None:
    async with FakeBotAPI(username=USERNAME) as plain:  # inline mode never turned on with @BotFather
        workdir = tmp_path_factory.mktemp("no-inline")
        process = BotProcess(plain, workdir, bot_env(plain, workdir, SHIPPED_GUIDE))
        await process.start()
        try:
            user = plain.user(9_100_101)
            await user.send("/steps")
            result = (await user.pop_until_buttons())[-1]
            assert result.button(SHARE)["url"] == f"https://t.me/share/url?url=https%3A%2F%2Ft.me%2F{USERNAME}%3Fstart%3Ds-claude"
            assert "inline mode is off" in process.output and "/setinline" in process.output
        finally:
            assert await process.stop() == 0, process.output[-3000:]
