"""Discord markdown, the 2,000-character split, and buttons within Discord's limits."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from adapters.discord.handler import CUSTOM_ID_LIMIT, AnnouncementButton, GuideButton, build_view
from adapters.discord.render import LABEL_LIMIT, MESSAGE_LIMIT, ROW_LIMIT, ROWS_LIMIT, compose, layout, render
from bot.button_data import BUTTON_DATA_MAX
from bot.events import Button, Edit, Message, Notice, Outcome


def test_the_markdown_subset_becomes_discord_markdown() -> None:
    text = "**Open** _Settings_ and [read this](https://example.com/a_b)\n\n- one\n1. first"
    assert render(text) == "**Open** *Settings* and [read this](<https://example.com/a_b>)\n\n- one\n\n1. first"


def test_stray_markup_is_shown_as_typed() -> None:
    shown = render("a_b * c ~~d~~ `e` > f [x] <@123> # h")
    for raw in ("_", "*", "~", "`", "[", "]"):
        assert f"\\{raw}" in shown


def test_long_text_is_split_at_paragraphs_within_the_limit() -> None:
    paragraphs = [f"Paragraph {i}: " + "word " * 90 for i in range(12)]
    messages = compose(Outcome([Message("\n\n".join(paragraphs), buttons=((Button("Next", "n:1"),),))]))
    assert len(messages) > 1
    assert all(len(m.content) <= MESSAGE_LIMIT for m in messages)
    assert all(m.content.startswith("Paragraph") for m in messages), "cut between paragraphs"
    assert [bool(m.rows) for m in messages] == [False] * (len(messages) - 1) + [True], "buttons on the last part"


def test_an_answer_heads_the_next_step() -> None:
    outcome = Outcome([Edit("Pro", "Do you use Claude Code?")])
    (message,) = compose(outcome)
    assert message.content == "✅ **Pro**\n\nDo you use Claude Code?"


def test_notices_are_their_own_messages() -> None:
    outcome = Outcome([Notice("That button is old."), Message("Where we are", buttons=((Button("A", "c"),),))])
    notice, step = compose(outcome)
    assert notice.notice and not notice.rows and step.rows


@given(st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=12))
def test_buttons_fit_five_rows_of_five(row_sizes: list[int]) -> None:
    rows = tuple(tuple(Button(f"b{r}.{i}", f"o:1:{r}{i}") for i in range(n)) for r, n in enumerate(row_sizes))
    packed = layout(rows)
    assert len(packed) <= ROWS_LIMIT and all(0 < len(r) <= ROW_LIMIT for r in packed)
    flat = [b for row in rows for b in row]
    kept = [b for row in packed for b in row]
    assert kept == flat[: len(kept)], "order kept"
    if len(flat) <= ROWS_LIMIT:
        assert kept == flat


def test_custom_ids_and_labels_stay_within_discords_limits() -> None:
    longest = "x" * BUTTON_DATA_MAX
    biggest_id = 2**64 - 1  # a snowflake never exceeds 64 bits
    view = build_view(((Button("L" * 120, longest),),), biggest_id)
    assert view is not None
    (item,) = view.children
    assert len(item.custom_id) <= CUSTOM_ID_LIMIT and len(item.item.label) <= LABEL_LIMIT  # type: ignore[attr-defined]
    assert GuideButton.__discord_ui_compiled_template__.fullmatch(item.custom_id)  # type: ignore[attr-defined]
    (announce,) = build_view(((Button("Open", "e:steps"),),), None).children  # type: ignore[union-attr]
    assert AnnouncementButton.__discord_ui_compiled_template__.fullmatch(announce.custom_id)  # type: ignore[attr-defined]


def test_link_buttons_carry_their_url() -> None:
    view = build_view(((Button("Open Claude", "", url="https://claude.ai/settings"),),), 1)
    (item,) = view.children  # type: ignore[union-attr]
    assert item.url == "https://claude.ai/settings" and item.custom_id is None  # type: ignore[attr-defined]
