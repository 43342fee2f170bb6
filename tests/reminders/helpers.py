"""Reminder test helpers: a recording fake Platform, waits with deadlines, guides with deadlines near "now"."""

from __future__ import annotations

import asyncio
import inspect
import shutil
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from bot.guide import DEFAULT_CONTENT_PATH, Guide, load_guide
from bot.platform import Delivery, Outgoing

MINI_GUIDE = Path(__file__).resolve().parents[1] / "fixtures" / "mini.yaml"

# Noon UTC on 1 September 2025: before both deadlines of tests/fixtures/mini.yaml.
EARLY = datetime(2025, 9, 1, 12, 0, tzinfo=UTC)


class FakePlatform:
    """Records every send; a recipient whose id is in ``blocked`` is unreachable, one in ``flaky`` fails."""

    def __init__(self, name: str = "telegram") -> None:
        self.name = name
        self.sent: list[Outgoing] = []
        self.attempts: list[str] = []
        self.blocked: set[str] = set()
        self.flaky: set[str] = set()
        self.delay = 0.0  # seconds each send takes, like a network round trip

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def ready(self) -> bool:
        return True

    async def send(self, message: Outgoing) -> Delivery:
        target = message.recipient.id
        self.attempts.append(target)
        if self.delay:
            await asyncio.sleep(self.delay)
        if target in self.blocked:
            return Delivery.UNREACHABLE
        if target in self.flaky:
            return Delivery.FAILED
        self.sent.append(message)
        return Delivery.SENT

    def to(self, target: str) -> list[str]:
        """The texts sent to the recipient with this id, in order."""
        return [r.text for m in self.sent if m.recipient.id == target for r in m.replies]


async def eventually(check: Callable[[], object], within: float = 5.0) -> None:
    """Wait until ``check()`` (or the awaitable it returns) is truthy, failing after ``within`` seconds.

    The scheduler works on the database thread, so a clock move takes effect a little later.
    """
    deadline = time.monotonic() + within
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


async def settle(rounds: int = 30) -> None:
    """Give the scheduler time to act on a clock move, so a test can assert that nothing was sent."""
    for _ in range(rounds):
        await asyncio.sleep(0.01)


def write_guide(path: Path, deadlines: Iterable[tuple[str, datetime, list[str]]], *, version: str = "rem-1",
                entries: dict[str, str] | None = None) -> Guide:
    """Write tests/fixtures/mini.yaml with these deadlines (id, at, ISO offsets) and load it."""
    raw = yaml.safe_load(MINI_GUIDE.read_text(encoding="utf-8"))
    raw["version"] = version
    raw["deadlines"] = [
        {"id": d, "at": at.isoformat(), "label": f"the {d} deadline", "offsets": offsets} for d, at, offsets in deadlines
    ]
    # The mini guide's texts name `final`; keep them valid whatever deadlines a test uses.
    for node in raw["nodes"]:
        for block in node["blocks"]:
            block.pop("when", None)
            block["text"] = block["text"].replace("{deadline.final.left}", "some time").replace(
                "{deadline.final.date}", "a date")
    if entries:
        raw["entries"].update(entries)
        if "troubleshoot" in entries:
            raw["troubleshoot_entry"] = "troubleshoot"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return load_guide(path)




def days(n: float) -> timedelta:
    return timedelta(days=n)


# Change alerts on the shipped packs --------------------------------------------------------------
NOTE = "Reportedly, the switch now sits under Settings > Data Controls > Improve the model for everyone."


def copy_content(tmp_path: Path) -> Path:
    """The shipped packs and fact sheets, in a folder a maintainer can edit; returns Claude's pack."""
    content = tmp_path / "content"
    shutil.copytree(DEFAULT_CONTENT_PATH.parent, content)
    return content / "claude.yaml"


def bump(content: Path, pack: str = "chatgpt", version: str = "2026.12.1") -> None:
    """What a maintainer does: bump the pack's version and add a sourced note for it."""
    path = content.parent / f"{pack}.yaml"
    text = path.read_text(encoding="utf-8")
    old = next(line for line in text.splitlines() if line.startswith("version:"))
    text = text.replace(old, f'version: "{version}"', 1)
    text += f'\n# facts: CG1\nchanges:\n  version: "{version}"\n  text: "{NOTE}"\n  sources: [data-controls]\n'
    path.write_text(text, encoding="utf-8")


def write_pack(path: Path, version: str, note_version: str | None = None) -> Guide:
    """The mini guide as another assistant's pack (named after the file, no deadlines), with a changes note."""
    raw = yaml.safe_load(MINI_GUIDE.read_text(encoding="utf-8"))
    raw.pop("pack")
    raw["title"], raw["version"], raw["deadlines"] = "Other bot", version, []
    for node in raw["nodes"]:
        for block in node["blocks"]:
            block.pop("when", None)
            block["text"] = block["text"].replace("{deadline.final.left}", "some time").replace(
                "{deadline.final.date}", "a date")
    if note_version:
        raw["changes"] = {"version": note_version, "text": NOTE, "sources": ["news"]}
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return load_guide(path)
