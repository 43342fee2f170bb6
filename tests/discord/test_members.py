"""What members see: every /optout command, private replies, DMs, and buttons that are stale, forged or not theirs."""

from __future__ import annotations

import re
import sqlite3

import pytest

from adapters.discord.handler import FOREIGN_BUTTON, UNKNOWN_BUTTON
from adapters.discord.render import render
from bot import texts
from bot.engine import node_text
from bot.guide import Guide
from tests.discord.conftest import BotProcess
from tests.discord.expect import NOW, first_paragraph
from tests.fakes.discord_api import FakeDiscord

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_commands_answer_privately_in_a_server(fake: FakeDiscord, bot: BotProcess, guide: Guide) -> None:
    member = fake.member(2001)
    earlier = set(fake.messages)  # the module's other tests share the fake
    steps_node = guide.node(guide.entries["steps"])
    expected = {
        "optout steps": first_paragraph(node_text(guide, steps_node, {}, NOW)),
        # As a member reads them on Discord, not built from the adapter's own command hints.
        "optout help": "- /optout steps: Just show me the steps",
        "optout privacy": "**What I keep about you**",
        "optout sources": "https://www.anthropic.com/news/updates-to-our-consumer-terms",
        "optout start": first_paragraph(node_text(guide, guide.node(guide.start), {}, NOW)),
    }
    for command, text in expected.items():
        interaction = await member.slash(command)
        parts = [await member.pop_message()]
        while not parts[-1].labels():  # a long reply (every source with its address) comes in parts
            parts.append(await member.pop_message())
        assert interaction.ack_type == 4
        shown = "\n".join(m.content for m in parts)
        assert text in shown, f"/{command}: {shown[:300]!r}"
        assert all(m.ephemeral and m.visible_to == member.id for m in parts)
    # Nobody else in the channel saw any of it.
    bystander = fake.member(2002)
    assert bystander.pending() == 0
    assert all(msg.visible_to == member.id for key, msg in fake.messages.items() if key not in earlier)


async def test_forget_asks_first_then_erases(fake: FakeDiscord, bot: BotProcess) -> None:
    member = fake.member(2101)
    await member.slash("optout start")
    await member.pop_message()
    await member.slash("optout forget")
    ask = await member.pop_message()
    assert render(texts.FORGET_ASK) in ask.content
    assert ask.labels() == [texts.FORGET_YES, texts.FORGET_NO]
    assert _users(bot, member.id) == 1, "nothing is erased before the confirmation"

    await member.press(texts.FORGET_YES)
    done = await member.pop_message()
    assert done.id == ask.id and render(texts.FORGOTTEN) in done.content
    assert done.labels() == []
    assert _users(bot, member.id) == 0


async def test_the_members_own_language_is_kept_with_their_answers(fake: FakeDiscord, bot: BotProcess) -> None:
    # The server's preferred locale is en-US; the member's client is in Spanish.
    member = fake.member(2103, locale="es-ES")
    await member.slash("optout start")
    await member.pop_message()
    with sqlite3.connect(bot.db) as db:
        stored = db.execute("SELECT locale FROM users WHERE platform = 'discord' AND user_id = ?",
                            (str(member.id),)).fetchall()
    assert stored == [("es-ES",)]


async def test_keeping_the_data_changes_nothing(fake: FakeDiscord, bot: BotProcess) -> None:
    member = fake.member(2102)
    await member.slash("optout forget")
    await member.pop_message()
    await member.press(texts.FORGET_NO)
    kept = await member.pop_message()
    assert render(texts.FORGET_KEPT) in kept.content
    assert texts.CONTINUE_WHERE in kept.labels()


async def test_remind_off_when_nothing_is_scheduled(fake: FakeDiscord, bot: BotProcess) -> None:
    member = fake.member(2104)
    await member.slash("optout remind", turn="off")
    message = await member.pop_message()
    assert render(texts.NO_REMINDERS_TO_STOP) in message.content


async def test_commands_and_buttons_work_in_a_dm(fake: FakeDiscord, bot: BotProcess, guide: Guide) -> None:
    member = fake.member(2201, in_dm=True)
    await member.slash("optout start")
    first = await member.pop_message()
    assert not first.ephemeral and first.channel_id == member.dm_channel
    label = first.labels()[0]
    await member.press(label)
    edited = await member.pop_message()
    assert edited.id == first.id and edited.content.startswith("✅")


