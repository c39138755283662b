"""The layout rules of DESIGN.md, checked on the source: import direction, no import cycles,
small modules, a small ``bot/`` root."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "knowledge")
MAX_LINES = 450
MAX_ROOT_MODULES = 10
SLACK = ("slack_bolt", "slack_sdk")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
    }


MODULES = _modules()


def _imports(path: Path, *, top_level_only: bool) -> Iterator[str]:
    """Modules ``path`` imports (at module level only, if asked: lazy imports inside
    functions are how a module defers a heavy dependency, and cannot form a load cycle)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.If):  # `if TYPE_CHECKING:` blocks never run
            continue
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def _project(name: str) -> str | None:
    """The project module an import name refers to (a submodule, or the module of a name)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _importers_of(prefixes: tuple[str, ...]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        for name in _imports(path, top_level_only=False):
            if name.startswith(prefixes):
                found.setdefault(module, set()).add(name)
    return found


def _under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_only_wiring_imports_handlers() -> None:
    """No module of bot/ or knowledge/ but the composition root imports handlers."""
    offenders = {
        module
        for module, names in _importers_of(("handlers",)).items()
        if not _under(module, "handlers") and module != "bot.runtime.wiring" and names
    }
    assert not offenders


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("bot.probe", (*SLACK, "knowledge", "handlers")),
        ("bot.checks", (*SLACK, "handlers")),
        ("bot.conversation", (*SLACK, "handlers")),
        ("bot.helpdesk", (*SLACK, "handlers")),
        ("bot.store", (*SLACK, "handlers", "knowledge")),
        ("knowledge", (*SLACK, "bot.probe", "handlers")),
    ],
)
def test_import_direction(package: str, forbidden: tuple[str, ...]) -> None:
    """Each package imports only what DESIGN.md's direction of imports allows."""
    offenders = {
        module: sorted(names)
        for module, names in _importers_of(forbidden).items()
        if _under(module, package)
    }
    assert not offenders


def test_no_module_level_import_cycle() -> None:
    """Module-level imports between project modules form no cycle."""
    graph = {
        module: {
            target
            for name in _imports(path, top_level_only=True)
            if (target := _project(name)) is not None and target != module
        }
        for module, path in MODULES.items()
    }
    # A package's own __init__ importing its submodules (a facade) is not a cycle with
    # them: Python loads the package first, so drop submodule -> own-package edges.
    for module, targets in graph.items():
        targets -= {t for t in targets if _under(module, t) and t != module}
    done: set[str] = set()

    def visit(module: str, trail: list[str]) -> None:
        if module in trail:
            cycle = [*trail[trail.index(module) :], module]
            raise AssertionError("import cycle: " + " -> ".join(cycle))
        if module in done:
            return
        for target in sorted(graph[module]):
            visit(target, [*trail, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


def test_modules_stay_small() -> None:
    """No module over ~450 lines."""
    large = {
        module: lines
        for module, path in MODULES.items()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert not large


def test_bot_root_is_small() -> None:
    """``bot/`` keeps at most ten modules at its root; the rest lives in packages."""
    root = [path.name for path in (ROOT / "bot").glob("*.py")]
    assert len(root) <= MAX_ROOT_MODULES, root
