"""The terminal chat: numbered choices in, plain text out. Also scriptable with piped input."""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from bot.engine import Engine
from bot.events import Button, Command, Edit, Event, Outcome, Press, Start, Text, UserKey
from bot.i18n import N_, lang, person_language
from bot.markup import PlainRenderer

QUIT = {"q", "quit", "exit"}
BYE = N_("Bye! You can change the setting at any time.")


class ConsoleChat:
    """Translate typed lines to engine events and print the replies; holds no conversation logic."""

    def __init__(
        self, engine: Engine, out: TextIO = sys.stdout, inp: TextIO = sys.stdin, echo: bool | None = None,
        entry: str | None = None,
    ):
        self.engine = engine
        self.entry = entry  # where to open: a pack (``--pack chatgpt``) or a guide entry point
        self.out = out
        self.inp = inp
        # With piped input the typed line is not on the screen, so echo it to keep the transcript readable.
        self.echo = (not inp.isatty()) if echo is None else echo
        self.key = UserKey("console", "local")
        self.renderer = PlainRenderer()
        self.buttons: list[Button] = []

    async def run(self) -> None:
        """Open the guide, then answer each line until end of input or 'quit'."""
        self.show(await self.engine.handle(self.key, Start(self.entry)))
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, self.inp.readline)
            if not line:
                break
            line = line.strip()
            if self.echo:
                self.print(f"> {line}")
            if line.lower() in QUIT:
                break
            event = self.event_for(line)
            if event is not None:
                self.show(await self.engine.handle(self.key, event))
        self.print(await self.goodbye())

    async def goodbye(self) -> str:
        """The last line, in the person's /language choice (a terminal gives no language hint of its own)."""
        chosen = await self.engine.storage.get_language(self.key)
        return lang(person_language(chosen, None))._(BYE)

    def event_for(self, line: str) -> Event | None:
        if not line:
            return None
        if line.isdigit() and 1 <= int(line) <= len(self.buttons):
            return Press(self.buttons[int(line) - 1].data)
        if line.startswith("/") and len(line) > 1:
            name, _, arg = line[1:].partition(" ")
            if name == "start":
                return Start(arg.strip() or None)
            return Command(name, arg.strip() or None)
        return Text()

    def show(self, outcome: Outcome) -> None:
        self.buttons = []
        for reply in outcome.replies:
            if isinstance(reply, Edit):
                self.print(f"  ✔ {reply.chosen}\n")
                if not reply.text:
                    continue
            self.print(self.renderer.render(reply.text))
            for row in reply.buttons:
                for button in row:
                    if button.url:
                        self.print(f"  {button.label}: {button.url}")
                    else:
                        self.buttons.append(button)
                        self.print(f"  {len(self.buttons)}) {button.label}")
            self.print("")

    def print(self, text: str) -> None:
        try:
            self.out.write(text + "\n")
            self.out.flush()
        except BrokenPipeError:
            # The reader went away (`optout-bot chat | head`): stop quietly, like other Unix tools.
            raise SystemExit(0) from None
