"""Every path through the shipped guide, enumerated from its graph, walked through the engine to a result."""

from __future__ import annotations

from bot.clock import ManualClock
from bot.content_check import check_guide, guide_paths
from bot.engine import Engine
from bot.events import Press, Start, UserKey
from bot.guide import ResultNode, load_guide
from bot.storage import open_storage
from tests.conftest import AFTER

SETTINGS_LINK = "https://claude.ai/settings/data-privacy-controls"


def test_no_node_of_the_shipped_guide_strands_a_user() -> None:
    # check_guide reports any reachable node from which no result can be reached (a dead end or a
    # cycle with no way out), so a path added without a result fails here.
    assert check_guide(load_guide()) == []


async def test_every_path_reaches_its_result_through_the_engine(tmp_path) -> None:
    guide = load_guide()
    paths = guide_paths(guide)
    assert len(paths) > 1000  # the enumeration really walks the graph
    storage = await open_storage(tmp_path / "paths.db")
    engine = Engine(guide, storage, ManualClock(AFTER))
    try:
        for number, path in enumerate(paths):
            key = UserKey("telegram", str(number))
            outcome = await engine.handle(key, Start())
            for node_id, option_id in path.presses:
                wanted = f":{option_id}" if option_id else ""
                data = next(
                    b.data
                    for r in outcome.replies
                    for row in r.buttons
                    for b in row
                    if b.data.startswith(("o:", "n:")) and b.data.endswith(wanted)
                )
                outcome = await engine.handle(key, Press(data))
                assert not outcome.replies[0].notice, f"path {number}: refused at {node_id}"
            state = await storage.get_user(key, guide.pack)
            assert state.node == path.result and isinstance(guide.node(state.node), ResultNode)
            assert state.answers == path.answers
            assert SETTINGS_LINK in outcome.replies[-1].text, f"path {number}: result without the steps"
    finally:
        await storage.close()
