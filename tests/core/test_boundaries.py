"""The core stays platform-free: nothing under bot/ imports telegram or discord, and only the root knows the adapters."""

import ast
import subprocess
import sys
from pathlib import Path

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
    shadows = {"telegram", "discord", "sqlite3", "pydantic", "yaml", "aiohttp", "prometheus_client"}
    for folder in ("bench", "bot", "adapters", "tests"):
        for path in (ROOT / folder).rglob("*.py"):
            assert path.stem not in shadows, f"{path} would shadow the {path.stem} package when run as a script"


# The import graph ---------------------------------------------------------------------------------
# Every import counts: at the top, inside functions and under TYPE_CHECKING, since each is a
# dependency a reader must know. Only project modules are followed; a library is a leaf.
ROOT_MODULE = "bot.compose"


def _module_file(name: str) -> Path | None:
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(name: str) -> set[str]:
    """Return every module ``name`` imports, its packages' ``__init__`` included."""
    path = _module_file(name)
    assert path is not None, name
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.add(module)
            # `from bot.storage import sqlite` imports a module, not a name.
            found.update(f"{module}.{a.name}" for a in node.names if _module_file(f"{module}.{a.name}"))
    with_parents = set()
    for module in found:
        parts = module.split(".")
        with_parents.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return with_parents


def _reachable(starts: tuple[str, ...]) -> dict[str, str]:
    """Map every module reachable from ``starts`` to the module that first imported it."""
    seen = {s: "(start)" for s in starts}
    todo = list(starts)
    while todo:
        name = todo.pop()
        for imported in _imports(name):
            if imported not in seen:
                seen[imported] = name
                if _module_file(imported) is not None:  # a project module: follow it
                    todo.append(imported)
    return seen


def _project_modules(folder: str) -> list[str]:
    return sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in (ROOT / folder).rglob("*.py")
    )


# The engine, the guide, and every module of the storage and reminder packages.
CORE = ("bot.engine", "bot.guide", *_project_modules("bot/storage"), *_project_modules("bot/reminders"))


def test_the_core_reaches_no_adapter_and_no_platform_library() -> None:
    reached = _reachable(CORE)
    assert {"bot.events", "bot.metrics", "sqlite3", "yaml"} <= reached.keys()  # it follows imports past the starts
    bad = {m: by for m, by in reached.items() if m.split(".")[0] in ("adapters", "telegram", "discord") or m == ROOT_MODULE}
    assert bad == {}, f"imported (module: by): {bad}"


def test_only_the_composition_root_knows_the_adapters() -> None:
    # Adapters import the core; in the core, only the root imports an adapter.
    knowing = [m for m in _project_modules("bot") if any(i.split(".")[0] == "adapters" for i in _imports(m))]
    assert knowing == [ROOT_MODULE]


def test_no_adapter_reaches_the_composition_root_or_another_adapter() -> None:
    for adapter in ("adapters.telegram", "adapters.discord", "adapters.console"):
        reached = _reachable((adapter,))
        assert ROOT_MODULE not in reached and "bot.cli" not in reached, adapter
        others = {m for m in reached if m.startswith("adapters.") and not m.startswith(adapter)}
        assert others == set(), f"{adapter} imports {others}"


def test_importing_the_core_in_a_fresh_interpreter_loads_no_adapter() -> None:
    code = (
        "import importlib, sys\n"
        f"for m in {CORE!r}: importlib.import_module(m)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('adapters', 'telegram', 'discord')"
        f" or m == {ROOT_MODULE!r}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


# No import circles inside an adapter ---------------------------------------------------------------
# A circle (even one kept only for type hints) means no module of it can be read, tested or moved
# alone. A package's __init__ is left out: importing any submodule runs it, which is Python's package
# mechanism rather than a dependency one module chose.
ADAPTERS = ("adapters.telegram", "adapters.discord", "adapters.web")


def _circle(graph: dict[str, set[str]]) -> list[str] | None:
    """Return one import circle of ``graph`` ({module: modules it imports}) as a path, or None."""
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> list[str] | None:
        if name in path:
            return [*path[path.index(name):], name]
        if name in done:
            return None
        for imported in sorted(graph.get(name, ())):
            found = visit(imported, [*path, name])
            if found:
                return found
        done.add(name)
        return None

    for start in sorted(graph):
        found = visit(start, [])
        if found:
            return found
    return None


def _graph_inside(package: str) -> dict[str, set[str]]:
    modules = [m for m in _project_modules(package.replace(".", "/")) if m != package]
    inside = set(modules)
    return {m: {i for i in _imports(m) if i in inside and i != m} for m in modules}


def test_the_circle_finder_finds_a_circle_of_four_and_accepts_a_tree() -> None:
    # The shape issue 19 found in adapters/discord: buttons -> platform -> commands -> handler -> buttons.
    four = {"buttons": {"platform", "render"}, "platform": {"commands", "handler"}, "commands": {"handler"},
            "handler": {"buttons", "render"}, "render": set()}
    assert _circle(four) == ["buttons", "platform", "commands", "handler", "buttons"]
    assert _circle({**four, "handler": {"render"}}) is None


def test_no_adapter_has_an_import_circle() -> None:
    for adapter in ADAPTERS:
        graph = _graph_inside(adapter)
        assert len(graph) >= 5, adapter  # the walk sees the adapter's modules
        assert _circle(graph) is None, f"{adapter}: import circle {' -> '.join(_circle(graph) or [])}"
