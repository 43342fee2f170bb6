"""Contract: the SourceSnapshots port (the content watch's last read of each guide source), on every backend."""

from __future__ import annotations

from datetime import timedelta

from bot.storage import Storage, open_backend
from bot.storage.base import SourceSnapshot
from tests.storage.conftest import T0

TEXT = "Data Controls FAQ\nSwitch off “Improve the model for everyone” — it applies from then on.\n" + "x" * 100_000


async def test_a_snapshot_reads_back_as_stored_and_is_replaced_per_pack_and_source(backend: Storage) -> None:
    assert await backend.get_snapshot("chatgpt", "data-controls") is None
    first = SourceSnapshot("chatgpt", "data-controls", "https://help.example/faq", TEXT, T0, '"v1"',
                           "Tue, 01 Dec 2026 10:00:00 GMT")
    await backend.put_snapshot(first)
    other_pack = SourceSnapshot("gemini", "data-controls", "https://other.example/", "Other text", T0)
    await backend.put_snapshot(other_pack)
    assert await backend.get_snapshot("chatgpt", "data-controls") == first
    assert await backend.get_snapshot("gemini", "data-controls") == other_pack
    assert await backend.get_snapshot("chatgpt", "temporary-chat") is None

    later = SourceSnapshot("chatgpt", "data-controls", "https://help.example/faq/", "New text", T0 + timedelta(days=1))
    await backend.put_snapshot(later)
    got = await backend.get_snapshot("chatgpt", "data-controls")
    assert got == later and got.etag is None and got.last_modified is None
    assert got.fetched_at.utcoffset() == timedelta(0)
    assert await backend.get_snapshot("gemini", "data-controls") == other_pack


async def test_snapshots_outlive_a_restart(backend: Storage, backend_url: str) -> None:
    await backend.put_snapshot(SourceSnapshot("claude", "news", "https://example.org/news", "Text", T0, "W/\"e\""))
    if backend_url == "memory://":
        return  # nothing survives the process by design
    await backend.close()
    again = await open_backend(backend_url)
    try:
        assert await again.get_snapshot("claude", "news") == SourceSnapshot(
            "claude", "news", "https://example.org/news", "Text", T0, "W/\"e\"")
    finally:
        await again.close()
