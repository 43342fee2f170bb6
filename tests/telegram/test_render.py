"""The Telegram renderer: HTML that Telegram accepts, keyboards, and splitting long replies."""

from __future__ import annotations

import pytest

from adapters.telegram.render import (
    MESSAGE_LIMIT,
    TelegramRenderer,
    compose,
    keyboard,
    render_reply,
    toast,
)
from bot.events import Button, Edit, Message, Notice
from tests.fakes.telegram_api import ApiError, parse_html


def visible(html: str) -> str:
    return parse_html(html)[0]


def test_markup_becomes_telegram_html() -> None:
    html = TelegramRenderer().render("Open **Settings** and _Privacy_, see [the help](https://example.com/a?b=1&c=2).")
    assert html == (
        'Open <b>Settings</b> and <i>Privacy</i>, see <a href="https://example.com/a?b=1&amp;c=2">the help</a>.'
    )
    text, links = parse_html(html)
    assert text == "Open Settings and Privacy, see the help."
    assert links == [("the help", "https://example.com/a?b=1&c=2")]


@pytest.mark.parametrize(
    ("source", "seen"),
    [
        ("1 < 2 & 3 > 2", "1 < 2 & 3 > 2"),
        ("Use <b>not a tag</b> & &amp; literally", "Use <b>not a tag</b> & &amp; literally"),
        ('**Tom & "Jerry" <3**', 'Tom & "Jerry" <3'),
    ],
)
def test_user_visible_text_is_escaped_and_shown_as_typed(source: str, seen: str) -> None:
    assert visible(TelegramRenderer().render(source)) == seen


def test_the_fake_refuses_unescaped_html_as_telegram_does() -> None:
    # Proves the check the escaping tests rely on is real.
    for bad in ("1 < 2", "Tom & Jerry", "<b>open", "<script>x</script>", "<b><i>x</b></i>"):
        with pytest.raises(ApiError, match="can't parse entities"):
            parse_html(bad)


def test_lists_render_with_marks_and_numbers() -> None:
    html = TelegramRenderer().render("Steps:\n\n1. Open **Settings**\n2. Turn it off\n\n- one\n- two")
    assert visible(html) == "Steps:\n\n1. Open Settings\n2. Turn it off\n\n• one\n• two"


def test_a_long_reply_is_split_at_paragraph_boundaries_with_the_keyboard_last() -> None:
    paragraphs = [f"Paragraph {i}: " + ("word " * 150).strip() + "." for i in range(12)]  # ~9,000 characters
    reply = Message("\n\n".join(paragraphs), buttons=((Button("Next", "n:1"),),))
    parts = render_reply(reply)
    assert len(parts) == 3
    assert all(len(p.text) <= MESSAGE_LIMIT for p in parts)
    # No paragraph is cut: each message is whole paragraphs, in order, and together they are all of them.
    rejoined = [para for p in parts for para in p.text.split("\n\n")]
    assert rejoined == paragraphs
    assert [p.markup is not None for p in parts] == [False, False, True]
    assert parts[-1].markup.inline_keyboard[0][0].callback_data == "n:1"  # type: ignore[union-attr]


def test_escaping_never_pushes_a_part_over_the_limit() -> None:
    # "&" grows to "&amp;" in HTML: splitting must measure the rendered text, not the source.
    para = "&" * 1500
    parts = render_reply(Message("\n\n".join([para] * 4)))
    assert all(len(p.text) <= MESSAGE_LIMIT for p in parts)
    assert "".join(visible(p.text) for p in parts).replace("\n", "") == "&" * 6000


def test_an_answered_question_becomes_a_line_on_top_of_the_next_step() -> None:
    parts = compose([
        Edit("Pro <& Max>", "Do you use **Claude Code**?", ((Button("Yes", "o:2:yes"),),)),
    ])
    assert len(parts) == 1
    assert visible(parts[0].text) == "✅ Pro <& Max>\n\nDo you use Claude Code?"
    assert parts[0].text.startswith("✅ <b>Pro &lt;&amp; Max&gt;</b>\n\n")
    assert parts[0].markup is not None and parts[0].markup.inline_keyboard[0][0].text == "Yes"


def test_a_long_next_step_keeps_the_chosen_line_within_the_limit() -> None:
    paragraphs = [f"Paragraph {i}: " + ("word " * 150).strip() + "." for i in range(12)]
    parts = compose([Edit("Yes", "\n\n".join(paragraphs), ((Button("Next", "n:1"),),))])
    assert all(len(p.text) <= MESSAGE_LIMIT for p in parts)
    assert parts[0].text.startswith("✅ <b>Yes</b>\n\nParagraph 0:")
    assert [p.markup is not None for p in parts] == [False] * (len(parts) - 1) + [True]


def test_replies_without_an_answered_question_are_rendered_as_they_are() -> None:
    notice, step = Notice("That button is old."), Message("Which plan?", buttons=((Button("Pro", "o:1:pro"),),))
    assert compose([notice, step]) == [*render_reply(notice), *render_reply(step)]


def test_keyboards_keep_data_opaque_and_make_link_buttons() -> None:
    markup = keyboard(((Button("A", "o:3:a"), Button("B", "o:3:b")), (Button("Docs", "", url="https://example.com"),)))
    assert markup is not None
    rows = markup.to_dict()["inline_keyboard"]
    assert rows == [
        [{"text": "A", "callback_data": "o:3:a"}, {"text": "B", "callback_data": "o:3:b"}],
        [{"text": "Docs", "url": "https://example.com"}],
    ]
    assert keyboard(()) is None


def test_toasts_are_plain_and_short() -> None:
    assert toast(Notice("**Stale** button <here>")) == "Stale button <here>"
    assert len(toast(Notice("x" * 500))) == 200


def test_a_single_line_longer_than_a_message_is_cut_between_words() -> None:
    line = " ".join(["<word>"] * 1500)  # 10,499 characters, no line or paragraph break
    parts = render_reply(Message(line))
    assert len(parts) > 1
    assert all(len(p.text) <= MESSAGE_LIMIT for p in parts)
    words = " ".join(visible(p.text) for p in parts).split()  # cuts fall between words, as breaks
    assert words == line.split()
