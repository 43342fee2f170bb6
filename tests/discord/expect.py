"""What a member should read, computed from the guide and the bot's texts the way the adapter renders them."""

from __future__ import annotations

from datetime import datetime

from adapters.discord.render import render
from tests.discord.conftest import FAKE_NOW

NOW = datetime.fromisoformat(FAKE_NOW)


def first_paragraph(markdown: str) -> str:
    return render(markdown).split("\n\n")[0]