async def test_a_stale_button_explains_and_moves_nothing(fake: FakeDiscord, bot: BotProcess, guide: Guide) -> None:
    member = fake.member(2301)
    await member.slash("optout start")
    old = await member.pop_message()
    await member.slash("optout start")  # a second guide message: the first one's buttons are now stale
    current = await member.pop_message()
    label = old.labels()[0]

    interaction = await member.press(label, fake.messages[old.id])
    notice = await member.pop_message()
    again = await member.pop_message()
    assert interaction.ack_type == 4 and notice.ephemeral
    assert render(texts.STALE_BUTTON) in notice.content
    assert again.labels() == current.labels(), "the current step is shown again"
    assert fake.messages[old.id].edits == 0, "the stale message is left as it was"
    # The current step still works.
    await member.press(label, fake.messages[current.id])
    assert (await member.pop_message()).id == current.id


async def test_forged_buttons_get_a_short_explanation(fake: FakeDiscord, bot: BotProcess) -> None:
    member = fake.member(2401)
    await member.slash("optout start")
    message = await member.pop_message()

    unknown = await member.press_custom_id("legacy-button:7", message)
    reply = await member.pop_message()
    assert unknown.ack_type == 4 and reply.ephemeral and reply.content == UNKNOWN_BUTTON

    forged = await member.press_custom_id(f"oo:{member.id}:o:99999:nope", message)
    notice, again = await member.pop_message(), await member.pop_message()
    assert forged.ack_type == 4 and render(texts.STALE_BUTTON) in notice.content
    assert again.labels() == message.labels()

    bad = await member.press_custom_id(f"oo:{member.id}:zz", message)
    notice, again = await member.pop_message(), await member.pop_message()
    assert bad.ack_type == 4 and render(texts.BAD_BUTTON) in notice.content
    assert again.labels() == message.labels()
    assert fake.messages[message.id].edits == 0


async def test_another_members_button_is_refused(fake: FakeDiscord, bot: BotProcess) -> None:
    owner, other = fake.member(2501), fake.member(2502)
    await owner.slash("optout start")
    message = await owner.pop_message()
    button = message.button(message.labels()[0])
    assert button is not None

    interaction = await other.press_custom_id(button["custom_id"], message)
    reply = await other.pop_message()
    assert interaction.ack_type == 4 and reply.ephemeral and reply.visible_to == other.id
    assert reply.content == FOREIGN_BUTTON
    # Told in the presser's own client language.
    spanish = fake.member(2503, locale="es-ES")
    await spanish.press_custom_id(button["custom_id"], message)
    assert (await spanish.pop_message()).content == (
        "Ese botón es de la conversación de otra persona. Usa `/optout start` para abrir la tuya.")
    assert fake.messages[message.id].edits == 0 and owner.pending() == 0
    await owner.press(message.labels()[0])
    assert (await owner.pop_message()).id == message.id, "the owner's conversation is untouched"


def _users(bot: BotProcess, user_id: int) -> int:
    with sqlite3.connect(bot.db) as db:
        return db.execute("SELECT count(*) FROM users WHERE platform = 'discord' AND user_id = ?",
                          (str(user_id),)).fetchone()[0]


def _mentioned_commands(text: str) -> list[str]:
    """Every command the text tells the reader to type: a slash, a name, then its options (name:value)."""
    return re.findall(r"(?<![\w/])/[a-z-]+(?: [a-z-]+)?(?: [a-z_]+:[a-z_]+)*", text)


async def test_help_names_only_commands_a_member_can_type(fake: FakeDiscord, bot: BotProcess) -> None:
    member = fake.member(2601)
    await member.slash("optout help")
    helped = (await member.pop_message()).content
    assert "- /optout remind turn:off: Stop all reminders" in helped
    assert "- /optout forget: Erase everything the bot has about you" in helped
    _scope, synced = fake.syncs[-1]
    commands = {c["name"]: {o["name"]: o for o in c.get("options", [])} for c in synced}
    mentioned = _mentioned_commands(helped)
    assert len(mentioned) == 9, mentioned  # the eight /optout commands, and remind turn:off
    for typed in mentioned:
        name, *rest = typed[1:].split(" ")
        assert name in commands, f"help names {typed}: there is no /{name} on Discord"
        if not rest:
            continue
        sub, *options = rest
        assert sub in commands[name], f"help names {typed}: /{name} has no {sub}"
        offered = {o["name"]: o for o in commands[name][sub].get("options", [])}
        for option in options:
            option_name, value = option.split(":")
            assert option_name in offered, f"help names {typed}: no option {option_name}"
            choices = [c["value"] for c in offered[option_name].get("choices", [])]
            assert not choices or value in choices, f"help names {typed}: {option_name} offers {choices}"


async def test_privacy_tells_how_to_erase_with_a_command_that_exists(fake: FakeDiscord, bot: BotProcess) -> None:
    member = fake.member(2602)
    await member.slash("optout privacy")
    told = (await member.pop_message()).content
    assert "send /optout forget and confirm" in told
    assert "deleted automatically after 180 days without activity" in told

