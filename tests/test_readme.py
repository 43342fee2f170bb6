"""The README shows what the code does: its diagram is the shipped guide's, its commands exist."""

import re

from bot.content_check import mermaid
from bot.guide import load_guide
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_diagram_is_the_shipped_guide() -> None:
    block = re.search(r"<!-- diagram:start -->\n```mermaid\n(.*?)\n```\n<!-- diagram:end -->", README, re.S)
    assert block, "README has no diagram block"
    assert block.group(1) == mermaid(load_guide()), "README diagram is stale: paste `optout-bot content diagram`"


def test_ci_runs_the_readme_test_command() -> None:
    command = "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/python -m pytest"
    assert command in README
    assert command in (ROOT / ".ci" / "run").read_text()
