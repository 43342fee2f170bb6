"""Two `optout-bot run` processes on one PostgreSQL database, behind a webhook splitter, against the fake Bot API.

The server is a throwaway one the session starts (tests/postgres_server.py); without server binaries
these tests skip with one line.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from bot import texts
from bot.i18n import LANGUAGES
from bot.storage import open_backend
from tests.fakes.telegram_api import FakeBotAPI
from tests.ops.instances import SECRET, Instance, Splitter, instances, subscribed_to_a_deadline

pytestmark = pytest.mark.timeout(170)


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as api:
        yield api


async def _user_row(url: str, user_id: int) -> tuple[int, dict[str, str]] | None:
    con = await asyncpg.connect(url)
    try:
        row = await con.fetchrow("SELECT step, answers FROM users WHERE platform = 'telegram' AND user_id = $1",
                                 str(user_id))
    finally:
        await con.close()
    return (row["step"], json.loads(row["answers"])) if row else None


async def test_one_press_reaching_both_instances_at_once_moves_the_user_once(
        fake: FakeBotAPI, splitter: Splitter, started: list[Instance], postgres_url: str, tmp_path: Path) -> None:
    one, two = instances(fake, tmp_path, postgres_url, splitter)
    started += [one, two]
    await asyncio.gather(one.start(), two.start())
    # Both started at once, and one of them ran the start-up retention sweep.
    for bot in (one, two):
        await bot.wait_output("the retention sweep or its skip", lambda b=bot: "retention: " in b.output)
    sweeps = sorted(b.output.count("retention: deleted 0 user(s)") for b in (one, two))
    assert sweeps == [0, 1] and "another instance holds today's sweep" in one.output + two.output
    user = fake.user(8_100_001)
    await user.send("/start")
    plan = await user.pop_message()
    await user.press("Help me decide")  # the pressed message becomes the next step
    await fake.wait_for(lambda: "Free" in plan.labels, 10, "the plan question")
    step, answers = await _user_row(postgres_url, user.id)
    assert answers == {}

    # A double tap: two updates of one press, one to each instance, at the same moment.
    data = plan.button("Free")["callback_data"]
    (q1, u1), (q2, u2) = fake.callback_update(user, plan, data), fake.callback_update(user, plan, data)
    statuses = await asyncio.gather(fake.post_update(one.hook, u1, SECRET), fake.post_update(two.hook, u2, SECRET))
    assert statuses == [200, 200]
    await user.wait_answered(q1)
    await user.wait_answered(q2)

    assert await _user_row(postgres_url, user.id) == (step + 1, {"plan": "free"})  # exactly one transition
    toasts = sorted([q1.answer_text or "", q2.answer_text or ""])
    assert toasts[0] == "" and toasts[1].startswith(texts.STALE_BUTTON[:40])  # the other press is refused
    await fake.wait_for(lambda: len(user.pending()) >= 2, 10, "the notice and the current step")
    await asyncio.sleep(0.5)  # anything more either instance would send lands now
    # The winner turned the question into the next step once; the loser explained and showed it again.
    assert plan.edits == 2 and plan.text == "✅ Free\n\nDo you use Claude Code?"
    assert [m.text for m in user.pending()] == [texts.STALE_BUTTON, "Do you use Claude Code?"]


async def test_sigkill_of_one_instance_during_a_broadcast_loses_none(
        fake: FakeBotAPI, splitter: Splitter, started: list[Instance], postgres_url: str, tmp_path: Path) -> None:
    # Real processes, real time and a real SIGKILL at Telegram's own rate, so 150 reminders:
    # enough that the kill lands mid-broadcast.
    n = 150
    ids = [9_000_000 + i for i in range(n)]
    guide_path = await subscribed_to_a_deadline(fake, postgres_url, tmp_path, ids, due_in_s=3)
    # A short lease: the killed instance's claimed reminders go out from the other 3 s on.
    one, two = instances(fake, tmp_path, postgres_url, splitter, guide=guide_path, REMINDER_LEASE_SECONDS="3")
    started += [one, two]
    due = one.t0 + 3.0  # the reminders' due time on the test's clock
    await asyncio.gather(one.start(), two.start())

    await fake.wait_for(lambda: len(fake.sent_at) >= 40, within=60, what="40 reminders delivered")
    await one.kill()
    before_kill = len(fake.sent_at)
    assert before_kill < n, "the kill came too late to test anything"

    await fake.wait_for(lambda: all(fake.chats[uid] for uid in ids), within=100, what="every user reached")
    await asyncio.sleep(1)  # anything still in flight would land now
    per_chat = Counter(chat for _, chat in fake.sent_at)
    assert set(per_chat) == set(ids)  # no loss
    assert sum(c - 1 for c in per_chat.values()) <= 1  # at most one repeat, from the message in flight at the kill
    assert min(t for t, _ in fake.sent_at) >= due  # none before its time
    storage = await open_backend(postgres_url)
    try:
        assert await storage.counts() == {"sent": n}
    finally:
        await storage.close()
    assert await two.stop() == 0


async def test_webhook_updates_split_over_two_instances_are_each_handled_once(
        fake: FakeBotAPI, splitter: Splitter, started: list[Instance], postgres_url: str, tmp_path: Path) -> None:
    one, two = instances(fake, tmp_path, postgres_url, splitter)
    started += [one, two]
    await asyncio.gather(one.start(), two.start())
    # Both set the same webhook and menu at start: repeating either changes nothing, and neither drops
    # the updates waiting for the other.
    hooks = [p for m, p in fake.requests if m == "setWebhook"]
    assert len(hooks) == 2 and {(h["url"], h["secret_token"]) for h in hooks} == {(splitter.url, SECRET)}
    assert not any(str(h.get("drop_pending_updates", "")).lower() in ("true", "1") for h in hooks)
    assert fake.calls["setMyCommands"] == 2 * len(LANGUAGES) and fake.commands  # one menu per language each

    # Telegram (the fake) posts every update to the one public URL; the splitter alternates instances.
    users = [fake.user(8_200_000 + i) for i in range(6)]
    for user in users:
        await user.send("/start")
    for user in users:
        assert (await user.pop_message()).labels[0] == "Help me decide"
    for user in users:
        await user.press("Help me decide")  # waits for the answer to the press
    for user in users:
        await fake.wait_for(lambda u=user: u.bot_messages[-1].text.endswith("Which plan do you use?"), 10, "the plan question")
    assert set(splitter.routed) == {0, 1} and len(splitter.routed) == 12

    # A retry that lands on the other instance: one update, one update_id, posted to both at once.
    user = users[0]
    _, update = fake.message_update(user, user.chat_json, "/start")
    assert await asyncio.gather(fake.post_update(one.hook, update, SECRET),
                                fake.post_update(two.hook, update, SECRET)) == [200, 200]
    assert (await user.pop_message()).labels[0] == "Help me decide"
    skipped = f"update {update['update_id']} was already handled by another instance; skipped"
    await fake.wait_for(lambda: skipped in one.output + two.output, 10, "the other instance to skip the update")
    await asyncio.sleep(0.5)  # a second answer would land now
    assert user.pending() == []
    assert (one.output + two.output).count(skipped) == 1
    assert [await bot.stop() for bot in (one, two)] == [0, 0]
