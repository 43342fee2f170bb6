"""Random event sequences from many users: never an exception, every reply fits every platform."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.clock import ManualClock
from bot.engine import Engine
from bot.events import Button, Command, Press, Start, Text, UserKey
from bot.guide import load_guide
from bot.markup import PlainRenderer, split_message
from bot.storage import open_storage
from tests.conftest import AFTER, MINI_GUIDE, SHIPPED_GUIDE
from tests.core.renderers import platform_messages

GUIDES = [MINI_GUIDE] + ([SHIPPED_GUIDE] if SHIPPED_GUIDE.exists() else [])

# (user index, kind, detail): the detail picks a live button, an old one, or carries forged data.
actions = st.lists(
    st.tuples(
        st.integers(0, 4),
        st.sampled_from(["live", "live", "live", "old", "forged", "text", "command", "start", "back"]),
        st.integers(0, 1000),
        st.text(max_size=70),
    ),
    min_size=1,
    max_size=40,
)


async def _play(guide_path: Path, steps: list[tuple[int, str, int, str]]) -> None:
    guide = load_guide(guide_path)
    with tempfile.TemporaryDirectory() as tmp:
        storage = await open_storage(Path(tmp) / "p.db")
        engine = Engine(guide, storage, ManualClock(AFTER))
        live: dict[int, list[Button]] = {}
        seen: dict[int, list[Button]] = {}
        plain = PlainRenderer()
        try:
            for user, kind, pick, forged in steps:
                key = UserKey("telegram" if user % 2 else "discord", str(user))
                if kind == "live" and live.get(user):
                    event = Press(live[user][pick % len(live[user])].data)
                elif kind == "old" and seen.get(user):
                    event = Press(seen[user][pick % len(seen[user])].data)
                elif kind == "forged":
                    event = Press(forged)
                elif kind == "text":
                    event = Text()
                elif kind == "command":
                    event = Command(["help", "steps", "sources", "privacy", "remind", "stop", "forget", forged][pick % 8])
                elif kind == "back":
                    event = Press(f"b:{pick % 5}")
                else:
                    event = Start(["steps", "decide", None, forged][pick % 4] or None)
                outcome = await engine.handle(key, event)
                assert outcome.replies, f"no reply to {event!r}"
                buttons = [b for r in outcome.replies for row in r.buttons for b in row if not b.url]
                if buttons:
                    live[user] = buttons
                    seen.setdefault(user, []).extend(buttons)
                for button in buttons:
                    assert len(button.data.encode()) <= 60 and len(button.label) <= 64
                for reply in outcome.replies:
                    assert all(0 < len(p) <= 4096 for p in split_message(plain.render(reply.text), 4096))
                for platform, text, limit in platform_messages(outcome):
                    assert 0 < len(text) <= limit, f"{platform} message of {len(text)} characters"
        finally:
            await storage.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=actions, guide_index=st.integers(0, len(GUIDES) - 1))
def test_random_sequences_never_raise_and_always_fit(steps, guide_index: int) -> None:
    asyncio.run(_play(GUIDES[guide_index], steps))
