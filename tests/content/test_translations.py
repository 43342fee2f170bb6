"""The guide's translations keep the English facts' hedges and quote Claude's labels in English."""

from __future__ import annotations

import re

import pytest

from bot.guide import load_guide

GUIDE = load_guide()
# Each language's one word for the fact sheet's (secondary) "reportedly" (F8).
REPORTEDLY = {"de": "Berichten zufolge", "es": "según se informó", "fr": "selon la presse", "pt_BR": "segundo relatos"}
# Claude's labels appear in English inside the language's quotes, with a translation in brackets.
QUOTES = {"de": ("„", "“"), "es": ("«", "»"), "fr": ("« ", " »"), "pt_BR": ("“", "”")}
LABELS = ("Help improve Claude", "Help improve our AI models", "Settings", "Privacy", "Accept")


def _pairs(language: str):
    local = GUIDE.in_language(language)
    for english, translated in zip(GUIDE.nodes, local.nodes, strict=True):
        for block, tblock in zip(english.blocks, translated.blocks, strict=True):
            yield f"{english.id}.{block.id}", block.text, tblock.text


@pytest.mark.parametrize("language", REPORTEDLY)
def test_every_hedge_is_kept(language: str) -> None:
    for where, english, translated in _pairs(language):
        if "reportedly" in english:
            assert REPORTEDLY[language] in translated, f"{language} {where} lost 'reportedly'"
        if "may read" in english or "It may read" in english:
            assert "Help improve our AI models" in translated, f"{language} {where} lost the other label"


@pytest.mark.parametrize("language", QUOTES)
def test_claude_labels_stay_english_in_quotes(language: str) -> None:
    left, right = QUOTES[language]
    for where, _, translated in _pairs(language):
        for label in LABELS:
            # ("Help improve Claude" is also inside "You can help improve Claude", the pop-up's own words.)
            bare = translated.replace(f"{left}{label}{right}", "").replace("You can help improve Claude", "")
            assert not re.search(rf"\b{label}\b", bare), f"{language} {where}: {label!r} is not in quotes"
    steps = GUIDE.in_language(language).node("result").blocks
    text = next(b.text for b in steps if b.id == "r_steps")
    assert all(f"{left}{label}{right}" in text for label in LABELS[:4])


@pytest.mark.parametrize("language", QUOTES)
def test_the_guide_says_once_that_labels_may_be_translated(language: str) -> None:
    hello = GUIDE.in_language(language).node("start").blocks[0].text
    trouble = GUIDE.in_language(language).node("troubleshoot")
    label_tip = next(b.text for b in trouble.blocks if b.id == "t_label")
    word = {"de": "übersetzt", "es": "traducido", "fr": "tradui", "pt_BR": "traduzida"}[language]
    assert word in hello and word in label_tip
