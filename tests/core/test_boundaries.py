"""The core stays platform-free: nothing under bot/ imports telegram or discord."""

import ast
import subprocess
import sys

from tests.conftest import ROOT


def test_no_module_in_bot_imports_a_platform_library() -> None:
    offenders = []
    for path in (ROOT / "bot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in ("telegram", "discord")]
    assert offenders == []


def test_importing_the_whole_core_loads_no_platform_library() -> None:
    modules = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for p in (ROOT / "bot").rglob("*.py")
        if p.name != "__main__.py"
    )
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m.removesuffix('.__init__'))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('telegram', 'discord')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_no_module_is_named_after_a_library() -> None:
    shadows = {"telegram", "discord", "aiosqlite", "pydantic", "yaml", "aiohttp", "prometheus_client"}
    for folder in ("bench", "bot", "adapters", "tests"):
        for path in (ROOT / folder).rglob("*.py"):
            assert path.stem not in shadows, f"{path} would shadow the {path.stem} package when run as a script"
