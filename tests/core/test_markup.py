from bot.markup import Bold, Italic, Link, ListBlock, Paragraph, Plain, PlainRenderer, parse, split_message


def test_parse_inline_and_lists() -> None:
    blocks = parse("Open **Settings** and _Privacy_, see [the page](https://claude.ai/x).\n\n1. one\n2. two\n\n- a\n- b")
    assert blocks[0] == Paragraph(
        ((Plain("Open "), Bold((Plain("Settings"),)), Plain(" and "), Italic((Plain("Privacy"),)), Plain(", see "),
          Link((Plain("the page"),), "https://claude.ai/x"), Plain(".")),)
    )
    assert blocks[1] == ListBlock(((Plain("one"),), (Plain("two"),)), numbered=True, start=1)
    assert blocks[2] == ListBlock(((Plain("a"),), (Plain("b"),)), numbered=False)


def test_unsupported_markup_stays_plain_text() -> None:
    assert PlainRenderer().render("a * b < c & snake_case_name `x`") == "a * b < c & snake_case_name `x`"


def test_plain_renderer_spells_out_links() -> None:
    assert PlainRenderer().render("[Settings](https://claude.ai/settings)") == "Settings (https://claude.ai/settings)"


def test_short_text_is_one_message() -> None:
    assert split_message("hello", 10) == ["hello"]


def test_split_at_paragraphs_keeps_every_character() -> None:
    paragraphs = [f"Paragraph {i}. " + "word " * 40 for i in range(30)]
    text = "\n\n".join(p.strip() for p in paragraphs)
    parts = split_message(text, 1000)
    assert all(len(p) <= 1000 for p in parts) and len(parts) > 1
    assert "\n\n".join(parts) == text
    assert all(p.startswith("Paragraph") for p in parts)


def test_a_long_paragraph_is_cut_after_a_sentence() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(200))
    parts = split_message(text, 500)
    assert all(len(p) <= 500 for p in parts)
    assert all(p.endswith(".") for p in parts)
    assert " ".join(parts) == text


def test_plain_renderer_shows_a_bare_address_once() -> None:
    # The sources list links each address to itself; the terminal must not print it twice.
    assert PlainRenderer().render("• [https://example.org/a](https://example.org/a)") == "• https://example.org/a"
