"""An Errbot-style driver for the engine: push an event, pop the replies, press buttons by label."""

from __future__ import annotations

from bot.engine import Engine
from bot.events import Button, Command, Event, Press, Reply, Start, Text, UserKey


class EngineChat:
    def __init__(self, engine: Engine, user_id: str = "1001", platform: str = "telegram") -> None:
        self.engine = engine
        self.key = UserKey(platform, user_id)
        self.replies: list[Reply] = []
        self.buttons: list[Button] = []  # the live buttons of the latest step

    async def push(self, event: Event) -> list[Reply]:
        outcome = await self.engine.handle(self.key, event)
        self.replies = outcome.replies
        shown = [b for r in outcome.replies for row in r.buttons for b in row]
        if shown:
            self.buttons = shown
        return outcome.replies

    async def start(self, entry: str | None = None) -> list[Reply]:
        return await self.push(Start(entry))

    async def command(self, name: str, arg: str | None = None) -> list[Reply]:
        return await self.push(Command(name, arg))

    async def text(self) -> list[Reply]:
        return await self.push(Text())

    def button(self, label: str) -> Button:
        matches = [b for b in self.buttons if b.label == label]
        assert matches, f"no button {label!r}; buttons are {[b.label for b in self.buttons]}"
        return matches[0]

    async def press(self, label: str) -> list[Reply]:
        return await self.push(Press(self.button(label).data))

    @property
    def labels(self) -> list[str]:
        return [b.label for b in self.buttons]

    @property
    def text_shown(self) -> str:
        """Everything the last outcome showed, as one string."""
        return "\n\n".join(r.text for r in self.replies)
